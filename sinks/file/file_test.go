package file

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mailevents/mailevents/sinks"
	"github.com/mailevents/mailevents/sinks/sinktest"
)

func TestConformance(t *testing.T) {
	for _, mode := range []SyncMode{SyncEveryBatch, SyncInterval, SyncNever} {
		t.Run(mode.String(), func(t *testing.T) {
			var path string
			sinktest.Run(t, sinktest.Harness{
				New: func(t *testing.T) sinks.Sink {
					path = filepath.Join(t.TempDir(), "events.jsonl")
					w, err := Open(path, Options{Sync: mode, Interval: time.Hour})
					if err != nil {
						t.Fatal(err)
					}
					return w
				},
				ReadBack: func(t *testing.T) [][]byte { return readLines(t, path) },
			})
		})
	}
}

// readLines reads a file as an independent reader would, failing on a
// partial last line.
func readLines(t *testing.T, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) == 0 {
		return nil
	}
	if data[len(data)-1] != '\n' {
		t.Fatalf("%s does not end in a newline: a consumer would see a partial line", path)
	}
	return bytes.Split(data[:len(data)-1], []byte("\n"))
}

// batch returns n records whose values say which batch they belong to, padded
// to about size bytes.
func batch(name string, n, size int) []sinks.Record {
	out := make([]sinks.Record, n)
	for i := range out {
		v := fmt.Sprintf(`{"event":"MessageNew","b":%q,"i":%d,"pad":"`, name, i)
		v += strings.Repeat("x", max(0, size-len(v)-2)) + `"}`
		out[i] = sinks.Record{Value: []byte(v)}
	}
	return out
}

func lines(rs []sinks.Record) []string {
	out := make([]string, len(rs))
	for i := range rs {
		out[i] = string(rs[i].Value)
	}
	return out
}

func strs(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i := range bs {
		out[i] = string(bs[i])
	}
	return out
}

func equal(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s: got %d lines, want %d\ngot:  %.300q\nwant: %.300q", what, len(got), len(want), got, want)
	}
}

func mustOpen(t *testing.T, path string, opts Options) *Writer {
	t.Helper()
	w, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(context.Background()) })
	return w
}

func mustWrite(t *testing.T, w *Writer, b []sinks.Record) {
	t.Helper()
	if err := w.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}

func TestRotateBySize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	const maxBytes = 1000
	w := mustOpen(t, path, Options{MaxBytes: maxBytes, Keep: 20})
	var all []string
	var batches [][]sinks.Record
	for i := range 30 {
		b := batch(fmt.Sprint("b", i), 1+i%4, 100) // 101..404 bytes a batch
		if i == 17 {
			b = batch("huge", 3, 600) // larger than MaxBytes on its own
		}
		mustWrite(t, w, b)
		batches = append(batches, b)
		all = append(all, lines(b)...)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	// Oldest first: path.N … path.1, path.
	var files []string
	for i := 20; i >= 1; i-- {
		if _, err := os.Stat(fmt.Sprintf("%s.%d", path, i)); err == nil {
			files = append(files, fmt.Sprintf("%s.%d", path, i))
		}
	}
	files = append(files, path)
	if len(files) < 5 {
		t.Fatalf("only %d files after writing %d bytes with MaxBytes %d", len(files), len(strings.Join(all, "\n")), maxBytes)
	}
	firsts := map[string]bool{}
	for _, b := range batches {
		firsts[string(b[0].Value)] = true
	}
	var got []string
	for _, f := range files {
		ls := strs(readLines(t, f))
		fi, _ := os.Stat(f)
		if fi.Size() > maxBytes && !strings.Contains(ls[0], `"huge"`) {
			t.Errorf("%s is %d bytes, over MaxBytes without an oversized batch", f, fi.Size())
		}
		// Rotation happens only between batches, so every file starts with the
		// first record of a batch.
		if !firsts[ls[0]] {
			t.Errorf("%s starts mid-batch with %s", f, ls[0])
		}
		got = append(got, ls...)
	}
	equal(t, "records across rotated files", got, all)
}

func TestRotateKeepsOnlyKeep(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	w := mustOpen(t, path, Options{MaxBytes: 250, Keep: 2})
	var all []string
	for i := range 10 {
		b := batch(fmt.Sprint("b", i), 1, 200) // one batch per file
		mustWrite(t, w, b)
		all = append(all, lines(b)...)
	}
	if _, err := os.Stat(path + ".3"); !os.IsNotExist(err) {
		t.Fatalf("%s.3 exists (err %v) with Keep 2", path, err)
	}
	var got []string
	for _, f := range []string{path + ".2", path + ".1", path} {
		got = append(got, strs(readLines(t, f))...)
	}
	equal(t, "newest three files", got, all[len(all)-3:])
}

// logrotate's default: rename the file, then SIGHUP, which calls Reopen.
func TestReopenAfterRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.jsonl")
	w := mustOpen(t, path, Options{})
	a, b, c := batch("a", 3, 50), batch("b", 2, 50), batch("c", 4, 50)
	mustWrite(t, w, a)
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, w, b) // before the HUP: still the renamed file
	if err := w.Reopen(); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, w, c)
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	equal(t, "renamed file", strs(readLines(t, path+".1")), append(lines(a), lines(b)...))
	equal(t, "new file", strs(readLines(t, path)), lines(c))
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "plain")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("keep\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.jsonl")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"missing directory":   filepath.Join(dir, "nope", "events.jsonl"),
		"parent is a file":    filepath.Join(notDir, "events.jsonl"),
		"path is a directory": dir,
		"symlink":             link,
		"fifo":                fifo, // must fail, not block waiting for a reader
	}
	if fi, err := os.Stat("/proc/self"); err == nil && fi.IsDir() {
		// Unwritable even for root, which the chmod test below cannot be.
		cases["unwritable directory (procfs)"] = "/proc/events.jsonl"
	}
	for name, path := range cases {
		t.Run(name, func(t *testing.T) {
			w, err := Open(path, Options{})
			if err == nil {
				w.Close(context.Background())
				t.Fatalf("Open(%s) succeeded", path)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the path", err)
			}
		})
	}
	if data, _ := os.ReadFile(target); string(data) != "keep\n" {
		t.Errorf("symlink target changed to %q", data)
	}
}

func TestOptionErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	for _, o := range []Options{
		{Sync: SyncInterval},
		{Sync: SyncMode(9)},
		{MaxBytes: -1},
		{Keep: -1},
		{Mode: os.ModeSetuid | 0o640},
	} {
		if w, err := Open(path, o); err == nil {
			w.Close(context.Background())
			t.Errorf("Open with %+v succeeded", o)
		}
	}
}

func TestClosed(t *testing.T) {
	w := mustOpen(t, filepath.Join(t.TempDir(), "events.jsonl"), Options{})
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(context.Background(), batch("late", 1, 10)); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: %v, want ErrClosed", err)
	}
	if err := w.Reopen(); !errors.Is(err, ErrClosed) {
		t.Errorf("Reopen after Close: %v, want ErrClosed", err)
	}
	if got, want := w.Name(), "file:"+w.Path(); got != want {
		t.Errorf("Name() = %q, want %q", got, want)
	}
}
