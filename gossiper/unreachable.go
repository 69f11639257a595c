package gossiper

import "strings"

// UnreachableError is what a Transport returns when the network reported
// that datagrams it sent found no socket at the addresses To: the peers'
// processes have not bound their ports yet, or have gone (ICMP port
// unreachable). ReadFrom returns it instead of a datagram; WriteTo returns
// it when the datagram it was given did go, to report earlier ones.
type UnreachableError struct{ To []string }

func (e *UnreachableError) Error() string {
	return "port unreachable: " + strings.Join(e.To, ", ")
}
