package source

import (
	"context"
	"errors"
	"io"
)

// OpenAll reads several paths one after another, opening each only when the
// previous one is done (so thousands of files don't exhaust descriptors). An
// error opening or reading one path is returned by Next (wrapped, naming the
// path) and reading continues with the next path on the following call, so
// one bad file does not hide the others.
func OpenAll(paths []string, opts Options) Reader {
	return &multiReader{paths: paths, opts: opts}
}

type multiReader struct {
	paths  []string
	opts   Options
	next   int    // index into paths of the next one to open
	cur    Reader // nil between sources
	closed bool
}

// Next implements Reader.
func (m *multiReader) Next(ctx context.Context) (Line, error) {
	if m.closed {
		return Line{}, ErrClosed
	}
	for {
		if err := ctx.Err(); err != nil {
			return Line{}, err
		}
		if m.cur == nil {
			if m.next >= len(m.paths) {
				return Line{}, io.EOF
			}
			path := m.paths[m.next]
			m.next++
			r, err := Open(path, m.opts)
			if err != nil {
				return Line{}, err
			}
			m.cur = r
		}
		line, err := m.cur.Next(ctx)
		switch {
		case err == nil:
			return line, nil
		case ctx.Err() != nil && errors.Is(err, ctx.Err()):
			// Cancellation is not the source's fault: stay on it so a
			// caller with a fresh context resumes where it stopped.
			return Line{}, err
		}
		closeErr := m.cur.Close()
		m.cur = nil
		if err != io.EOF {
			return Line{}, err
		}
		if closeErr != nil {
			return Line{}, closeErr
		}
	}
}

// Buffered implements Reader. Between sources it reports false, because
// opening the next file is itself a read that is not free.
func (m *multiReader) Buffered() bool {
	return !m.closed && m.cur != nil && m.cur.Buffered()
}

// Close implements Reader.
func (m *multiReader) Close() error {
	if m.closed {
		return nil
	}
	m.closed = true
	if m.cur == nil {
		return nil
	}
	err := m.cur.Close()
	m.cur = nil
	return err
}
