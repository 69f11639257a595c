package gossiper

import (
	"errors"
	"fmt"
	"net"

	"github.com/peerster/Peerster/messages"
)

// Files is where a node keeps the files it shares and downloads, on disk
// (package files). The Core decides what to ask, serve and keep; the
// runtime reads and writes through this.
type Files interface {
	// Share indexes the file of that name in the shared folder.
	Share(name string) (SharedFile, error)
	// Put writes data to the shared folder under name and shares it.
	Put(name string, data []byte) (SharedFile, error)
	// Begin makes room for a download saved as name.
	Begin(name string, meta Hash, dest string) error
	// Read returns the metafile or chunk of that hash, checked, if held.
	Read(h Hash) ([]byte, bool)
	SetMetafile(meta Hash, metafile []byte) error
	WriteChunk(meta Hash, index int, data []byte) error
	// Complete puts a download's file together in the downloads folder.
	Complete(meta Hash) (SharedFile, error)
	// Abort forgets a download that was refused.
	Abort(meta Hash) error
	// Path is where a complete file shared or downloaded is on disk.
	Path(meta Hash) (string, bool)
}

// PartialDownload is a download an earlier run left, for the node to take
// up.
type PartialDownload struct {
	Name     string
	MetaHash Hash
	Dest     string
	Metafile []byte
	Have     []bool
}

// ErrNoFiles is what file commands return on a node that keeps no files.
var ErrNoFiles = errors.New("this node keeps no files")

// SetFiles gives the node its files: those it shares already, and the
// downloads to take up. Call it before Run.
func (n *Node) SetFiles(f Files, shared []SharedFile, partial []PartialDownload) {
	n.files = f
	n.mu.Lock()
	for _, s := range shared {
		n.core.ShareFile(s)
	}
	n.mu.Unlock()
	for _, p := range partial {
		n.do(func(c *Core) Output {
			out, err := c.ResumeDownload(p.Name, p.Dest, p.MetaHash, p.Metafile, p.Have, n.now())
			if err != nil {
				n.log.Warn("download not resumed", "name", p.Name, "err", err)
			}
			return out
		})
	}
}

// Share shares the file of that name from the shared folder.
func (n *Node) Share(name string) (SharedFile, error) {
	if n.files == nil {
		return SharedFile{}, ErrNoFiles
	}
	f, err := n.files.Share(name)
	if err != nil {
		return SharedFile{}, err
	}
	n.shareFile(f)
	return f, nil
}

// ShareBytes saves data in the shared folder as name and shares it.
func (n *Node) ShareBytes(name string, data []byte) (SharedFile, error) {
	if n.files == nil {
		return SharedFile{}, ErrNoFiles
	}
	f, err := n.files.Put(name, data)
	if err != nil {
		return SharedFile{}, err
	}
	n.shareFile(f)
	return f, nil
}

func (n *Node) shareFile(f SharedFile) {
	n.mu.Lock()
	n.core.ShareFile(f)
	n.notifyLocked()
	n.mu.Unlock()
	n.log.Info("sharing a file", "name", f.Name, "metahash", fmt.Sprintf("%x", f.MetaHash), "bytes", f.Size)
}

// Download downloads the file of metahash meta from the node named dest,
// to save as name in the downloads folder.
func (n *Node) Download(name, dest string, meta Hash) error {
	if n.files == nil {
		return ErrNoFiles
	}
	n.starting.Lock()
	defer n.starting.Unlock()
	n.mu.Lock()
	err := n.core.mayDownload(dest, meta)
	n.mu.Unlock()
	if err != nil {
		// Checked before the files begin one, which would hand back the
		// partial file of the download going on, and abort it after.
		return err
	}
	if err := n.files.Begin(name, meta, dest); err != nil {
		return err
	}
	var derr error
	n.do(func(c *Core) Output {
		out, err := c.StartDownload(name, dest, meta, n.now())
		derr = err
		return out
	})
	if derr != nil {
		_ = n.files.Abort(meta)
	}
	return derr
}

// SharedFiles returns the files this node shares, downloaded ones too.
func (n *Node) SharedFiles() []SharedFile {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.core.SharedFiles()
}

// FilePath is where the complete file of metahash meta is on disk, for the
// page to hand it to its user.
func (n *Node) FilePath(meta Hash) (string, bool) {
	if n.files == nil {
		return "", false
	}
	return n.files.Path(meta)
}

// Downloads returns what each download has done, oldest first.
func (n *Node) Downloads() []DownloadInfo {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.core.Downloads()
}

// carryOutFiles writes what downloads got, completing the files that are
// whole (and printing their line), and returns the data replies to send,
// with their bytes read. It runs before the output's lines are printed.
func (n *Node) carryOutFiles(out Output) (later []func()) {
	for _, w := range out.FileWrites {
		var err error
		if w.Index < 0 {
			err = n.files.SetMetafile(w.MetaHash, w.Data)
		} else {
			err = n.files.WriteChunk(w.MetaHash, w.Index, w.Data)
		}
		var done SharedFile
		if err == nil && w.Done {
			done, err = n.files.Complete(w.MetaHash)
		}
		switch {
		case err != nil:
			n.log.Error("writing a download failed", "name", w.Name, "err", err)
			meta := w.MetaHash
			later = append(later, func() {
				n.do(func(c *Core) Output { return c.DownloadFailed(meta, err, n.now()) })
			})
		case w.Done:
			n.printLines([]string{w.Line})
			later = append(later, func() { n.shareFile(done) })
		}
	}
	return later
}

// serve fills the data replies the Core decided with the bytes they carry
// and sends them.
func (n *Node) serve(out Output) (refused []string) {
	for _, s := range out.Serve {
		r := *s.Reply
		if s.Size > 0 && n.files != nil {
			// A file changed on disk since it was shared is not served:
			// the reply says the node does not have it.
			if data, ok := n.files.Read(Hash(r.HashValue)); ok && len(data) == s.Size {
				r.Data = data
			}
		}
		refused = append(refused, n.sendPacket(s.To, &messages.GossipPacket{DataReply: &r})...)
	}
	return refused
}

// fileCommand carries out a client's file command and answers it.
func (n *Node) fileCommand(conn net.PacketConn, from net.Addr, m *messages.Message) {
	var reply messages.ClientReply
	var f SharedFile
	var err error
	switch {
	case len(m.Request) > 0:
		var meta Hash
		if len(m.Request) != len(meta) {
			err = fmt.Errorf("a metahash is %d bytes, not %d", len(meta), len(m.Request))
			break
		}
		copy(meta[:], m.Request)
		err = n.Download(m.File, m.Destination, meta)
		reply.MetaHash = m.Request
	default:
		f, err = n.Share(m.File)
		reply.MetaHash = f.MetaHash[:]
	}
	if err != nil {
		reply.Error = err.Error()
		n.log.Warn("file command refused", "file", m.File, "err", err)
	}
	answerClient(conn, from, &reply)
}
