package source

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// numberedLines makes log-like content that does not compress to nothing, so
// that a cut in the compressed stream lands well inside the data.
func numberedLines(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "%06d %08x postfix/smtpd[%d]: connect\n", i, uint32(i)*2654435761, i%997)
	}
	return b.Bytes()
}

// step is one expected result of Next: a line, or an error that must name
// the path and match is.
type step struct {
	line    got
	errPath string
	is      error
}

func TestOpenAllContinuesPastErrors(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a", []byte("a1\na2\n"))
	b := writeFile(t, dir, "b.gz", gzipBytes(t, []byte("b1\n")))
	missing := filepath.Join(dir, "missing")
	badHeader := writeFile(t, dir, "bad.gz", []byte("\x1f\x8bnot really gzip"))
	empty := writeFile(t, dir, "empty", nil)

	content := numberedLines(20000)
	gz := gzipBytes(t, content)
	badCRC := bytes.Clone(gz)
	badCRC[len(badCRC)-8] ^= 0xff // first byte of the CRC-32 trailer
	crc := writeFile(t, dir, "crc.gz", badCRC)

	tests := []struct {
		name  string
		paths []string
		want  []step
	}{
		{"missing file", []string{a, missing, b}, []step{
			{line: got{0, 3, "a1", false}},
			{line: got{3, 6, "a2", false}},
			{errPath: missing, is: fs.ErrNotExist},
			{line: got{0, 3, "b1", false}},
		}},
		{"bad gzip header", []string{badHeader, b}, []step{
			{errPath: badHeader, is: gzip.ErrHeader},
			{line: got{0, 3, "b1", false}},
		}},
		{"directory", []string{dir, a}, []step{
			{errPath: dir},
			{line: got{0, 3, "a1", false}},
			{line: got{3, 6, "a2", false}},
		}},
		{"empty and nothing", []string{empty, empty}, nil},
		{"no paths", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := OpenAll(tt.paths, Options{})
			defer r.Close()
			for i, want := range tt.want {
				l, err := r.Next(context.Background())
				if want.errPath == "" {
					if err != nil {
						t.Fatalf("step %d: unexpected error %v", i, err)
					}
					if diff := cmp.Diff(want.line, copyLine(l)); diff != "" {
						t.Fatalf("step %d: line mismatch (-want +got):\n%s", i, diff)
					}
					continue
				}
				checkSourceError(t, err, want.errPath, want.is)
			}
			for range 2 { // io.EOF is final
				if _, err := r.Next(context.Background()); err != io.EOF {
					t.Fatalf("after the last step: got %v, want io.EOF", err)
				}
			}
		})
	}

	t.Run("bad checksum", func(t *testing.T) {
		r := OpenAll([]string{crc, a}, Options{})
		defer r.Close()
		lines, err := readAll(t, r)
		checkSourceError(t, err, crc, gzip.ErrChecksum)
		// The checksum is only checked at the end, so every line is out.
		if n := bytes.Count(content, []byte("\n")); len(lines) != n {
			t.Errorf("got %d lines before the error, want %d", len(lines), n)
		}
		var se *Error
		if errors.As(err, &se) && se.Offset != int64(len(content)) {
			t.Errorf("error offset %d, want %d", se.Offset, len(content))
		}
		rest, err := readAll(t, r)
		want := []got{{0, 3, "a1", false}, {3, 6, "a2", false}}
		if diff := cmp.Diff(want, rest); err != nil || diff != "" {
			t.Errorf("after the corrupt file: err %v, lines (-want +got):\n%s", err, diff)
		}
	})
}

func TestTruncatedGzip(t *testing.T) {
	content := numberedLines(20000)
	gz := gzipBytes(t, content)
	dir := t.TempDir()
	cut := writeFile(t, dir, "cut.gz", gz[:len(gz)/2])
	next := writeFile(t, dir, "next", []byte("n\n"))

	tests := []struct {
		name string
		open func() Reader
		tail []got // lines expected after the error
	}{
		{"Open", func() Reader { return mustOpen(t, cut, Options{}) }, nil},
		{"OpenAll", func() Reader { return OpenAll([]string{cut, next}, Options{}) }, []got{{0, 2, "n", false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.open()
			defer r.Close()
			lines, err := readAll(t, r)
			checkSourceError(t, err, cut, io.ErrUnexpectedEOF)
			if len(lines) == 0 {
				t.Fatal("no lines before the corruption")
			}
			// Delivered lines must be exactly the start of the content.
			var end int64
			for i, l := range lines {
				if l.Offset != end || l.Text != string(content[l.Offset:l.End-1]) {
					t.Fatalf("line %d %+v does not match the content", i, l)
				}
				end = l.End
			}
			var se *Error
			if errors.As(err, &se) && (se.Offset < end || se.Offset > int64(len(content))) {
				t.Errorf("error offset %d outside [%d, %d]", se.Offset, end, len(content))
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("at offset %d", se.Offset)) {
				t.Errorf("error %q does not give the offset", err)
			}
			tail, err := readAll(t, r)
			if diff := cmp.Diff(tt.tail, tail); err != nil || diff != "" {
				t.Errorf("after the error: err %v, lines (-want +got):\n%s", err, diff)
			}
		})
	}
}

func checkSourceError(t *testing.T, err error, path string, is error) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one for %s", path)
	}
	var se *Error
	if !errors.As(err, &se) || se.Source != path {
		t.Fatalf("error %v is not a *Error for %s", err, path)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name %s", err, path)
	}
	if is != nil && !errors.Is(err, is) {
		t.Errorf("error %v is not %v", err, is)
	}
}
