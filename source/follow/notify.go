package follow

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/nxadm/tail/watch"
)

// safetyInterval is how often the follower re-checks its file even when
// inotify is in use. Events can be lost (the kernel queue overflows, and
// nxadm/tail only logs that), and writes to a file that was already renamed
// away carry its new name, which is not watched; the re-check bounds the
// delay those cases cause. No line is lost either way, only late.
const safetyInterval = 2 * time.Second

// DefaultPollInterval is the polling period when Options.PollInterval is 0.
const DefaultPollInterval = 250 * time.Millisecond

// inotifyUsable probes once per process whether an inotify instance can be
// created. nxadm/tail's shared watcher calls os.Exit when it cannot create
// one, so it must never be started unless this probe passed.
var inotifyUsable = sync.OnceValue(func() bool {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return false
	}
	_ = w.Close()
	return true
})

// notifier wakes the follower when its path may have changed. It is only a
// hint: the follower re-checks the file itself on every wake, so a spurious
// or coalesced wake costs a stat, never a line.
//
// It uses nxadm/tail's shared inotify tracker with a watch on the parent
// directory (watch.WatchCreate): that one watch reports writes to, and the
// creation, rename and removal of, whatever file is at path, which is what
// rotation needs. The tracker's per-file watch (watch.Watch) and its
// ChangeEvents are not used: ChangeEvents calls os.Exit on a stat error.
type notifier struct {
	wake chan struct{}
	stop chan struct{}
	done chan struct{}
	abs  string
	// signal, when set, is called on every wake as well (see Multi).
	signal func()
	// watching is true while the directory watch is registered and must be
	// removed at stop.
	watching bool
	// period is how often it wakes without an event: the poll interval, or
	// safetyInterval under inotify.
	period time.Duration
}

func startNotifier(abs string, poll bool, interval time.Duration, log *slog.Logger, signal func()) *notifier {
	n := &notifier{
		wake:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
		abs:    abs,
		signal: signal,
		period: interval,
	}
	var events <-chan fsnotify.Event
	if !poll {
		if ev, err := addWatch(abs); err != nil {
			// Typically ENOSPC (fs.inotify.max_user_watches reached) or
			// EMFILE (max_user_instances): polling loses nothing.
			log.Warn("inotify unavailable, polling instead", "err", err, "interval", interval)
		} else {
			events, n.period, n.watching = ev, safetyInterval, true
		}
	}
	go n.run(events, n.period, interval)
	return n
}

// errNoInotify says the probe failed.
type errNoInotify struct{}

func (errNoInotify) Error() string { return "cannot create an inotify instance" }

// addWatch registers a watch on the directory of abs and returns the
// channel of events about abs. It is a variable so that tests can make it
// fail as a full inotify table does, without exhausting the real one.
var addWatch = watchDir

func watchDir(abs string) (<-chan fsnotify.Event, error) {
	if !inotifyUsable() {
		return nil, errNoInotify{}
	}
	if err := watch.WatchCreate(abs); err != nil {
		// The tracker has already registered a channel for abs and
		// blocks on it if an event for abs ever arrives (via another
		// follower's watch on the same directory). Removing the
		// registration would corrupt its watch count, so keep draining
		// the channel instead: one idle goroutine per such fallback.
		ch := watch.Events(filepath.Clean(abs))
		go func() {
			for range ch {
			}
		}()
		return nil, fmt.Errorf("watch %s: %w", filepath.Dir(abs), err)
	}
	return watch.Events(filepath.Clean(abs)), nil
}

func (n *notifier) run(events <-chan fsnotify.Event, period, pollInterval time.Duration) {
	defer close(n.done)
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case _, ok := <-events:
			if !ok {
				// Another follower of the same path removed the
				// shared registration; poll from now on.
				events = nil
				t.Reset(pollInterval)
			}
		case <-t.C:
		case <-n.stop:
			return
		}
		select {
		case n.wake <- struct{}{}:
		default: // a wake is already pending; wakes coalesce
		}
		if n.signal != nil {
			n.signal()
		}
	}
}

// close stops the notifier and releases its inotify watch.
func (n *notifier) close() {
	close(n.stop)
	<-n.done
	if n.watching {
		// RemoveWatchCreate closes the tracker's "done" channel for abs
		// first, so the tracker cannot stay blocked sending us an event.
		_ = watch.RemoveWatchCreate(n.abs)
	}
}
