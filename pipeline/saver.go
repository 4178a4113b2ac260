package pipeline

import (
	"sync"

	"github.com/mailevents/mailevents/checkpoint"
)

// saver writes checkpoint snapshots on a goroutine of its own, so that the
// fsyncs of a save (the file, then its directory: tens of milliseconds on a
// busy disk) do not hold up the lines behind it. The snapshot itself is
// taken by the processor, at a moment when positions and state agree; only
// the newest one waiting is kept, and the store never lets an older
// snapshot replace a newer file.
type saver struct {
	store   *checkpoint.Store
	pending chan checkpoint.Snapshot
	done    chan struct{}

	mu  sync.Mutex
	err error // the last write's failure, reported by the next save
}

func newSaver(store *checkpoint.Store) *saver {
	s := &saver{store: store, pending: make(chan checkpoint.Snapshot, 1), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for snap := range s.pending {
			err := store.WriteSnapshot(snap)
			s.mu.Lock()
			s.err = err
			s.mu.Unlock()
		}
	}()
	return s
}

// submit queues snap, replacing a snapshot still waiting (it is older), and
// returns the failure of the last write, if any. Only the processor calls
// it.
func (s *saver) submit(snap checkpoint.Snapshot) error {
	select {
	case <-s.pending:
	default:
	}
	s.pending <- snap
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// close waits for the writes in flight and returns the last failure.
func (s *saver) close() error {
	close(s.pending)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}
