package gossiper

// Bounds on what hostile input can make a node keep. Together with the caps
// on text and name sizes and the memory budget below, they bound a node's
// memory whatever arrives; see the README's "Limits".
const (
	// MaxOrigins caps the origins a node keeps history for (origins.go).
	MaxOrigins = 1024
	// MaxStatusEntries caps the origins a status may carry.
	MaxStatusEntries = MaxOrigins
	// maxSimpleRemembered caps the simple messages remembered for the
	// once-a-minute forwarding rule.
	maxSimpleRemembered = 10000
	// maxStatusBytes keeps a status inside one datagram however long the
	// origins' names are, with room for its proof.
	maxStatusBytes = 60000
)

// DefaultMemoryBudget is the resident memory a node aims to stay under
// (-maxMemory), and MinMemoryBudget the least it can be given: below it the
// fixed costs of the runtime, the sockets' buffers and the page leave the
// history too little room.
const (
	DefaultMemoryBudget = 256 << 20
	MinMemoryBudget     = 64 << 20
)

// budgets divide a node's memory budget between what it keeps of what
// strangers send. What is left (a little over half) covers the Go runtime
// and its garbage collector's headroom, the structures bounded by count
// (peers, origins, timers, remembered simple messages, budgets by address),
// and the web page's requests (web.MaxConns pages at most).
type budgets struct {
	texts   int // the origins' texts, to send to peers (origins.go)
	log     int // the chat log the user reads (log.go)
	window  int // rumors that arrived early (window.go)
	private int // private messages kept for the user (private.go)
	held    int // posts waiting for the node's own old messages (recovery.go)
	simple  int // simple messages kept for resending (simple.go)
	inbound int // datagrams read but not handled yet (inqueue.go)
}

func budgetsFor(memory int64) budgets {
	if memory <= 0 {
		memory = DefaultMemoryBudget
	}
	m := int(memory)
	return budgets{
		texts:   m / 8,
		log:     m / 8,
		window:  min(maxWindowBytes, m/32),
		private: min(maxPrivateBytes, m/32),
		held:    m / 64,
		simple:  m / 64,
		inbound: min(8<<20, m/32),
	}
}
