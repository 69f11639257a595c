package gossiper

// The scenarios' file transfer (data.go, download.go): file, share,
// download, resume, failwrite, show downloads|shared, the datarequest and
// datareply packet parts, and the serve and write lines of the output
// (testdata/scenarios/README). A scenario defines test files by name, and
// their hashes and bytes are written and read back by name.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/peerster/Peerster/messages"
)

// testFile is a file a scenario defines.
type testFile struct {
	name     string
	chunks   [][]byte
	metafile []byte
	meta     Hash
}

func newTestFile(name string, n, last int) *testFile {
	f := &testFile{name: name}
	for i := range n {
		size := chunkSize
		if i == n-1 {
			size = last
		}
		// Each file's chunks differ from every other file's.
		c := bytes.Repeat([]byte(fmt.Sprintf("%s%d", name, i+1)), size)[:size]
		f.chunks = append(f.chunks, c)
		h := sha256.Sum256(c)
		f.metafile = append(f.metafile, h[:]...)
	}
	f.meta = sha256.Sum256(f.metafile)
	return f
}

func (f *testFile) size() int64 {
	var n int64
	for _, c := range f.chunks {
		n += int64(len(c))
	}
	return n
}

// defineFile defines a test file: file F chunks=N [last=M].
func (s *scenario) defineFile(args []token) (string, error) {
	if len(args) < 2 {
		return "", errors.New("file takes a name and chunks=N")
	}
	chunks := fileOption(args[1:], "chunks")
	n, err := strconv.Atoi(chunks)
	if err != nil || n < 1 {
		return "", fmt.Errorf("bad chunks=%q", chunks)
	}
	last := chunkSize
	if v := fileOption(args[1:], "last"); v != "" {
		if last, err = strconv.Atoi(v); err != nil || last < 1 || last > chunkSize {
			return "", fmt.Errorf("bad last=%q", v)
		}
	}
	if s.files == nil {
		s.files = map[string]*testFile{}
	}
	s.files[args[0].s] = newTestFile(args[0].s, n, last)
	return "", nil
}

func (s *scenario) share(args []token) (string, error) {
	f, err := s.fileArg(args)
	if err != nil {
		return "", err
	}
	s.core.ShareFile(SharedFile{Name: f.name, MetaHash: f.meta, Metafile: f.metafile, Size: f.size()})
	return "", nil
}

func (s *scenario) download(args []token) (result, error) {
	var r result
	f, err := s.fileArg(args)
	if err != nil {
		return r, err
	}
	r.out, r.err = s.core.StartDownload(fileOption(args[1:], "as"), fileOption(args[1:], "from"), f.meta, s.now)
	return r, nil
}

// resume is a download an earlier run of the node left: with its metafile
// and the chunks in have=, or with nothing yet (nometafile).
func (s *scenario) resume(args []token) (result, error) {
	var r result
	f, err := s.fileArg(args)
	if err != nil {
		return r, err
	}
	var have []bool
	metafile := f.metafile
	if slices.ContainsFunc(args, func(a token) bool { return a.s == "nometafile" }) {
		metafile = nil
	} else {
		have = make([]bool, len(f.chunks))
		for _, v := range strings.Split(fileOption(args[1:], "have"), ",") {
			if i, err := strconv.Atoi(v); err == nil && i >= 1 && i <= len(have) {
				have[i-1] = true
			}
		}
	}
	r.out, r.err = s.core.ResumeDownload(fileOption(args[1:], "as"), fileOption(args[1:], "from"), f.meta, metafile, have, s.now)
	return r, nil
}

// failWrite is the runtime's report that it could not write a download.
func (s *scenario) failWrite(args []token) (result, error) {
	f, err := s.fileArg(args)
	if err != nil {
		return result{}, err
	}
	return result{out: s.core.DownloadFailed(f.meta, fmt.Errorf("disk full"), s.now)}, nil
}

// fileArg is the file a command names first.
func (s *scenario) fileArg(args []token) (*testFile, error) {
	if len(args) == 0 {
		return nil, errors.New("a file command names a file defined by file")
	}
	f := s.files[args[0].s]
	if f == nil {
		return nil, fmt.Errorf("no file %q defined", args[0].s)
	}
	return f, nil
}

// fileOption is the value of key=value among args, "" when it is absent.
func fileOption(args []token, key string) string {
	for _, a := range args {
		if k, v, ok := strings.Cut(a.s, "="); ok && k == key {
			return v
		}
	}
	return ""
}

// hashRef resolves F.meta or F.N to a hash, or hex.
func (s *scenario) hashRef(ref string) ([]byte, error) {
	name, part, ok := strings.Cut(ref, ".")
	if f := s.files[name]; ok && f != nil {
		if part == "meta" {
			return f.meta[:], nil
		}
		if i, err := strconv.Atoi(part); err == nil && i >= 1 && i <= len(f.chunks) {
			h := sha256.Sum256(f.chunks[i-1])
			return h[:], nil
		}
	}
	b, err := hex.DecodeString(ref)
	if err != nil {
		return nil, fmt.Errorf("%q is not F.meta, F.N or a hash in hex", ref)
	}
	return b, nil
}

// dataRef resolves data=F.metafile, data=F.N, data=none or a quoted text.
func (s *scenario) dataRef(a token) ([]byte, error) {
	if a.quoted {
		return []byte(a.s), nil
	}
	if a.s == "none" {
		return nil, nil
	}
	name, part, _ := strings.Cut(a.s, ".")
	if f := s.files[name]; f != nil {
		if part == "metafile" {
			return f.metafile, nil
		}
		if i, err := strconv.Atoi(part); err == nil && i >= 1 && i <= len(f.chunks) {
			return f.chunks[i-1], nil
		}
	}
	return nil, fmt.Errorf("data=%q is not F.metafile, F.N, none or a quoted text", a.s)
}

