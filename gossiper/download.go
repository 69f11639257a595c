package gossiper

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/peerster/Peerster/internal/stdoutline"
	"github.com/peerster/Peerster/messages"
)

// A download asks one node for a file's metafile, then for its chunks, a
// window of them at a time, and hands every verified reply to the runtime
// to write. Many requests in flight keep the link busy where one per round
// trip would wait on each; the window bounds what a download asks of the
// network at once. A request whose reply does not come is sent again after
// the protocol's 5 s; once the transfer has shown loss (a reply overtook an
// earlier request, or a request timed out), after an estimate of the round
// trip instead, as TCP does, so that a lossy link costs round trips, not
// seconds.
//
// Before any round trip is measured (the metafile, or a download resumed
// or started before the route came), a request waits firstDataRTO: at 30%
// loss on each of 3 hops, a request and its reply both get through one try
// in 8.5, and at 5 s a try most downloads would give up before the
// metafile came. A reply to a request sent more than once cannot be timed
// (Karn), so each such reply doubles the wait instead, up to 5 s: a path
// slower than the wait does not keep every request sent twice.
const (
	downloadWindow     = 32
	dataRequestTimeout = 5 * time.Second
	firstDataRTO       = 500 * time.Millisecond
	minDataRTO         = 100 * time.Millisecond
	// overtakes is how many replies to later requests make an earlier one
	// count as lost.
	overtakes = 3
	// stallTimeout fails a download that has taken no reply for so long.
	stallTimeout = 30 * time.Second
	// maxDownloads caps the downloads going on at once.
	maxDownloads = 64
)

// Download states, as the API shows them.
const (
	DownloadMetafile = "metafile" // waiting for the metafile
	DownloadChunks   = "chunks"   // getting the chunks
	DownloadDone     = "done"
	DownloadFailed   = "failed"
	// downloadCompleting: every chunk came, and the runtime puts the file
	// together; the API shows it as getting the chunks until the file is
	// whole on disk and shared (ShareFile), so that "done" means it is.
	downloadCompleting = "completing"
)

// running says whether d is going on: not done, not failed.
func (d *download) running() bool {
	return d.state == DownloadMetafile || d.state == DownloadChunks || d.state == downloadCompleting
}

// ErrDownloading is what StartDownload returns for a file already being
// downloaded.
var ErrDownloading = errors.New("already downloading")

// ErrTooManyDownloads is what StartDownload returns while maxDownloads go on.
var ErrTooManyDownloads = errors.New("too many downloads")

// DownloadInfo is what a download has done, for its user.
type DownloadInfo struct {
	Name     string
	Dest     string
	MetaHash Hash
	State    string
	// Chunks is how many the file has (0 until the metafile came), Have
	// how many arrived, Bytes what they weigh.
	Chunks, Have int
	Bytes        int64
	Started      time.Time
	Updated      time.Time
	// Error says why it failed; Warning what went wrong on the way (a
	// reply that did not match its hash).
	Error, Warning string
}

// FileWrite is what the runtime writes for a download: the metafile
// (Index -1) or a chunk, after the Core checked its hash. After the last
// chunk's, Done asks it to put the file together under Name and then print
// Line.
type FileWrite struct {
	MetaHash Hash
	Index    int
	Data     []byte
	Done     bool
	Name     string
	Line     string
}

type download struct {
	meta       Hash
	key        string // the metahash in hex, the key of its timer
	name, dest string
	hashes     []Hash // nil until the metafile
	have       []bool
	held       int
	bytes      int64
	// asks are the requests waiting for a reply, by chunk index (-1: the
	// metafile); next is the first chunk never asked.
	asks   map[int]*dataAsk
	next   int
	sent   int // requests sent, to order them
	srtt   time.Duration
	rttvar time.Duration
	// unrouted tells that a request found no route to dest: a download
	// resumed at start, before the first route rumor came.
	unrouted bool
	// unmeasured is the wait of a request while no round trip is measured.
	unmeasured time.Duration
	measured   bool
	lossy      bool
	seq        uint64 // of its timer
	// progress is when a reply last brought something new.
	started, progress, updated time.Time
	state, err, warning        string
}

type dataAsk struct {
	at    time.Time
	order int
	tries int
}

