package source

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
)

// gzipMagic starts every gzip member (RFC 1952). Detection goes by content,
// not by name, because rotated logs are often renamed or read from pipes.
var gzipMagic = []byte{0x1f, 0x8b}

// Open returns a reader over one path ("-" means stdin). Gzip is detected by
// its magic bytes (1f 8b), not by the file name, and multi-member gzip files
// (e.g. concatenated rotations) are read whole. Offsets in a gzip file are
// offsets in the decompressed stream.
//
// For a file, Open reads the first bytes to detect gzip, so a damaged gzip
// header is reported here. For stdin that is deferred to the first Next, so
// that Open never blocks waiting for a pipe's writer.
func Open(path string, opts Options) (Reader, error) {
	r := &fileReader{
		name:    path,
		maxLine: opts.maxLine(),
		bufSize: opts.bufferSize(),
	}
	if path == stdinName {
		in := opts.Stdin
		if in == nil {
			in = os.Stdin
		}
		r.src = &stickyReader{r: in}
		return r, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, newError("open", path, 0, err)
	}
	r.file = f
	r.src = &stickyReader{r: f}
	if err := r.start(); err != nil {
		f.Close() // the header error is the one worth reporting
		return nil, err
	}
	return r, nil
}

// fileReader reads one source. Its zero-allocation path is a single
// ReadSlice per line; everything else handles the rare cases.
type fileReader struct {
	name    string
	maxLine int
	bufSize int

	src  io.Reader
	file *os.File // nil for stdin, which we do not own and so never close
	gz   *gzip.Reader
	br   *bufio.Reader // nil until start

	offset  int64  // bytes of the (decompressed) stream consumed so far
	scratch []byte // holds a truncated line's head while the rest is skipped
	err     error  // io.EOF once the source is finished, reported or not
	closed  bool
}

// stickyReader remembers the first error from r. bufio forgets an error once
// it has returned it, and reading again after io.EOF would block on a
// terminal or re-fail on a broken file; this makes every end final.
type stickyReader struct {
	r   io.Reader
	err error
}

func (s *stickyReader) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.r.Read(p)
	s.err = err
	return n, err
}

// start detects gzip and sets up the buffered reader.
func (r *fileReader) start() error {
	br := bufio.NewReaderSize(r.src, r.bufSize)
	r.br = br
	// Peek errors are ignored: stickyReader makes ReadSlice see them again.
	head, _ := br.Peek(1)
	// Only ask for the second magic byte when the first matches, so a
	// plain-text pipe whose first line is a lone "\n" is not held up
	// waiting for more input.
	if len(head) == 1 && head[0] == gzipMagic[0] {
		head, _ = br.Peek(len(gzipMagic))
	}
	if !bytes.Equal(head, gzipMagic) {
		return nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return newError("read", r.name, 0, err)
	}
	r.gz = zr
	r.br = bufio.NewReaderSize(zr, r.bufSize)
	return nil
}

// Next implements Reader.
func (r *fileReader) Next(ctx context.Context) (Line, error) {
	if r.closed {
		return Line{}, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return Line{}, err
	}
	if r.err != nil {
		return Line{}, r.err
	}
	if r.br == nil {
		if err := r.start(); err != nil {
			return Line{}, r.fail(err)
		}
	}

	start := r.offset
	b, err := r.br.ReadSlice('\n')
	r.offset += int64(len(b))
	switch {
	case err == nil:
		b = b[:len(b)-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
		return r.line(start, b), nil
	case err == bufio.ErrBufferFull:
		return r.skipLong(start, b)
	case err == io.EOF && len(b) > 0:
		// A final line without "\n" keeps any trailing "\r": only the
		// "\r" of a "\r\n" pair is part of a terminator.
		return r.line(start, b), nil
	case err == io.EOF:
		r.err = io.EOF
		return Line{}, io.EOF
	default:
		// A partial line before the failure is dropped: it may be cut
		// anywhere, and the error's Offset says how far reading got.
		return Line{}, r.fail(newError("read", r.name, r.offset, err))
	}
}

// fail finishes the source after an error, which is returned once; later
// calls see io.EOF so a caller that logs and carries on terminates.
func (r *fileReader) fail(err error) error {
	r.err = io.EOF
	return err
}

func (r *fileReader) line(start int64, text []byte) Line {
	l := Line{Position: Position{Source: r.name, Offset: start, End: r.offset}}
	if len(text) > r.maxLine {
		text = text[:r.maxLine]
		l.Truncated = true
	}
	// The capacity limit stops a caller's append from overwriting the
	// buffered bytes of the following lines.
	l.Text = text[:len(text):len(text)]
	return l
}

// skipLong handles a line that filled the whole buffer. bufferSize leaves room
// for a maximal line plus "\r\n", so head holds more than maxLine bytes of
// text and the line is certainly too long. Its head is copied out because the
// buffer is reused while the rest is skipped chunk by chunk, which keeps
// memory bounded however long the line is.
func (r *fileReader) skipLong(start int64, head []byte) (Line, error) {
	if r.scratch == nil {
		r.scratch = make([]byte, r.maxLine)
	}
	n := copy(r.scratch, head)
	for {
		b, err := r.br.ReadSlice('\n')
		r.offset += int64(len(b))
		switch err {
		case bufio.ErrBufferFull:
			continue
		case nil, io.EOF:
			// On io.EOF the long line was the last one and unterminated;
			// the next call sees io.EOF again from stickyReader.
			return Line{
				Position:  Position{Source: r.name, Offset: start, End: r.offset},
				Text:      r.scratch[:n:n],
				Truncated: true,
			}, nil
		default:
			return Line{}, r.fail(newError("read", r.name, r.offset, err))
		}
	}
}

// Buffered implements Reader. It only looks at bytes already decompressed
// and buffered; data held inside the gzip decompressor is ignored, which can
// only make the answer conservatively false.
func (r *fileReader) Buffered() bool {
	if r.closed || r.err != nil || r.br == nil {
		return false
	}
	n := r.br.Buffered()
	if n == 0 {
		return false
	}
	// Peeking at what is already buffered never reads or moves data, so the
	// current Line's Text stays valid.
	b, _ := r.br.Peek(n)
	return bytes.IndexByte(b, '\n') >= 0
}

// Close implements Reader.
func (r *fileReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if r.gz != nil {
		// gzip's Close only reports decompression errors already
		// returned by Next, and never closes the underlying file.
		_ = r.gz.Close()
	}
	if r.file == nil {
		return nil
	}
	if err := r.file.Close(); err != nil {
		return newError("close", r.name, r.offset, err)
	}
	return nil
}