// dataPart parses a datarequest or datareply part of a recv command, and
// returns what follows it.
func (s *scenario) dataPart(p *messages.GossipPacket, kind string, args []token) ([]token, error) {
	var origin, dest, ref string
	var hop uint64
	var data []byte
	for ; len(args) > 0 && !(isPart(args[0].s) && !args[0].quoted); args = args[1:] {
		k, v, ok := strings.Cut(args[0].s, "=")
		var err error
		switch {
		case !ok:
			ref = args[0].s
		case k == "origin":
			origin = v
		case k == "dest":
			dest = v
		case k == "hop":
			hop, err = strconv.ParseUint(v, 10, 32)
		case k == "data":
			// The tokenizer has unquoted a text already: what names no
			// file's bytes is taken as it is.
			if data, err = s.dataRef(token{s: v}); err != nil {
				data, err = []byte(v), nil
			}
		default:
			err = fmt.Errorf("unknown field %q", args[0].s)
		}
		if err != nil {
			return nil, err
		}
	}
	hash, err := s.hashRef(ref)
	if err != nil {
		return nil, err
	}
	if kind == "datarequest" {
		p.DataRequest = &messages.DataRequest{Origin: origin, Destination: dest, HopLimit: uint32(hop), HashValue: hash}
	} else {
		p.DataReply = &messages.DataReply{Origin: origin, Destination: dest, HopLimit: uint32(hop), HashValue: hash, Data: data}
	}
	return args, nil
}

// hashName names a hash after the files defined, or writes it in hex.
func (s *scenario) hashName(h []byte) string {
	for _, name := range slices.Sorted(maps.Keys(s.files)) {
		f := s.files[name]
		if bytes.Equal(h, f.meta[:]) {
			return name + ".meta"
		}
		for i, c := range f.chunks {
			if sum := sha256.Sum256(c); bytes.Equal(h, sum[:]) {
				return fmt.Sprintf("%s.%d", name, i+1)
			}
		}
	}
	return hex.EncodeToString(h)
}

// dataName names bytes after the files defined, or counts them.
func (s *scenario) dataName(b []byte) string {
	if len(b) == 0 {
		return "none"
	}
	h := sha256.Sum256(b)
	switch name := s.hashName(h[:]); {
	case strings.HasSuffix(name, ".meta"):
		return strings.TrimSuffix(name, ".meta") + ".metafile"
	case strings.Contains(name, "."):
		return name
	}
	return fmt.Sprintf("(%d bytes)", len(b))
}

// dataParts renders a packet's data request and reply.
func (s *scenario) dataParts(p *messages.GossipPacket) []string {
	var parts []string
	if q := p.DataRequest; q != nil {
		parts = append(parts, fmt.Sprintf("datarequest origin=%s dest=%s hop=%d %s", word(q.Origin), word(q.Destination), q.HopLimit, s.hashName(q.HashValue)))
	}
	if r := p.DataReply; r != nil {
		parts = append(parts, fmt.Sprintf("datareply origin=%s dest=%s hop=%d %s data=%s", word(r.Origin), word(r.Destination), r.HopLimit, s.hashName(r.HashValue), s.dataName(r.Data)))
	}
	return parts
}

// fileLines renders what an event asks of the files.
func (s *scenario) fileLines(out Output) []string {
	var lines []string
	for _, sv := range out.Serve {
		r := sv.Reply
		lines = append(lines, fmt.Sprintf("serve %s datareply origin=%s dest=%s hop=%d %s (%d bytes)", sv.To, word(r.Origin), word(r.Destination), r.HopLimit, s.hashName(r.HashValue), sv.Size))
	}
	for _, w := range out.FileWrites {
		name := strings.TrimSuffix(s.hashName(w.MetaHash[:]), ".meta")
		line := fmt.Sprintf("write %s chunk %d (%d bytes)", name, w.Index+1, len(w.Data))
		if w.Index < 0 {
			line = "write " + name + " metafile"
		}
		if w.Done {
			line += fmt.Sprintf(", done %s: %s", w.Name, w.Line)
		}
		lines = append(lines, line)
	}
	return lines
}

// timerPeer names a download's timer after its file.
func (s *scenario) timerPeer(tm Timer) string {
	if tm.Kind != TimerData {
		return tm.Peer
	}
	h, err := hex.DecodeString(tm.Peer)
	if err != nil {
		return tm.Peer
	}
	return strings.TrimSuffix(s.hashName(h), ".meta")
}

func (s *scenario) showDownloads() []string {
	var lines []string
	for _, d := range s.core.Downloads() {
		line := fmt.Sprintf("download %s of %s from %s: %s, %d of %d chunks", d.Name, strings.TrimSuffix(s.hashName(d.MetaHash[:]), ".meta"), d.Dest, d.State, d.Have, d.Chunks)
		if d.Error != "" {
			line += ": " + d.Error
		}
		if d.Warning != "" {
			line += " (" + d.Warning + ")"
		}
		lines = append(lines, line)
	}
	return lines
}

func (s *scenario) showShared() []string {
	var lines []string
	for _, f := range s.core.SharedFiles() {
		lines = append(lines, fmt.Sprintf("shared %s %s %d bytes", f.Name, strings.TrimSuffix(s.hashName(f.MetaHash[:]), ".meta"), f.Size))
	}
	return lines
}
