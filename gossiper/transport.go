package gossiper

// Transport moves datagrams between peers, addressed as "ip:port".
type Transport interface {
	// ReadFrom blocks until a datagram arrives, copies it into b and says
	// who sent it. After Close it returns net.ErrClosed.
	ReadFrom(b []byte) (n int, from string, err error)
	// WriteTo sends b to the peer at to.
	WriteTo(b []byte, to string) error
	// Addr is the address peers reach this transport at.
	Addr() string
	Close() error
}
