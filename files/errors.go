package files

import (
	"errors"
	"fmt"
)

// What the library's refusals and failures are, for a caller that answers
// each kind differently (the web page picks an HTTP status by them) to tell
// them apart with errors.Is. Each reaches the caller in a message of its
// own that says which file and what to do, not in these words: errors.Is
// finds the kind, and Error says it as before.
var (
	// ErrClosed is returned by a Library's methods after Close.
	ErrClosed = errors.New("the file library is closed")
	// ErrAlreadyHave is returned by Begin for a file the node already
	// shares or has downloaded.
	ErrAlreadyHave = errors.New("this node already has that file")
	// ErrNoDownload is returned by the download methods for a metahash
	// no download is in progress for, such as one that completed or was
	// aborted while a reply was on its way.
	ErrNoDownload = errors.New("no download of that file is in progress")
	// ErrNameTaken is a name in the way: Put refuses one that a different
	// file or a folder has in the shared folder, Begin one that a
	// different file has in the downloads folder or another download is
	// saving to, and Complete a name a different file took meanwhile.
	ErrNameTaken = errors.New("a different file has that name")
	// ErrDownloading is Begin's refusal of a file already being downloaded
	// under another name.
	ErrDownloading = errors.New("that file is already being downloaded")
	// ErrTooManyFiles is the refusal of a file more than Options.MaxFiles
	// by Share, Put and Begin.
	ErrTooManyFiles = errors.New("the library keeps as many files as it may")
	// ErrInvalid is what is wrong with what the caller gave, whatever the
	// state of the library or the disk: an invalid name or hash, a file
	// missing, empty, too large or not a regular file, a metafile or a chunk
	// that does not match its hash.
	ErrInvalid = errors.New("invalid input")
	// ErrDisk is a disk that failed to create, read, write, sync or rename
	// a file, or that holds a file damaged since it was written; the
	// os error, if there is one, is wrapped too.
	ErrDisk = errors.New("disk error")
)

// kindError is an error that says what went wrong in its own words, err,
// and that errors.Is also matches with its kind, one of the errors above.
type kindError struct {
	kind error
	err  error
}

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.err} }

// errorf is fmt.Errorf (whose %w keeps wrapping as usual) with a kind that
// errors.Is matches and the message does not repeat.
func errorf(kind error, format string, args ...any) error {
	return &kindError{kind: kind, err: fmt.Errorf(format, args...)}
}

// withKind gives err a kind, its message unchanged; nil stays nil.
func withKind(kind, err error) error {
	if err == nil {
		return nil
	}
	return &kindError{kind: kind, err: err}
}
