package source

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// openers present the same content through every kind of input, because the
// offsets must not depend on how the bytes arrive.
var openers = []struct {
	name string
	open func(t *testing.T, data []byte, opts Options) Reader
}{
	{"file", func(t *testing.T, data []byte, opts Options) Reader {
		return mustOpen(t, writeFile(t, t.TempDir(), "log", data), opts)
	}},
	{"gzip-file", func(t *testing.T, data []byte, opts Options) Reader {
		return mustOpen(t, writeFile(t, t.TempDir(), "log", gzipBytes(t, data)), opts)
	}},
	{"stdin", func(t *testing.T, data []byte, opts Options) Reader {
		opts.Stdin = bytes.NewReader(data)
		return mustOpen(t, "-", opts)
	}},
	{"stdin-gzip", func(t *testing.T, data []byte, opts Options) Reader {
		opts.Stdin = bytes.NewReader(gzipBytes(t, data))
		return mustOpen(t, "-", opts)
	}},
	{"stdin-one-byte-reads", func(t *testing.T, data []byte, opts Options) Reader {
		opts.Stdin = iotest.OneByteReader(bytes.NewReader(data))
		return mustOpen(t, "-", opts)
	}},
}

func TestLines(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []got
	}{
		{"empty file", "", nil},
		{"one line", "a\n", []got{{0, 2, "a", false}}},
		{"no trailing newline", "a\nbc", []got{{0, 2, "a", false}, {2, 4, "bc", false}}},
		{"empty lines", "\n\na\n\n", []got{{0, 1, "", false}, {1, 2, "", false}, {2, 4, "a", false}, {4, 5, "", false}}},
		{"crlf", "a\r\nbb\r\n", []got{{0, 3, "a", false}, {3, 7, "bb", false}}},
		{"crlf empty line", "\r\n", []got{{0, 2, "", false}}},
		{"lone cr kept", "a\rb\n", []got{{0, 4, "a\rb", false}}},
		{"only one cr stripped", "a\r\r\n", []got{{0, 4, "a\r", false}}},
		{"final cr without newline kept", "a\nb\r", []got{{0, 2, "a", false}, {2, 4, "b\r", false}}},
		{"invalid utf-8 and nul", "\xff\xfe\x00z\n\x00\n", []got{{0, 5, "\xff\xfe\x00z", false}, {5, 7, "\x00", false}}},
		{"first byte like gzip magic", "\x1fa\n", []got{{0, 3, "\x1fa", false}}},
		{"single magic byte", "\x1f", []got{{0, 1, "\x1f", false}}},
	}
	for _, o := range openers {
		for _, tt := range tests {
			t.Run(o.name+"/"+tt.name, func(t *testing.T) {
				r := o.open(t, []byte(tt.in), Options{})
				lines, err := readAll(t, r)
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if diff := cmp.Diff(tt.want, lines); diff != "" {
					t.Errorf("lines mismatch (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestMultiMemberGzip(t *testing.T) {
	// A line may span members, as when a rotation was cut mid-line; the
	// empty member checks that it contributes nothing to the offsets.
	var data []byte
	for _, part := range []string{"a\nb", "c\nd\n", "", "e\n"} {
		data = append(data, gzipBytes(t, []byte(part))...)
	}
	r := mustOpen(t, writeFile(t, t.TempDir(), "log.1", data), Options{})
	lines, err := readAll(t, r)
	if err != nil {
		t.Fatal(err)
	}
	want := []got{{0, 2, "a", false}, {2, 5, "bc", false}, {5, 7, "d", false}, {7, 9, "e", false}}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("lines mismatch (-want +got):\n%s", diff)
	}
}

func TestTruncation(t *testing.T) {
	long := strings.Repeat("x", 100)
	tests := []struct {
		name      string
		in        string
		max       int
		minBuffer int // 16 forces the buffer-full path for short inputs
		want      []got
	}{
		{"exactly max", "abcd\n", 4, 0, []got{{0, 5, "abcd", false}}},
		{"exactly max crlf", "abcd\r\n", 4, 0, []got{{0, 6, "abcd", false}}},
		{"max plus one", "abcde\nok\n", 4, 0, []got{{0, 6, "abcd", true}, {6, 9, "ok", false}}},
		{"extra cr counts", "abcd\r\r\n", 4, 0, []got{{0, 7, "abcd", true}}},
		{"long then normal", long + "\nok\n", 4, 0, []got{{0, 101, "xxxx", true}, {101, 104, "ok", false}}},
		{"long unterminated", long, 4, 0, []got{{0, 100, "xxxx", true}}},
		{"small buffer long then normal", long + "\nok\n", 4, 16, []got{{0, 101, "xxxx", true}, {101, 104, "ok", false}}},
		{"small buffer long crlf", long + "\r\nok\r\n", 4, 16, []got{{0, 102, "xxxx", true}, {102, 106, "ok", false}}},
		{"small buffer long unterminated", long, 4, 16, []got{{0, 100, "xxxx", true}}},
		// max+2 == buffer size: a maximal CRLF line fills the buffer
		// exactly and must still come out whole.
		{"maximal crlf line fills buffer", strings.Repeat("y", 14) + "\r\nok\n", 14, 16,
			[]got{{0, 16, strings.Repeat("y", 14), false}, {16, 19, "ok", false}}},
		// One byte too many: "\r" is the buffer's last byte and its "\n"
		// arrives with the next fill.
		{"cr lf split across fills", strings.Repeat("y", 15) + "\r\nok\n", 14, 16,
			[]got{{0, 17, strings.Repeat("y", 14), true}, {17, 20, "ok", false}}},
		{"consecutive long lines", long + "\n" + long + "\n", 4, 16,
			[]got{{0, 101, "xxxx", true}, {101, 202, "xxxx", true}}},
	}
	for _, o := range openers {
		for _, tt := range tests {
			t.Run(o.name+"/"+tt.name, func(t *testing.T) {
				r := o.open(t, []byte(tt.in), Options{MaxLineBytes: tt.max, minBuffer: tt.minBuffer})
				lines, err := readAll(t, r)
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if diff := cmp.Diff(tt.want, lines); diff != "" {
					t.Errorf("lines mismatch (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestDefaultMaxOn1MiBLine(t *testing.T) {
	const size = 1 << 20
	data := append(bytes.Repeat([]byte("x"), size), "\nnext\n"...)
	r := mustOpen(t, writeFile(t, t.TempDir(), "log", data), Options{})
	lines, err := readAll(t, r)
	if err != nil {
		t.Fatal(err)
	}
	want := []got{
		{0, size + 1, strings.Repeat("x", DefaultMaxLineBytes), true},
		{size + 1, size + 6, "next", false},
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("lines mismatch (-want +got):\n%s", diff)
	}
}

func TestHugeLineUsesBoundedMemory(t *testing.T) {
	const size = 64 << 20
	in := io.MultiReader(&repeatReader{b: 'x', n: size}, strings.NewReader("\nnext\n"))
	r := mustOpen(t, "-", Options{Stdin: in})

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	lines, err := readAll(t, r)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 || !lines[0].Truncated || lines[1] != (got{size + 1, size + 6, "next", false}) {
		t.Fatalf("unexpected lines: %d lines, second %+v", len(lines), lines[len(lines)-1])
	}
	// The buffer and the truncation scratch are ~64 KiB each; the copied-out
	// test lines add another 64 KiB. Anything near the line size means the
	// line was buffered whole.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("reading a %d-byte line allocated %d bytes", size, alloc)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		path   string
		is     error  // expected in the chain, if any
		substr string // expected in the message
	}{
		{"missing", filepath.Join(dir, "missing"), fs.ErrNotExist, "open " + filepath.Join(dir, "missing") + ": "},
		{"bad gzip header", writeFile(t, dir, "bad.gz", []byte("\x1f\x8bnot really gzip")), nil, "bad.gz at offset 0: gzip: invalid header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Open(tt.path, Options{})
			if err == nil {
				r.Close()
				t.Fatal("Open succeeded, want error")
			}
			var se *Error
			if !errors.As(err, &se) || se.Source != tt.path {
				t.Errorf("error %v is not a *Error for %q", err, tt.path)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.substr) {
				t.Errorf("error %q does not contain %q", err, tt.substr)
			}
		})
	}
}

func TestStdinNotClosed(t *testing.T) {
	in := &closeRecorder{Reader: strings.NewReader("a\n")}
	r := mustOpen(t, "-", Options{Stdin: in})
	if _, err := readAll(t, r); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if in.closed {
		t.Error("Close closed the injected stdin")
	}
}

func TestReadErrorMidStream(t *testing.T) {
	errDisk := errors.New("disk on fire")
	long := strings.Repeat("x", 40)
	tests := []struct {
		name    string
		in      string // delivered before errDisk
		want    []got
		wantOff int64
	}{
		{"after a complete line", "ok\n", []got{{0, 3, "ok", false}}, 3},
		{"inside a line", "ok\npart", []got{{0, 3, "ok", false}}, 7},
		{"inside a long line", "ok\n" + long, []got{{0, 3, "ok", false}}, 43},
		{"at once", "", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := io.MultiReader(strings.NewReader(tt.in), iotest.ErrReader(errDisk))
			r := mustOpen(t, "-", Options{Stdin: in, MaxLineBytes: 4, minBuffer: 16})
			lines, err := readAll(t, r)
			if diff := cmp.Diff(tt.want, lines); diff != "" {
				t.Errorf("lines mismatch (-want +got):\n%s", diff)
			}
			checkSourceError(t, err, "-", errDisk)
			var se *Error
			if errors.As(err, &se) && se.Offset != tt.wantOff {
				t.Errorf("error offset %d, want %d", se.Offset, tt.wantOff)
			}
			// The failed source is finished, so a log-and-continue loop ends.
			if _, err := r.Next(t.Context()); err != io.EOF {
				t.Errorf("after the error: got %v, want io.EOF", err)
			}
		})
	}
}