// StartDownload asks dest for the file of metahash meta, to save as name,
// and returns what to do. The name is the runtime's to check (it writes
// the file).
func (c *Core) StartDownload(name, dest string, meta Hash, now time.Time) (Output, error) {
	if err := c.mayDownload(dest, meta); err != nil {
		return Output{}, err
	}
	d := c.addDownload(name, dest, meta, now)
	c.askMore(d, now)
	return c.take(), nil
}

// ResumeDownload takes up a download an earlier run left: its metafile,
// if it came, and the chunks it has.
func (c *Core) ResumeDownload(name, dest string, meta Hash, metafile []byte, have []bool, now time.Time) (Output, error) {
	// A route may come later: the download waits for it.
	if err := c.mayDownload(dest, meta); err != nil && !errors.Is(err, ErrNoRoute) {
		return Output{}, err
	}
	d := c.addDownload(name, dest, meta, now)
	if hashes, err := chunkHashes(metafile); err == nil {
		d.setMetafile(hashes)
		for i, ok := range have {
			if ok && i < len(d.have) && !d.have[i] {
				d.have[i] = true
				d.held++
			}
		}
	}
	c.askMore(d, now)
	return c.take(), nil
}

func (c *Core) mayDownload(dest string, meta Hash) error {
	if err := messages.ValidateName(dest); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	if dest == c.name {
		return fmt.Errorf("%q is this node's own name: its files are here already", dest)
	}
	if d := c.downloads[meta]; d != nil && d.running() {
		return fmt.Errorf("%w %s as %q", ErrDownloading, hex.EncodeToString(meta[:]), d.name)
	}
	active := 0
	for _, d := range c.downloads {
		if d.running() {
			active++
		}
	}
	if active >= maxDownloads {
		return fmt.Errorf("%w: %d downloads are going on already: wait for one to end", ErrTooManyDownloads, active)
	}
	if _, ok := c.routes[dest]; !ok {
		return fmt.Errorf("%w to %q: this node has not heard from it yet", ErrNoRoute, dest)
	}
	return nil
}

func (c *Core) addDownload(name, dest string, meta Hash, now time.Time) *download {
	if c.downloads == nil {
		c.downloads = map[Hash]*download{}
	}
	c.forgetDownloads()
	d := &download{meta: meta, key: hex.EncodeToString(meta[:]), name: name, dest: dest,
		asks: map[int]*dataAsk{}, unmeasured: firstDataRTO, started: now, progress: now, updated: now, state: DownloadMetafile}
	c.downloads[meta] = d
	return d
}

// forgetDownloads drops the oldest ended downloads past twice the number
// that may go on, so that what is kept for the user stays bounded.
func (c *Core) forgetDownloads() {
	for len(c.downloads) >= 2*maxDownloads {
		var oldest *download
		for _, d := range c.downloads {
			if (d.state == DownloadDone || d.state == DownloadFailed) && (oldest == nil || d.updated.Before(oldest.updated)) {
				oldest = d
			}
		}
		if oldest == nil {
			return
		}
		delete(c.downloads, oldest.meta)
	}
}

func (d *download) setMetafile(hashes []Hash) {
	d.hashes = hashes
	d.have = make([]bool, len(hashes))
	d.state = DownloadChunks
}

// chunkHashes splits a metafile into its hashes.
func chunkHashes(metafile []byte) ([]Hash, error) {
	if len(metafile) == 0 || len(metafile)%sha256.Size != 0 || len(metafile)/sha256.Size > maxChunks {
		return nil, fmt.Errorf("a metafile of %d bytes is not a list of at most %d hashes", len(metafile), maxChunks)
	}
	hashes := make([]Hash, len(metafile)/sha256.Size)
	for i := range hashes {
		copy(hashes[i][:], metafile[i*sha256.Size:])
	}
	return hashes, nil
}

// maxChunks is the most hashes a metafile holds, so that it fits a reply.
const maxChunks = 256

// askMore asks for the metafile, or for chunks up to the window, and arms
// the download's timer.
func (c *Core) askMore(d *download, now time.Time) {
	if d.state == DownloadMetafile && d.asks[-1] == nil {
		c.print(stdoutline.DownloadingMetafile{File: d.name, From: d.dest}.String())
		c.ask(d, -1, now)
	}
	for d.state == DownloadChunks && len(d.asks) < downloadWindow && d.next < len(d.hashes) {
		i := d.next
		d.next++
		if d.have[i] {
			continue
		}
		c.print(stdoutline.DownloadingChunk{File: d.name, Chunk: i + 1, From: d.dest}.String())
		c.ask(d, i, now)
	}
	c.armData(d, now)
}

