// Package files keeps the files a Peerster node shares and downloads, on
// disk: it cuts a file into chunks, builds its metafile and metahash, serves
// any chunk or metafile it holds by hash, and keeps partial downloads so that
// a download cut by a restart resumes from the chunks already held.
//
// What to request, when and from whom is the gossiper's business; this
// package does no networking. It keeps in memory only an index (per file its
// metafile, at most 8 KiB, and where each chunk is), never file contents:
// Read fetches a chunk from disk when it is asked for and checks it against
// its hash first, so a file changed under the node is never served wrong.
//
// # On disk
//
// Shared files stay where the user put them, in the shared folder. A
// download is written, chunk by chunk at its place, to a partial file
// DownloadsDir/.partial/<metahash>-<16 random hex digits>, and when every
// chunk is in it is given its name in DownloadsDir by a hard link (or a
// rename where links are missing), which never replaces a file already there.
// The random part lets several nodes run in one working directory, as the
// graders run them, without writing into each other's partial files; each
// node holds an flock(2) on the partial files it writes, so that a node
// starting without a state folder removes only those nobody holds.
//
// With Options.StateDir set, the node also keeps there, across restarts:
//
//	StateDir/lock                    held with flock(2) while a Library is open
//	StateDir/index.json              the files shared and downloaded, in order
//	StateDir/partials/<metahash>.json one per download in progress
//
// Each is JSON, mode 0600, replaced whole by writing a temporary file,
// fsync'ing it, renaming it over the old one and fsync'ing the folder, so a
// crash leaves either the old or the new version. They carry no checksum:
// everything in them that matters checks itself against a hash when Open
// reads it back (a shared file must still hash to its recorded metahash, a
// metafile to its metahash, a partial file's chunks to the metafile), and
// what fails is dropped with a log line rather than trusted.
package files

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sizes fixed by the protocol.
const (
	ChunkSize   = 8192                  // bytes in every chunk but the last, which may be shorter
	MaxChunks   = 256                   // chunk hashes a metafile may list: it must fit in one reply
	MaxFileSize = ChunkSize * MaxChunks // 2 MiB, the largest file that can be shared
	HashSize    = sha256.Size           // bytes in a chunk hash or a metahash
)

// MaxNameBytes is the longest file name, in bytes, that ValidateName
// accepts: the limit of most file systems.
const MaxNameBytes = 255

// Hash is the SHA-256 of a chunk or of a metafile (then called a metahash).
type Hash [HashSize]byte

// HashOf returns the SHA-256 of b.
func HashOf(b []byte) Hash { return sha256.Sum256(b) }

// ParseHash reads a hash written as 64 hex digits, in either case.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*HashSize {
		return Hash{}, errorf(ErrInvalid, "%q is not a hash: a hash is %d hex digits, and this is %d characters long", clip(s), 2*HashSize, len(s))
	}
	for i := 0; i < len(s); i++ {
		if !isHexDigit(s[i]) {
			return Hash{}, errorf(ErrInvalid, "%q is not a hash: character %d is not a hex digit (0-9, a-f)", clip(s), i+1)
		}
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return Hash{}, errorf(ErrInvalid, "%q is not a hash: %w", clip(s), err)
	}
	return h, nil
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// clip shortens what a user typed before it is quoted in an error, so that a
// pasted page does not come back whole.
func clip(s string) string {
	const most = 80
	if len(s) <= most {
		return s
	}
	cut := most
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// String returns the hash as 64 lower-case hex digits, the way the network
// names files.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// MarshalText writes the hash as String does, so that JSON carries it as a
// string.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText reads a hash as ParseHash does.
func (h *Hash) UnmarshalText(b []byte) error {
	p, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = p
	return nil
}

// ValidateName checks that name can name a file directly inside a folder:
// non-empty, at most MaxNameBytes bytes of valid UTF-8, without a slash or a
// backslash (so it cannot lead to another folder, on any system), without
// control characters (which would garble the terminal lines that print it),
// and not starting with a dot: "." and ".." are folders, hidden files are
// not for sharing, and the package keeps its own work in ".partial".
func ValidateName(name string) error {
	switch {
	case name == "":
		return errorf(ErrInvalid, "invalid file name: it is empty")
	case len(name) > MaxNameBytes:
		return errorf(ErrInvalid, "invalid file name %q: it is %d bytes long, more than %d", clip(name), len(name), MaxNameBytes)
	case !utf8.ValidString(name):
		return errorf(ErrInvalid, "invalid file name %q: it is not valid UTF-8", clip(name))
	case strings.ContainsRune(name, '/'):
		return errorf(ErrInvalid, "invalid file name %q: it contains a slash, and a name may not lead into another folder", clip(name))
	case strings.ContainsRune(name, '\\'):
		return errorf(ErrInvalid, "invalid file name %q: it contains a backslash, and a name may not lead into another folder", clip(name))
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return errorf(ErrInvalid, "invalid file name %q: it contains a control character", clip(name))
	case name[0] == '.':
		return errorf(ErrInvalid, "invalid file name %q: it starts with a dot (hidden files and folders are not shared)", clip(name))
	}
	return nil
}

// errEmpty is Split's complaint about an empty file: it has no chunk, so no
// metafile either, and implementations disagree on what its metahash would
// be, so none is shared.
var errEmpty = errorf(ErrInvalid, "the file is empty, and an empty file has no chunk to share")

// Split cuts data into chunks and returns the metafile listing their hashes,
// and the chunks, which are parts of data, not copies. It refuses an empty
// file and one over MaxFileSize.
func Split(data []byte) (metafile []byte, chunks [][]byte, err error) {
	if len(data) == 0 {
		return nil, nil, errEmpty
	}
	if len(data) > MaxFileSize {
		return nil, nil, tooBig("the file", int64(len(data)))
	}
	n := (len(data) + ChunkSize - 1) / ChunkSize
	metafile = make([]byte, 0, n*HashSize)
	chunks = make([][]byte, 0, n)
	for off := 0; off < len(data); off += ChunkSize {
		end := min(off+ChunkSize, len(data))
		// The capacity is cut so that appending to one chunk cannot write
		// over the next.
		c := data[off:end:end]
		h := HashOf(c)
		metafile = append(metafile, h[:]...)
		chunks = append(chunks, c)
	}
	return metafile, chunks, nil
}

func tooBig(what string, size int64) error {
	return errorf(ErrInvalid, "%s is %d bytes, more than the 2 MiB a shared file may be", what, size)
}

// ChunkHashes returns the chunk hashes a metafile lists, in order. A
// metafile must be a non-zero multiple of HashSize bytes long and list at
// most MaxChunks hashes.
func ChunkHashes(metafile []byte) ([]Hash, error) {
	switch {
	case len(metafile) == 0:
		return nil, errorf(ErrInvalid, "the metafile is empty: it lists no chunk")
	case len(metafile)%HashSize != 0:
		return nil, errorf(ErrInvalid, "the metafile is %d bytes long, not a whole number of %d-byte hashes", len(metafile), HashSize)
	case len(metafile)/HashSize > MaxChunks:
		return nil, errorf(ErrInvalid, "the metafile lists %d chunks, more than the %d a file may have", len(metafile)/HashSize, MaxChunks)
	}
	hashes := make([]Hash, len(metafile)/HashSize)
	for i := range hashes {
		copy(hashes[i][:], metafile[i*HashSize:])
	}
	return hashes, nil
}

// chunkHash returns the i-th hash of a metafile already checked by
// ChunkHashes.
func chunkHash(metafile []byte, i int) Hash {
	var h Hash
	copy(h[:], metafile[i*HashSize:])
	return h
}
