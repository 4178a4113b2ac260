package file

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func size(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// A disk that fills up halfway through a batch: the half that landed must be
// cut off, and a retry of the whole batch must leave exactly one copy.
func TestWriteFailsMidBatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	w := mustOpen(t, path, Options{})
	first, second := batch("first", 3, 100), batch("second", 5, 100)
	mustWrite(t, w, first)
	before := size(t, path)

	w.write = func(f *os.File, p []byte) (int, error) {
		n, err := f.Write(p[:len(p)/2+7]) // not on a line boundary
		if err != nil {
			return n, err
		}
		return n, syscall.ENOSPC
	}
	err := w.Write(context.Background(), second)
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Write error = %v, want ENOSPC naming %s", err, path)
	}
	if got := size(t, path); got != before {
		t.Fatalf("after the failed write the file is %d bytes, want the pre-batch %d", got, before)
	}

	w.write = (*os.File).Write
	mustWrite(t, w, second) // the pipeline's retry
	equal(t, "after retry", strs(readLines(t, path)), append(lines(first), lines(second)...))
}

// A failed fsync means the batch may not be on disk; it is taken out so the
// retry does not leave two copies.
func TestSyncFailureTruncates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	w := mustOpen(t, path, Options{})
	first := batch("first", 2, 80)
	mustWrite(t, w, first)
	before := size(t, path)
	w.sync = func(*os.File) error { return syscall.EIO }
	if err := w.Write(context.Background(), batch("second", 2, 80)); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Write error = %v, want EIO", err)
	}
	if got := size(t, path); got != before {
		t.Fatalf("after the failed fsync the file is %d bytes, want %d", got, before)
	}
	w.sync = (*os.File).Sync
}

// fakeClock replaces time.Now so the interval test needs no sleeping.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestSyncModes(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		mode SyncMode
		// offsets of successive writes from the start; a negative offset is
		// an empty batch.
		at        []time.Duration
		wantSyncs []int // after each write
		// Close syncs whatever is left unsynced, in every mode: a clean
		// shutdown leaves everything on disk.
		wantClose int
	}{
		{SyncInterval, []time.Duration{0, 500 * ms, 999 * ms, 1000 * ms, 1500 * ms, -1600 * ms, 3000 * ms, 3001 * ms},
			[]int{1, 1, 1, 2, 2, 2, 3, 3}, 4},
		{SyncEveryBatch, []time.Duration{0, 1 * ms, 2 * ms, -3 * ms}, []int{1, 2, 3, 3}, 3},
		{SyncNever, []time.Duration{0, time.Hour, 2 * time.Hour}, []int{0, 0, 0}, 1},
	}
	for _, c := range cases {
		t.Run(c.mode.String(), func(t *testing.T) {
			w := mustOpen(t, filepath.Join(t.TempDir(), "events.jsonl"), Options{Sync: c.mode, Interval: time.Second})
			start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			clock := &fakeClock{t: start}
			syncs := 0
			w.now = clock.now
			w.sync = func(f *os.File) error { syncs++; return f.Sync() }
			for i, at := range c.at {
				b := batch(fmt.Sprint(i), 2, 50)
				if at < 0 {
					at, b = -at, nil
				}
				clock.t = start.Add(at)
				mustWrite(t, w, b)
				if syncs != c.wantSyncs[i] {
					t.Fatalf("after write %d at +%v: %d fsyncs, want %d", i, at, syncs, c.wantSyncs[i])
				}
			}
			if err := w.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if syncs != c.wantClose {
				t.Errorf("after Close: %d fsyncs, want %d", syncs, c.wantClose)
			}
		})
	}
}

// The signal handler calls Reopen while the pipeline writes; run with -race.
// Every record must end up in exactly one file, whole and in order.
func TestConcurrentWriteAndReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.jsonl")
	w := mustOpen(t, path, Options{Sync: SyncNever})
	const batches = 200
	var want []string
	for i := range batches {
		want = append(want, lines(batch(fmt.Sprint(i), 1+i%5, 60))...)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	var rotated []string
	wg.Go(func() {
		for n := 0; ; n++ {
			select {
			case <-done:
				return
			default:
			}
			old := filepath.Join(dir, fmt.Sprintf("old.%04d", n))
			if err := os.Rename(path, old); err != nil && !os.IsNotExist(err) {
				t.Error(err)
				return
			} else if err == nil {
				rotated = append(rotated, old)
			}
			if err := w.Reopen(); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for i := range batches {
		if err := w.Write(context.Background(), batch(fmt.Sprint(i), 1+i%5, 60)); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range append(rotated, path) {
		got = append(got, strs(readLines(t, f))...)
	}
	equal(t, "records across reopened files", got, want)
	t.Logf("%d reopens", len(rotated))
}

// If the truncate after a failed write fails too, the partial line is cut
// before anything else is written (or before the file is let go of).
func TestPendingRepair(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	w := mustOpen(t, path, Options{})
	first, second := batch("first", 2, 60), batch("second", 2, 60)
	mustWrite(t, w, first)
	before := size(t, path)

	// The state a failed write plus a failed truncate leave behind.
	w.write = func(f *os.File, p []byte) (int, error) {
		n, _ := f.Write(p[:10])
		return n, syscall.EIO
	}
	w.Write(context.Background(), second)
	if _, err := w.f.Write([]byte(`{"partial`)); err != nil {
		t.Fatal(err)
	}
	w.repair = before
	w.write = (*os.File).Write

	mustWrite(t, w, second)
	equal(t, "after repair on write", strs(readLines(t, path)), append(lines(first), lines(second)...))

	if _, err := w.f.Write([]byte(`{"partial`)); err != nil {
		t.Fatal(err)
	}
	w.repair = size(t, path) - int64(len(`{"partial`))
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := w.Reopen(); err != nil {
		t.Fatal(err)
	}
	equal(t, "file let go of by Reopen", strs(readLines(t, path+".1")), append(lines(first), lines(second)...))
}

// A process killed in the middle of writing a batch leaves part of a line;
// the next Open cuts it off, so that the batch written again (it was never
// acknowledged) does not land after half a record.
func TestOpenCutsATornTail(t *testing.T) {
	for _, tc := range []struct {
		name, before, want string
	}{
		{"whole lines", "{\"a\":1}\n{\"b\":2}\n", "{\"a\":1}\n{\"b\":2}\n"},
		{"torn last line", "{\"a\":1}\n{\"b\":", "{\"a\":1}\n"},
		{"only a torn line", "{\"a\"", ""},
		{"torn line longer than a read", "{\"a\":1}\n" + strings.Repeat("x", 200<<10), "{\"a\":1}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "events.jsonl")
			if err := os.WriteFile(path, []byte(tc.before), 0o640); err != nil {
				t.Fatal(err)
			}
			w := mustOpen(t, path, Options{})
			mustWrite(t, w, batch("next", 1, 10))
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(got), tc.want) || strings.Count(string(got), "\n") != strings.Count(tc.want, "\n")+1 {
				t.Fatalf("after Open and one record: %q", got)
			}
		})
	}
}
