package gossiper

import (
	"bytes"
	"crypto/sha256"
	"slices"
	"strings"
	"time"

	"github.com/peerster/Peerster/messages"
)

// File transfer, as the protocol's file-sharing step fixes it: a node asks
// another, by name, for the bytes of a hash (a file's metafile, or one of
// its chunks) with a DataRequest, and gets them in a DataReply. Both travel
// hop by hop like private messages. This file serves and forwards them;
// download.go asks and puts files together. The bytes themselves live on
// disk (package files): the Core decides, and the runtime reads and writes.

// maxSharedFiles caps the files whose hashes a node answers for; the files
// package refuses to share more.
const maxSharedFiles = 4096

// Hash is a SHA-256, the only hash the protocol uses.
type Hash [sha256.Size]byte

// SharedFile is a file this node shares: its name, its metahash, its
// metafile (the chunk hashes), its size in bytes, and whether this node
// downloaded it (else its user shared it).
type SharedFile struct {
	Name       string
	MetaHash   Hash
	Metafile   []byte
	Size       int64
	Downloaded bool
}

// Serve is a data reply to send once the runtime has read its Data from the
// files: Size bytes of the hash asked for, none when this node does not
// hold it. The Core has charged the budgets for Size.
type Serve struct {
	// From is the address the request came from.
	From  string
	To    string
	Reply *messages.DataReply
	Size  int
}

// ShareFile makes this node answer requests for f's metafile and chunks.
func (c *Core) ShareFile(f SharedFile) {
	if c.shared == nil {
		c.shared = map[Hash]int{}
		c.sharedFiles = map[Hash]SharedFile{}
	}
	if _, known := c.sharedFiles[f.MetaHash]; !known && len(c.sharedFiles) >= maxSharedFiles {
		return
	}
	c.sharedFiles[f.MetaHash] = f
	if d := c.downloads[f.MetaHash]; d != nil && d.state == downloadCompleting {
		d.state = DownloadDone
	}
	c.shared[f.MetaHash] = len(f.Metafile)
	left := f.Size
	for i := 0; i+sha256.Size <= len(f.Metafile); i += sha256.Size {
		var h Hash
		copy(h[:], f.Metafile[i:])
		c.shared[h] = int(min(left, chunkSize))
		left -= chunkSize
	}
}

// SharedFiles returns the files this node shares, by name.
func (c *Core) SharedFiles() []SharedFile {
	fs := make([]SharedFile, 0, len(c.sharedFiles))
	for _, f := range c.sharedFiles {
		fs = append(fs, f)
	}
	slices.SortFunc(fs, func(a, b SharedFile) int { return strings.Compare(a.Name, b.Name) })
	return fs
}

// chunkSize is the protocol's: every chunk of a file but the last has
// these many bytes.
const chunkSize = 8192

func (c *Core) onDataRequest(from string, q *messages.DataRequest, now time.Time) {
	if err := messages.ValidateDataRequest(q); err != nil {
		c.drop("bad-data-request")
		return
	}
	c.learn(from)
	if q.Origin == c.name && q.Destination == c.name {
		c.takeProbe(from, q, now)
		return
	}
	if q.Destination != c.name {
		fwd := *q
		if c.forward(q.Destination, q.HopLimit, &fwd.HopLimit, &messages.GossipPacket{DataRequest: &fwd}, now) {
			c.stats.DataForwarded++
		}
		return
	}
	var h Hash
	copy(h[:], q.HashValue)
	// A node that has just started may have no route back yet: the reply
	// goes back the way the request came.
	hop, ok := c.routes[q.Origin]
	if !ok {
		hop = from
	}
	reply := &messages.DataReply{Origin: c.name, Destination: q.Origin, HopLimit: messages.DefaultHopLimit, HashValue: bytes.Clone(q.HashValue)}
	// Size 0: not held, and the reply says so with no data.
	c.serveReply(Serve{From: from, To: hop, Reply: reply, Size: c.shared[h]}, now)
}

// serveReply sends s if it fits the budgets of the address that asked
// (whoever forges the name a reply goes to pays for it as if it were sent
// to it) and of the address it goes to; else it keeps it for the address
// that fell short and probes that address (probe.go).
func (c *Core) serveReply(s Serve, now time.Time) {
	wire := messages.EmbeddedSize(messages.DataReplySize(s.Reply, s.Size))
	charged := []string{s.From}
	if s.To != s.From {
		charged = append(charged, s.To)
	}
	var unproven []string
	for _, addr := range charged {
		if c.cfg.UnprovenBytesPerSecond > 0 && !c.proven(addr) {
			if !c.affordsBytes(addr, wire, now) {
				c.stats.Refused++
				c.keepServe(addr, s, now)
				c.probeAddress(addr, now)
				return
			}
			unproven = append(unproven, addr)
		}
	}
	for _, addr := range unproven {
		c.spendBytes(addr, wire, now)
	}
	c.stats.PacketsOut++
	c.stats.DataServed++
	c.out.Serve = append(c.out.Serve, s)
}

func (c *Core) onDataReply(from string, r *messages.DataReply, now time.Time) {
	if err := messages.ValidateDataReply(r); err != nil {
		c.drop("bad-data-reply")
		return
	}
	c.learn(from)
	if r.Destination != c.name {
		fwd := *r
		if c.forward(r.Destination, r.HopLimit, &fwd.HopLimit, &messages.GossipPacket{DataReply: &fwd}, now) {
			c.stats.DataForwarded++
		}
		return
	}
	c.takeReply(r, now)
}
