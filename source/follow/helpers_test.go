package follow

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// waitLimit bounds every wait: tests wait for lines, never sleep.
const waitLimit = 10 * time.Second

// modes runs a test with inotify and with polling, since they wake the
// follower differently.
var modes = []struct {
	name string
	opts Options
}{
	{"inotify", Options{}},
	{"poll", Options{Poll: true, PollInterval: 5 * time.Millisecond}},
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, nil)).With("test", t.Name())
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func open(t *testing.T, path string, opts Options) *Follower {
	t.Helper()
	opts.Logger = testLogger(t)
	f, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func next(t *testing.T, f *Follower) Line {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	l, err := f.NextLine(ctx)
	if err != nil {
		t.Fatalf("NextLine: %v", err)
	}
	l.Text = append([]byte(nil), l.Text...) // outlive the next call
	return l
}

// expect reads len(want) lines and checks their text, in order.
func expect(t *testing.T, f *Follower, want ...string) []Line {
	t.Helper()
	got := make([]Line, 0, len(want))
	for i, w := range want {
		l := next(t, f)
		if string(l.Text) != w {
			t.Fatalf("line %d: got %q, want %q", i, l.Text, w)
		}
		got = append(got, l)
	}
	return got
}

// lines returns "line-0001" ... for from..to inclusive.
func lines(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("line-%04d", i))
	}
	return out
}

// writer appends to one open file, like a daemon holding its log open
// across a rename until it is told to reopen.
type writer struct {
	t *testing.T
	f *os.File
}

func create(t *testing.T, path string) *writer {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return &writer{t: t, f: f}
}

func (w *writer) write(ls ...string) {
	w.t.Helper()
	for _, l := range ls {
		if _, err := io.WriteString(w.f, l+"\n"); err != nil {
			w.t.Fatal(err)
		}
	}
}

func (w *writer) raw(s string) {
	w.t.Helper()
	if _, err := io.WriteString(w.f, s); err != nil {
		w.t.Fatal(err)
	}
}

func logPath(t *testing.T) string { return filepath.Join(t.TempDir(), "mail.log") }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	must(t, err)
	_, ino, _ := devInode(fi)
	return ino
}

// compress replaces name by dst, its gzip-compressed copy, as logrotate's
// compress does: a new inode whose decompressed content is the old bytes.
func compress(t *testing.T, name, dst string) {
	t.Helper()
	data, err := os.ReadFile(name)
	must(t, err)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err = zw.Write(data)
	must(t, err)
	must(t, zw.Close())
	must(t, os.WriteFile(dst, buf.Bytes(), 0o644))
	must(t, os.Remove(name))
}

// checkOffsets checks the positions of lines read across files: got splits
// into runs of lines from one file (one key), the k-th run starts
// at offset starts[k], and within a run every line starts where the one
// before it ended. Every line says it came from path.
func checkOffsets(t *testing.T, path string, got []Line, starts ...int64) {
	t.Helper()
	run := -1
	for i, l := range got {
		if l.Source != path {
			t.Fatalf("line %d (%q): Source %q, want %q", i, l.Text, l.Source, path)
		}
		if l.End != l.Offset+int64(len(l.Text))+1 {
			t.Fatalf("line %d (%q) at %d..%d: not one line long", i, l.Text, l.Offset, l.End)
		}
		if i == 0 || l.File != got[i-1].File {
			run++
			if run >= len(starts) {
				t.Fatalf("line %d (%q) starts run %d of inode %d; want %d runs", i, l.Text, run+1, l.File.Inode, len(starts))
			}
			if l.Offset != starts[run] {
				t.Fatalf("line %d (%q) starts run %d at offset %d, want %d", i, l.Text, run+1, l.Offset, starts[run])
			}
			continue
		}
		if l.Offset != got[i-1].End {
			t.Fatalf("line %d (%q) at offset %d, the line before ended at %d", i, l.Text, l.Offset, got[i-1].End)
		}
	}
	if run+1 != len(starts) {
		t.Fatalf("lines came from %d files in turn, want %d", run+1, len(starts))
	}
}

// lineBytes is the size of each line made by lines, with its "\n".
const lineBytes = int64(len("line-0001\n"))
