package follow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// recorder is a slog.Handler that keeps the records, for tests that check
// what was logged.
type recorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }

func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec.Clone())
	return nil
}

// errorOf returns the "err" attribute of the first record with message msg.
func (r *recorder) errorOf(msg string) (error, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range r.recs {
		if rec.Message != msg {
			continue
		}
		var found error
		rec.Attrs(func(a slog.Attr) bool {
			if a.Key == "err" {
				found, _ = a.Value.Any().(error)
			}
			return true
		})
		return found, true
	}
	return nil, false
}

// TestWatchLimitFallsBackToPolling forces the error that inotify gives
// when its watch table (ENOSPC) or its instances (EMFILE) are used up: the
// follower polls at its poll interval instead and still sees every line.
func TestWatchLimitFallsBackToPolling(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EMFILE} {
		t.Run(errno.Error(), func(t *testing.T) {
			saved := addWatch
			t.Cleanup(func() { addWatch = saved })
			calls := 0
			addWatch = func(abs string) (<-chan fsnotify.Event, error) {
				calls++
				return nil, fmt.Errorf("watch %s: %w", filepath.Dir(abs), errno)
			}
			rec := &recorder{}
			path := logPath(t)
			w := create(t, path)
			const interval = 5 * time.Millisecond
			f, err := Open(path, Options{PollInterval: interval, Logger: slog.New(rec)})
			must(t, err)
			t.Cleanup(func() { f.Close() })

			if calls != 1 {
				t.Fatalf("watch attempted %d times, want 1", calls)
			}
			if f.notify.watching || f.notify.period != interval {
				t.Fatalf("watching=%v period=%v; want polling every %v", f.notify.watching, f.notify.period, interval)
			}
			logged, ok := rec.errorOf("inotify unavailable, polling instead")
			if !ok || !errors.Is(logged, errno) {
				t.Fatalf("fallback logged=%v with err %v, want %v", ok, logged, errno)
			}
			w.write("a", "b")
			expect(t, f, "a", "b")
		})
	}
}

// TestWatchUsedWhenAvailable is the counterpart: without a failure the
// follower relies on inotify and only re-checks at the safety interval.
func TestWatchUsedWhenAvailable(t *testing.T) {
	if !inotifyUsable() {
		if os.Getenv("MAILEVENTS_SKIP_INOTIFY") == "" {
			t.Fatal("inotify is not usable here; set MAILEVENTS_SKIP_INOTIFY=1 to skip this test on such a system")
		}
		t.Skip("no inotify on this system; MAILEVENTS_SKIP_INOTIFY is set")
	}
	path := logPath(t)
	w := create(t, path)
	f := open(t, path, Options{PollInterval: 5 * time.Millisecond})
	if !f.notify.watching || f.notify.period != safetyInterval {
		t.Fatalf("watching=%v period=%v; want inotify", f.notify.watching, f.notify.period)
	}
	w.write("a")
	expect(t, f, "a")
}
