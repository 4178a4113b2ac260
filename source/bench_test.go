package source

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"testing"
)

// benchLog writes ~50 MB of syslog-like ~150-byte lines.
func benchLog(b *testing.B) (path string, size int64) {
	b.Helper()
	var buf bytes.Buffer
	for i := 0; buf.Len() < 50<<20; i++ {
		fmt.Fprintf(&buf, "Nov 28 08:39:%02d mx1 postfix/smtpd[%5d]: %010X: client=unknown[192.0.2.%d], sasl_method=PLAIN, sasl_username=user%06d@example.org\n",
			i%60, i%32768, i, i%256, i)
	}
	return writeFile(b, b.TempDir(), "bench.log", buf.Bytes()), int64(buf.Len())
}

// BenchmarkReader compares Reader against a bare bufio.Scanner over the same
// file; the gap is the cost of positions, CR handling and truncation.
func BenchmarkReader(b *testing.B) {
	path, size := benchLog(b)
	ctx := context.Background()

	b.Run("source", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			r, err := Open(path, Options{})
			if err != nil {
				b.Fatal(err)
			}
			var n int
			for {
				l, err := r.Next(ctx)
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				n += len(l.Text)
			}
			if err := r.Close(); err != nil {
				b.Fatal(err)
			}
			if n == 0 {
				b.Fatal("no text read")
			}
		}
	})

	b.Run("bufio.Scanner", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			sc := bufio.NewScanner(f)
			sc.Buffer(make([]byte, defaultBufferBytes), DefaultMaxLineBytes)
			var n int
			for sc.Scan() {
				n += len(sc.Bytes())
			}
			if err := sc.Err(); err != nil {
				b.Fatal(err)
			}
			f.Close()
			if n == 0 {
				b.Fatal("no text read")
			}
		}
	})
}
