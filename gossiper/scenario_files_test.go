package gossiper

// The scenarios' commands and packets for file transfer (data.go,
// download.go). A scenario defines test files by name; their hashes and
// bytes are then written by name in packets and read back by name in the
// output:
//
//	file F chunks=3 [last=100]   a file of 3 chunks, the last of 100 bytes
//	                             (chunk i holds "Fi" again and again)
//	share F                      the node shares F
//	download F from=B as=copy    the user downloads F from B, as copy
//	resume F from=B as=copy have=1,3 [nometafile]
//	                             a download an earlier run left
//	failwrite F                  the runtime could not write F's download
//	show downloads|shared
//
//	datarequest origin=A dest=B hop=10 F.meta     the metahash; F.2 is
//	                                              chunk 2's hash
//	datareply origin=B dest=A hop=10 F.2 data=F.2 the bytes of chunk 2;
//	                                              data=F.metafile, or
//	                                              data="text", or none
//
// Output adds: serve <to> datareply ... (N bytes), a reply the runtime fills
// and sends; write F metafile|chunk N, what a download stores, with "done
// NAME: LINE" when the file is whole; timers of downloads name their file.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
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

// fileCommand runs the file commands; handled is false for the others.
func (s *scenario) fileCommand(cmd string, args []token) (r result, handled bool, err error) {
	opt := func(key string) string {
		for _, a := range args[1:] {
			if k, v, ok := strings.Cut(a.s, "="); ok && k == key {
				return v
			}
		}
		return ""
	}
	var f *testFile
	if cmd != "file" && len(args) > 0 {
		if f = s.files[args[0].s]; f == nil {
			return r, true, fmt.Errorf("no file %q defined", args[0].s)
		}
	}
	switch cmd {
	case "file":
		if len(args) < 2 {
			return r, true, fmt.Errorf("file takes a name and chunks=N")
		}
		n, err := strconv.Atoi(opt("chunks"))
		if err != nil || n < 1 {
			return r, true, fmt.Errorf("bad chunks=%q", opt("chunks"))
		}
		last := chunkSize
		if v := opt("last"); v != "" {
			if last, err = strconv.Atoi(v); err != nil || last < 1 || last > chunkSize {
				return r, true, fmt.Errorf("bad last=%q", v)
			}
		}
		if s.files == nil {
			s.files = map[string]*testFile{}
		}
		s.files[args[0].s] = newTestFile(args[0].s, n, last)
		return r, true, nil
	case "share":
		s.core.ShareFile(SharedFile{Name: f.name, MetaHash: f.meta, Metafile: f.metafile, Size: f.size()})
		return r, true, nil
	case "download":
		r.out, r.err = s.core.StartDownload(opt("as"), opt("from"), f.meta, s.now)
		return r, true, nil
	case "resume":
		var have []bool
		metafile := f.metafile
		if slices.ContainsFunc(args, func(a token) bool { return a.s == "nometafile" }) {
			metafile = nil
		} else {
			have = make([]bool, len(f.chunks))
			for _, v := range strings.Split(opt("have"), ",") {
				if i, err := strconv.Atoi(v); err == nil && i >= 1 && i <= len(have) {
					have[i-1] = true
				}
			}
		}
		r.out, r.err = s.core.ResumeDownload(opt("as"), opt("from"), f.meta, metafile, have, s.now)
		return r, true, nil
	case "failwrite":
		r.out = s.core.DownloadFailed(f.meta, fmt.Errorf("disk full"), s.now)
		return r, true, nil
	}
	return r, false, nil
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

// showFiles renders show downloads and show shared.
func (s *scenario) showFiles(what string) []string {
	var lines []string
	switch what {
	case "downloads":
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
	case "shared":
		for _, f := range s.core.SharedFiles() {
			lines = append(lines, fmt.Sprintf("shared %s %s %d bytes", f.Name, strings.TrimSuffix(s.hashName(f.MetaHash[:]), ".meta"), f.Size))
		}
	}
	if len(lines) == 0 {
		lines = append(lines, "(none)")
	}
	return lines
}
