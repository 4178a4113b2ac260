// Package stdout is the sink of `mailevents parse` and of `mailevents run`
// without a configured output: JSON lines on standard output.
package stdout

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/mailevents/mailevents/sinks"
)

// Writer writes each record as one line. Output is buffered and flushed at
// the end of every batch, so a consumer such as jq sees each batch as soon as
// it is complete, and the pipeline's batching decides latency.
type Writer struct {
	name string
	mu   sync.Mutex
	w    *bufio.Writer
	err  error // sticky: after a failed write the stream is in an unknown state
}

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("sink closed")

// New returns a Writer on w (normally os.Stdout).
func New(w io.Writer) *Writer { return NewNamed("stdout", w) }

// NewNamed returns a Writer on any stream, named for logs and metrics (the
// dead-letter file of `parse --rejects` is one).
func NewNamed(name string, w io.Writer) *Writer {
	return &Writer{name: name, w: bufio.NewWriterSize(w, 64<<10)}
}

// Name implements sinks.Sink.
func (s *Writer) Name() string { return s.name }

// Write implements sinks.Sink.
func (s *Writer) Write(ctx context.Context, batch []sinks.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w == nil {
		return ErrClosed
	}
	if s.err != nil {
		return s.err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for i := range batch {
		s.w.Write(batch[i].Value)
		s.w.WriteByte('\n')
	}
	// bufio.Writer keeps its first error, so checking at Flush is enough.
	if err := s.w.Flush(); err != nil {
		s.err = fmt.Errorf("writing to %s: %w", s.name, err)
		return s.err
	}
	return nil
}

// Close implements sinks.Sink. It does not close the underlying writer: stdout
// belongs to the process.
func (s *Writer) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w == nil {
		return nil
	}
	err := s.w.Flush()
	s.w = nil
	if err != nil && s.err == nil {
		return fmt.Errorf("writing to %s: %w", s.name, err)
	}
	return nil
}

var _ sinks.Sink = (*Writer)(nil)
