package source

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// countingReader lets the fuzzer check Buffered's promise: after it reports
// true, the next line must come out without touching the input.
type countingReader struct {
	r     io.Reader
	reads int
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.reads++
	return c.r.Read(p)
}

// expected is what the reader should see: the input itself, or, when the
// input starts with the gzip magic, whatever the standard library can
// decompress from it and whether that ended in an error.
func expected(data []byte) (want []byte, wantErr bool) {
	if !bytes.HasPrefix(data, gzipMagic) {
		return data, false
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, true
	}
	want, err = io.ReadAll(zr)
	return want, err != nil
}

func FuzzReader(f *testing.F) {
	f.Add([]byte(""), uint8(4), false)
	f.Add([]byte("a\nbb\r\nccc"), uint8(2), false)
	f.Add([]byte("\n\n\r\n\r\r\n\x00\xff\n"), uint8(1), true)
	f.Add([]byte("0123456789abcdefghij\r\nshort\n0123456789abcdefghij"), uint8(16), false)
	f.Add([]byte("0123456789abcdef\r\n"), uint8(13), true)
	f.Add(gzipBytes(f, []byte("a\nbb\nccc\n")), uint8(2), false)
	f.Add(append(gzipBytes(f, []byte("a\nb")), gzipBytes(f, []byte("c\n"))...), uint8(3), true)

	f.Fuzz(func(t *testing.T, data []byte, maxLine uint8, oneByte bool) {
		max := int(maxLine%40) + 1
		want, wantErr := expected(data)
		var in io.Reader = bytes.NewReader(data)
		if oneByte {
			in = iotest.OneByteReader(in)
		}
		cr := &countingReader{r: in}
		// A 16-byte buffer (bufio's minimum) makes short inputs exercise the
		// buffer-full and refill paths.
		r, err := Open("-", Options{Stdin: cr, MaxLineBytes: max, minBuffer: 16})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()

		var end int64
		var rebuilt []byte
		truncated := false
		for {
			buffered := r.Buffered()
			reads := cr.reads
			l, err := r.Next(context.Background())
			if buffered && (err != nil || cr.reads != reads) {
				t.Fatalf("Buffered() was true but Next read input (err %v)", err)
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				var se *Error
				if !wantErr || !errors.As(err, &se) || se.Source != "-" {
					t.Fatalf("unexpected error %v (gzip error expected: %v)", err, wantErr)
				}
				if se.Offset < end || se.Offset > int64(len(want)) {
					t.Fatalf("error offset %d outside [%d, %d]", se.Offset, end, len(want))
				}
				if _, err := r.Next(context.Background()); err != io.EOF {
					t.Fatalf("after an error: got %v, want io.EOF", err)
				}
				return
			}
			checkLine(t, l, want, end, max)
			end = l.End
			truncated = truncated || l.Truncated
			rebuilt = append(rebuilt, want[l.Offset:l.End]...)
		}
		if wantErr {
			t.Fatal("io.EOF from a gzip stream the standard library rejects")
		}
		if end != int64(len(want)) {
			t.Fatalf("last End %d, input length %d", end, len(want))
		}
		if !truncated && !bytes.Equal(rebuilt, want) {
			t.Fatal("lines do not reproduce the input")
		}
	})
}

// checkLine verifies one line against the stream it came from.
func checkLine(t *testing.T, l Line, want []byte, prevEnd int64, max int) {
	t.Helper()
	if l.Offset != prevEnd || l.End <= l.Offset || l.End > int64(len(want)) {
		t.Fatalf("line [%d, %d) does not follow %d within %d bytes", l.Offset, l.End, prevEnd, len(want))
	}
	span := want[l.Offset:l.End]
	if i := bytes.IndexByte(span, '\n'); i >= 0 && i != len(span)-1 {
		t.Fatalf("span %q contains an inner newline", span)
	}
	if l.Source != "-" {
		t.Fatalf("Source %q, want \"-\"", l.Source)
	}
	// The full text is the span without "\n" and the "\r" just before it.
	full := span
	if bytes.HasSuffix(full, []byte("\n")) {
		full = bytes.TrimSuffix(full[:len(full)-1], []byte("\r"))
	}
	switch {
	case l.Truncated && (len(l.Text) != max || len(full) <= max || !bytes.HasPrefix(full, l.Text)):
		t.Fatalf("truncated line %q (max %d) does not match span %q", l.Text, max, span)
	case !l.Truncated && !bytes.Equal(l.Text, full):
		t.Fatalf("line %q does not match span %q", l.Text, span)
	}
}
