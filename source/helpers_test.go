package source

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// got is a Line copied out of the reader's buffer so that it can be compared
// after later calls to Next.
type got struct {
	Offset, End int64
	Text        string
	Truncated   bool
}

func copyLine(l Line) got {
	return got{Offset: l.Offset, End: l.End, Text: string(l.Text), Truncated: l.Truncated}
}

// readAll drains r until the first error and returns the lines and that error
// (nil for a clean io.EOF).
func readAll(t *testing.T, r Reader) ([]got, error) {
	t.Helper()
	var lines []got
	for {
		l, err := r.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return lines, nil
		}
		if err != nil {
			return lines, err
		}
		lines = append(lines, copyLine(l))
	}
}

func gzipBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustOpen(t testing.TB, path string, opts Options) Reader {
	t.Helper()
	r, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// repeatReader yields n copies of one byte without holding them in memory,
// so tests can feed lines far larger than any buffer.
type repeatReader struct {
	b byte
	n int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	for i := range p {
		p[i] = r.b
	}
	r.n -= int64(len(p))
	return len(p), nil
}

// closeRecorder lets a test check that the reader never closes stdin, which
// belongs to the process and not to the reader.
type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error {
	c.closed = true
	return nil
}
