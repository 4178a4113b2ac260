// Package source reads log input line by line from files, gzip files and
// stdin, tagging every line with where it came from so that rejects, events
// and checkpoints can point back at the exact bytes.
//
// Readers are one-shot and sequential: they are not safe for concurrent use,
// and a Line's Text aliases the reader's buffer to keep the per-line cost free
// of allocations.
package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// DefaultMaxLineBytes bounds a line when Options.MaxLineBytes is zero. Real
// mail-log lines are far shorter; the bound only protects memory from garbage
// input such as a binary file passed by mistake.
const DefaultMaxLineBytes = 64 << 10

// stdinName is the path that selects stdin, as on most Unix command lines.
const stdinName = "-"

// defaultBufferBytes sizes the read buffer independently of MaxLineBytes, so
// a small line limit does not turn into a small read size and many syscalls.
const defaultBufferBytes = 64 << 10

// Position says where a line came from; it is what a reject record and an
// event's vnd.mailevents.source report, and (later) what a checkpoint stores.
type Position struct {
	Source string // the path as given by the user; "-" for stdin
	Offset int64  // byte offset of the line's first byte in the (decompressed) stream
	End    int64  // offset just after the line's terminator; the next line starts here
}

// Line is one line of input.
type Line struct {
	Position
	// Text is the line without its "\n" and without the "\r" directly before
	// that "\n". It is only valid until the next call to Next.
	Text []byte
	// Truncated reports that the line was longer than Options.MaxLineBytes:
	// Text holds its first MaxLineBytes bytes and the rest was skipped. End
	// still points after the real terminator.
	Truncated bool
}

// Reader delivers lines from one or more sources.
type Reader interface {
	// Next returns the next line. At the end of all input it returns io.EOF.
	// A read error is returned wrapped (with the source name); lines before
	// it were delivered. A source that failed is finished: the following
	// call moves on to the next source, or returns io.EOF if there is none,
	// so callers can log the error and keep calling Next.
	Next(ctx context.Context) (Line, error)
	// Buffered reports whether Next can return at least one more line
	// without a read that may block (used to decide when to flush a batch
	// while reading a pipe). It may report false when a line is in fact
	// available, but never true when one is not.
	Buffered() bool
	// Close releases the source. It is idempotent; Next after Close returns
	// ErrClosed.
	Close() error
}

// Options tunes Open and OpenAll.
type Options struct {
	MaxLineBytes int       // default DefaultMaxLineBytes when 0
	Stdin        io.Reader // used for "-"; default os.Stdin (tests inject)

	// minBuffer overrides defaultBufferBytes so tests and the fuzzer can
	// drive the buffer-full path with small inputs.
	minBuffer int
}

// ErrClosed is returned by Next after Close.
var ErrClosed = errors.New("source: reader is closed")

// Error reports a failure to open, read or close one source. Callers can use
// Source and Offset to say how far the source was read before it failed.
type Error struct {
	Op     string // "open", "read" or "close"
	Source string // the path as given by the user; "-" for stdin
	// Offset is how many bytes of the (decompressed) stream were read before
	// the failure. A partial line at the failure point is not delivered, so
	// it may lie beyond the End of the last line returned.
	Offset int64
	Err    error
}

func (e *Error) Error() string {
	if e.Op == "read" {
		return fmt.Sprintf("read %s at offset %d: %v", e.Source, e.Offset, e.Err)
	}
	return fmt.Sprintf("%s %s: %v", e.Op, e.Source, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// newError builds an Error, dropping the *fs.PathError layer the os package
// adds so that the path is not printed twice; errors.Is(err, fs.ErrNotExist)
// still holds because the inner errno matches it.
func newError(op, src string, off int64, err error) *Error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &Error{Op: op, Source: src, Offset: off, Err: err}
}

func (o Options) maxLine() int {
	if o.MaxLineBytes <= 0 {
		return DefaultMaxLineBytes
	}
	return o.MaxLineBytes
}

// bufferSize must leave room for a maximal line plus "\r\n", so that a line
// that fits the limit is always seen whole in one ReadSlice and only lines
// that really are too long take the slow skip path.
func (o Options) bufferSize() int {
	size := defaultBufferBytes
	if o.minBuffer > 0 {
		size = o.minBuffer
	}
	return max(size, o.maxLine()+2)
}
