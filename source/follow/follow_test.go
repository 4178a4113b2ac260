package follow

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mailevents/mailevents/source"
)

func TestAppendsAreSeen(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			path := logPath(t)
			w := create(t, path)
			f := open(t, path, m.opts) // empty file: the end is offset 0
			w.write("a", "b")
			got := expect(t, f, "a", "b")
			if got[1].Offset != 2 || got[1].End != 4 || got[1].Source != path {
				t.Errorf("position = %+v, want %s 2..4", got[1].Position, path)
			}
			if got[1].File.Inode != inode(t, path) || got[1].File.Path != path {
				t.Errorf("File = %v, want inode %d", got[1].File, inode(t, path))
			}
			if f.Key() != got[1].File {
				t.Errorf("Key() = %v, want %v", f.Key(), got[1].File)
			}
			// A partial line is held until its newline arrives.
			w.raw("c\r\npar")
			expect(t, f, "c")
			if f.Buffered() {
				t.Error("Buffered with only a partial line")
			}
			w.raw("tial\n")
			l := expect(t, f, "partial")[0]
			if l.Offset != 7 || l.End != 15 {
				t.Errorf("partial line at %d..%d, want 7..15", l.Offset, l.End)
			}
		})
	}
}

func TestStartAtEndVersusFromStart(t *testing.T) {
	path := logPath(t)
	w := create(t, path)
	w.raw("old1\nold2\npart")

	end := open(t, path, Options{})
	start := open(t, path, Options{FromStart: true})
	w.raw("ial\nnew\n")
	// The end is after the last complete line, so a line being written
	// when the follower started is returned whole.
	expect(t, end, "partial", "new")
	expect(t, start, "old1", "old2", "partial", "new")
}

func TestFileAppearsLater(t *testing.T) {
	path := logPath(t)
	f := open(t, path, Options{})
	create(t, path).write("first")
	expect(t, f, "first")
}

func TestLongLine(t *testing.T) {
	path := logPath(t)
	w := create(t, path)
	f := open(t, path, Options{MaxLineBytes: 100, FromStart: true})
	long := strings.Repeat("x", 100_000)
	w.raw(long[:300]) // longer than the limit, still unterminated
	w.raw(long[300:] + "\nshort\n")
	l := next(t, f)
	if !l.Truncated || string(l.Text) != long[:100] || l.Offset != 0 || l.End != int64(len(long)+1) {
		t.Fatalf("long line = %d bytes truncated=%v at %d..%d", len(l.Text), l.Truncated, l.Offset, l.End)
	}
	expect(t, f, "short")
}

func TestCloseEndsNext(t *testing.T) {
	path := logPath(t)
	create(t, path)
	f := open(t, path, Options{})
	errc := make(chan error, 1)
	go func() {
		_, err := f.Next(context.Background())
		errc <- err
	}()
	must(t, f.Close())
	select {
	case err := <-errc:
		if !errors.Is(err, source.ErrClosed) {
			t.Fatalf("Next after Close: %v", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Next still blocked after Close")
	}
	must(t, f.Close()) // idempotent
}

func TestContextEndsNext(t *testing.T) {
	path := logPath(t)
	create(t, path)
	f := open(t, path, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next with a cancelled context: %v", err)
	}
}

func TestNotRegularFile(t *testing.T) {
	if _, err := Open(t.TempDir(), Options{Logger: testLogger(t)}); err == nil {
		t.Fatal("Open of a directory succeeded")
	}
}