// ask sends the request for item i (-1: the metafile) of d.
func (c *Core) ask(d *download, i int, now time.Time) {
	a := d.asks[i]
	if a == nil {
		a = &dataAsk{}
		d.asks[i] = a
	}
	d.sent++
	a.at, a.order = now, d.sent
	h := d.meta
	if i >= 0 {
		h = d.hashes[i]
	}
	hop, ok := c.routes[d.dest]
	if !ok {
		// Asked again when the route comes (routeCame), or by the timer.
		d.unrouted = true
		c.drop("no-route")
		return
	}
	a.tries++
	q := &messages.DataRequest{Origin: c.name, Destination: d.dest, HopLimit: messages.DefaultHopLimit, HashValue: append([]byte(nil), h[:]...)}
	c.send(hop, &messages.GossipPacket{DataRequest: q}, now)
}

// rto is how long a request of d waits for its reply before it is sent
// again: the protocol's 5 s until the transfer shows loss, and less before
// a round trip is known (see firstDataRTO).
func (d *download) rto() time.Duration {
	if !d.measured {
		return d.unmeasured
	}
	if !d.lossy {
		return dataRequestTimeout
	}
	return min(max(d.srtt+4*d.rttvar, minDataRTO), dataRequestTimeout)
}

func (c *Core) armData(d *download, now time.Time) {
	if len(d.asks) == 0 {
		return
	}
	due := now.Add(stallTimeout)
	for _, a := range d.asks {
		due = minTime(due, a.at.Add(d.rto()))
	}
	due = minTime(due, d.progress.Add(stallTimeout))
	d.seq = c.arm(TimerData, d.key, max(due.Sub(now), time.Millisecond))
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// dataTimeout sends again the requests of a download whose replies are
// overdue, or fails it when nothing has come for stallTimeout.
func (c *Core) dataTimeout(t Timer, now time.Time) {
	var d *download
	for _, x := range c.downloads {
		if x.key == t.Peer {
			d = x
		}
	}
	if d == nil || d.seq != t.Seq || (d.state != DownloadMetafile && d.state != DownloadChunks) {
		return
	}
	if now.Sub(d.progress) >= stallTimeout {
		c.failDownload(d, fmt.Sprintf("no reply from %s for %s", d.dest, stallTimeout), now)
		return
	}
	for i, a := range d.asks {
		if now.Sub(a.at) >= d.rto() {
			d.lossy = true
			c.ask(d, i, now)
		}
	}
	c.armData(d, now)
}

func (c *Core) failDownload(d *download, why string, now time.Time) {
	d.state, d.err, d.updated = DownloadFailed, why, now
	clear(d.asks)
	c.out.Warnings = append(c.out.Warnings, fmt.Sprintf("download of %s from %s failed: %s", d.name, d.dest, why))
	c.out.Alerted = true
}

// DownloadFailed marks a download failed for a reason the runtime found,
// such as a disk that could not take its bytes.
func (c *Core) DownloadFailed(meta Hash, err error, now time.Time) Output {
	if d := c.downloads[meta]; d != nil && d.running() {
		c.failDownload(d, err.Error(), now)
		delete(c.shared, meta)
		delete(c.sharedFiles, meta)
	}
	return c.take()
}

// takeReply takes a reply addressed to this node: a download's if it
// answers one of its requests with the bytes asked for, else it is dropped.
// A node writes only replies it asked for, after checking their hash.
func (c *Core) takeReply(r *messages.DataReply, now time.Time) {
	var h Hash
	copy(h[:], r.HashValue)
	d, items := c.askedFor(r.Origin, h)
	if d == nil {
		c.drop("unsolicited-data")
		return
	}
	if len(r.Data) == 0 {
		what := "the file"
		if items[0] >= 0 {
			what = fmt.Sprintf("chunk %d", items[0]+1)
		}
		c.failDownload(d, fmt.Sprintf("%s does not have %s", d.dest, what), now)
		return
	}
	if sha256.Sum256(r.Data) != h {
		c.drop("wrong-data")
		d.warning, d.updated = fmt.Sprintf("%s sent bytes that do not match their hash; they were dropped and asked for again", d.dest), now
		c.out.DownloadsChanged = true
		return
	}
	d.progress, d.updated = now, now
	if items[0] < 0 {
		c.takeMetafile(d, r.Data, now)
		return
	}
	for _, i := range items {
		c.takeChunk(d, i, r.Data, now)
	}
	c.askMore(d, now)
}

// askedFor finds the download that asked origin for h, and the items of it
// that h is (a file may hold the same chunk twice).
func (c *Core) askedFor(origin string, h Hash) (*download, []int) {
	for _, d := range c.downloads {
		if d.dest != origin || (d.state != DownloadMetafile && d.state != DownloadChunks) {
			continue
		}
		if h == d.meta && d.state == DownloadMetafile {
			return d, []int{-1}
		}
		var items []int
		for i, x := range d.hashes {
			if x == h && !d.have[i] && (d.asks[i] != nil || i < d.next) {
				items = append(items, i)
			}
		}
		if len(items) > 0 {
			return d, items
		}
	}
	return nil, nil
}

func (c *Core) takeMetafile(d *download, data []byte, now time.Time) {
	c.sample(d, -1, now)
	delete(d.asks, -1)
	hashes, err := chunkHashes(data)
	if err != nil {
		c.failDownload(d, fmt.Sprintf("%s sent a metafile that is not one: %v", d.dest, err), now)
		return
	}
	d.setMetafile(hashes)
	c.out.FileWrites = append(c.out.FileWrites, FileWrite{MetaHash: d.meta, Index: -1, Data: data})
	c.askMore(d, now)
}

func (c *Core) takeChunk(d *download, i int, data []byte, now time.Time) {
	if a := d.asks[i]; a != nil {
		c.sample(d, i, now)
		c.overtaken(d, a.order, now)
		delete(d.asks, i)
	}
	d.have[i] = true
	d.held++
	d.bytes += int64(len(data))
	w := FileWrite{MetaHash: d.meta, Index: i, Data: data}
	if d.held == len(d.hashes) {
		// The runtime puts the file together, prints the line, and then
		// shares it (ShareFile).
		d.state = downloadCompleting
		clear(d.asks)
		w.Done, w.Name, w.Line = true, d.name, stdoutline.Reconstructed{File: d.name}.String()
	}
	c.out.FileWrites = append(c.out.FileWrites, w)
}

// sample takes a round trip from item i's request, if it was sent once
// (a reply to a request sent again cannot tell which it answers).
func (c *Core) sample(d *download, i int, now time.Time) {
	a := d.asks[i]
	if a == nil {
		return
	}
	if a.tries != 1 {
		if !d.measured {
			d.unmeasured = min(2*d.unmeasured, dataRequestTimeout)
		}
		return
	}
	rtt := now.Sub(a.at)
	if !d.measured {
		d.measured = true
		d.srtt, d.rttvar = rtt, rtt/2
		return
	}
	diff := d.srtt - rtt
	if diff < 0 {
		diff = -diff
	}
	d.rttvar = (3*d.rttvar + diff) / 4
	d.srtt = (7*d.srtt + rtt) / 8
}

// overtaken sends again the requests that replies to overtakes later ones
// have passed: their own replies, or they, were lost.
func (c *Core) overtaken(d *download, order int, now time.Time) {
	for i, a := range d.asks {
		if a.order+overtakes <= order && now.Sub(a.at) >= d.srtt {
			d.lossy = true
			c.ask(d, i, now)
		}
	}
}

// Downloads returns what each download has done, oldest first.
func (c *Core) Downloads() []DownloadInfo {
	infos := make([]DownloadInfo, 0, len(c.downloads))
	for _, d := range c.downloads {
		state := d.state
		if state == downloadCompleting {
			state = DownloadChunks
		}
		infos = append(infos, DownloadInfo{Name: d.name, Dest: d.dest, MetaHash: d.meta, State: state,
			Chunks: len(d.hashes), Have: d.held, Bytes: d.bytes, Started: d.started, Updated: d.updated,
			Error: d.err, Warning: d.warning})
	}
	slices.SortFunc(infos, func(a, b DownloadInfo) int { return a.Started.Compare(b.Started) })
	return infos
}

// routeCame asks again, at once, what the downloads from origin asked while
// there was no route to it, rather than when their timers fire.
func (c *Core) routeCame(origin string, now time.Time) {
	for _, d := range c.downloads {
		if d.dest != origin || !d.unrouted || !d.running() {
			continue
		}
		d.unrouted = false
		for _, i := range slices.Sorted(maps.Keys(d.asks)) {
			c.ask(d, i, now)
		}
		c.armData(d, now)
	}
}
