package gossiper

// UnreachableError is what a Transport's ReadFrom returns when the network
// reported that a datagram it sent found no socket at To: the peer's
// process has not bound its port yet, or has gone (ICMP port unreachable).
type UnreachableError struct{ To string }

func (e *UnreachableError) Error() string { return "port unreachable: " + e.To }
