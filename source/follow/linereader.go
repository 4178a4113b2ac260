package follow

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/mailevents/mailevents/checkpoint"
)

// defaultBufferBytes sizes the read buffer independently of the line limit,
// so a small limit does not turn into many small reads.
const defaultBufferBytes = 64 << 10

// lineReader splits one open file into lines. It is not bufio.Reader because
// a follower must keep an unterminated last line and complete it with the
// next write: bufio forgets the bytes it returned with io.EOF, and seeking
// back for them would race with a truncation. Here the partial line simply
// stays in buf until its "\n" arrives.
type lineReader struct {
	f *os.File
	// src is what lines are read from: f itself, or a decompressor over
	// it for a compressed rotated file.
	src     io.Reader
	maxLine int
	buf     []byte
	r, w    int   // buf[r:w] is read from the file and not yet returned
	off     int64 // file offset of buf[r]; the file position is off+(w-r)
	// long holds the first maxLine bytes of a line that is being skipped
	// because it is too long; longStart is that line's offset. long is nil
	// when no line is being skipped.
	long      []byte
	longStart int64
	// head is the file's first bytes as this reader saw them (up to
	// checkpoint.HeadBytes). Comparing it with the file's first bytes now
	// detects a file overwritten in place even when the file was empty,
	// and its key's head therefore short, when it was opened.
	head []byte
}

func newLineReader(f *os.File, src io.Reader, off int64, maxLine int, head []byte) *lineReader {
	return &lineReader{
		head:    head,
		f:       f,
		src:     src,
		maxLine: maxLine,
		// Room for a maximal line plus "\r\n", so a line that fits the
		// limit is always seen whole.
		buf: make([]byte, max(defaultBufferBytes, maxLine+2)),
		off: off,
	}
}

// rawLine is a line found by lineReader; text aliases its buffer and is
// only valid until the next call.
type rawLine struct {
	start, end int64
	text       []byte
	truncated  bool
}

// next returns the next complete line. ok is false when the file holds no
// complete line yet; a partial line stays buffered for the next call.
func (lr *lineReader) next() (l rawLine, ok bool, err error) {
	for {
		if i := bytes.IndexByte(lr.buf[lr.r:lr.w], '\n'); i >= 0 {
			return lr.take(i), true, nil
		}
		lr.skipIfLong()
		if lr.r > 0 { // compact: move the partial line to the front
			lr.w = copy(lr.buf, lr.buf[lr.r:lr.w])
			lr.r = 0
		}
		at := lr.pos()
		n, err := lr.src.Read(lr.buf[lr.w:])
		lr.noteHead(at, lr.buf[lr.w:lr.w+n])
		lr.w += n
		if n > 0 {
			continue // a decompressor may return its last bytes with io.EOF
		}
		if err == nil || errors.Is(err, io.EOF) {
			return rawLine{}, false, nil
		}
		return rawLine{}, false, fmt.Errorf("read at offset %d: %w", lr.pos(), err)
	}
}

// noteHead extends head with b, read at offset at, while the bytes are
// contiguous with it.
func (lr *lineReader) noteHead(at int64, b []byte) {
	if at != int64(len(lr.head)) || len(lr.head) >= checkpoint.HeadBytes {
		return
	}
	lr.head = append(lr.head, b[:min(len(b), checkpoint.HeadBytes-len(lr.head))]...)
}

// take consumes the line ending at buf[r+i] ("\n").
func (lr *lineReader) take(i int) rawLine {
	text := lr.buf[lr.r : lr.r+i]
	l := rawLine{start: lr.off, end: lr.off + int64(i) + 1}
	lr.r += i + 1
	lr.off = l.end
	if lr.long != nil {
		l.start, l.text, l.truncated = lr.longStart, lr.long, true
		lr.long = nil
		return l
	}
	if n := len(text); n > 0 && text[n-1] == '\r' {
		text = text[:n-1]
	}
	if len(text) > lr.maxLine {
		text, l.truncated = text[:lr.maxLine], true
	}
	// The capacity limit stops a caller's append from overwriting the
	// buffered bytes of the following lines.
	l.text = text[:len(text):len(text)]
	return l
}

// skipIfLong keeps memory bounded for a line without "\n" that is already
// longer than the limit (plus "\r"): its head is kept and the rest dropped.
func (lr *lineReader) skipIfLong() {
	pending := lr.buf[lr.r:lr.w]
	if lr.long == nil && len(pending) <= lr.maxLine+1 {
		return
	}
	if lr.long == nil {
		lr.long = append([]byte(nil), pending[:lr.maxLine]...)
		lr.longStart = lr.off
	}
	lr.off += int64(len(pending))
	lr.r = lr.w
}

// partial returns the unterminated rest of the file as a final line, or
// ok=false if there is none. It is used only once the writer has moved on
// to another file, when that rest can no longer be completed.
func (lr *lineReader) partial() (rawLine, bool) {
	if lr.long == nil && lr.r == lr.w {
		return rawLine{}, false
	}
	l := rawLine{start: lr.off, end: lr.pos()}
	if lr.long != nil {
		l.start, l.text, l.truncated = lr.longStart, lr.long, true
	} else {
		l.text = lr.buf[lr.r:lr.w]
		if len(l.text) > lr.maxLine {
			l.text, l.truncated = l.text[:lr.maxLine], true
		}
	}
	l.text = append([]byte(nil), l.text...)
	lr.off, lr.r, lr.long = lr.pos(), lr.w, nil
	return l, true
}

// pos is how far the file has been read.
func (lr *lineReader) pos() int64 { return lr.off + int64(lr.w-lr.r) }

// buffered reports whether a complete line is already in the buffer.
func (lr *lineReader) buffered() bool {
	return bytes.IndexByte(lr.buf[lr.r:lr.w], '\n') >= 0
}

// reset restarts reading at offset 0 of the same file, after a truncation.
func (lr *lineReader) reset() error {
	if _, err := lr.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("seek to 0: %w", err)
	}
	lr.r, lr.w, lr.off, lr.long, lr.head = 0, 0, 0, nil, nil
	lr.src = lr.f
	return nil
}
