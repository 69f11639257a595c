package gossiper

// Bounds on what hostile input can make a node keep. Together with the caps
// on text and name sizes they bound a node's memory whatever arrives; see
// the README's "Limits".
const (
	// MaxOrigins caps the origins a node keeps history for; rumors of
	// further origins are dropped.
	MaxOrigins = 1024
	// MaxStatusEntries caps the origins a status may carry.
	MaxStatusEntries = MaxOrigins
	// maxSources caps the per-source rate limiters kept at once.
	maxSources = 4096
	// maxSimpleRemembered caps the simple messages remembered for the
	// once-a-minute forwarding rule.
	maxSimpleRemembered = 10000
	// maxStatusBytes keeps a status inside one datagram however long the
	// origins' names are.
	maxStatusBytes = 60000
)
