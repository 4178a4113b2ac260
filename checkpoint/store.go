package checkpoint

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"unicode/utf8"
)

// Limits. The state is meant for small, bounded maps; a blob near the limit
// means the mapping's own bound is missing, and the error says so early
// instead of writing ever larger checkpoints.
const (
	// MaxStateBytes bounds the state: names plus data, over all names.
	MaxStateBytes = 1 << 20
	// MaxStateName bounds one state name, in bytes.
	MaxStateName = 128
	// maxFileBytes bounds what Open reads: the state in base64 plus many
	// thousands of file entries.
	maxFileBytes = 4*MaxStateBytes + 16<<20
)

var (
	// ErrClosed is returned by Commit, SetState and Save after Close.
	ErrClosed = errors.New("checkpoint: store is closed")
	// ErrBackwards is wrapped by the error of a Commit that would move a
	// file's position backwards; the position is left as it was.
	ErrBackwards = errors.New("position would move backwards")
	// ErrStateTooLarge is wrapped by the error of a SetState over
	// MaxStateBytes; the state is left as it was.
	ErrStateTooLarge = errors.New("state too large")
)

// CorruptError reports a checkpoint file whose content Open cannot trust.
type CorruptError struct {
	Path string // the checkpoint file
	Err  error  // the problem, e.g. `files[2]: negative offset -5`
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("checkpoint file %s is corrupt: %v", e.Path, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// Position is how far a file has been delivered.
type Position struct {
	// Offset is the byte offset where reading resumes: the End of the last
	// acknowledged line (source.Position.End).
	Offset int64
	// Line is the number of lines before Offset, when the reader counts
	// them (0: unknown). It is informational; only Offset is compared.
	Line int64
	// Cursor is a journald cursor, for sources that are not files.
	Cursor string
}

func (p Position) validate() error {
	switch {
	case p.Offset < 0:
		return fmt.Errorf("negative offset %d", p.Offset)
	case p.Line < 0:
		return fmt.Errorf("negative line %d", p.Line)
	case !utf8.ValidString(p.Cursor):
		return fmt.Errorf("cursor %q is not valid UTF-8", p.Cursor)
	}
	return nil
}

// Store holds the committed positions and state in memory and saves them
// to one file. All methods are safe for concurrent use.
type Store struct {
	path string

	// saveMu serializes Save and Close, so that an older snapshot can
	// never be renamed over a newer one. It is taken before mu and is not
	// held by Commit, so the ack path never waits for the disk.
	saveMu   sync.Mutex
	closeErr error // guarded by saveMu

	mu         sync.Mutex
	files      map[FileKey]Position
	state      map[string][]byte
	stateBytes int
	gen, saved uint64 // mutation counter and its value at the last save
	closed     bool

	// ops is the file system as Save sees it; tests replace parts of it.
	ops fsOps
}

func newStore(path string) *Store {
	return &Store{path: path, files: map[FileKey]Position{}, state: map[string][]byte{}, ops: osOps}
}

// Open loads the checkpoint at path. A missing file gives an empty store
// (the first start); anything else that prevents trusting the file is an
// error naming it, a *CorruptError when the content is at fault. See the
// package documentation for why the daemon stops on it.
func Open(path string) (*Store, error) {
	data, err := readFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		// Fail now rather than at the first Save if nothing can be
		// written where the file should be.
		dir := filepath.Dir(path)
		if fi, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("checkpoint: directory of %s: %w", path, err)
		} else if !fi.IsDir() {
			return nil, fmt.Errorf("checkpoint: %s: %s is not a directory", path, dir)
		}
		return newStore(path), nil
	}
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		// Save never leaves an empty file, so something else wrote it.
		return nil, &CorruptError{Path: path, Err: errors.New("empty file")}
	}
	files, state, err := decode(data)
	if err != nil {
		return nil, &CorruptError{Path: path, Err: err}
	}
	s := newStore(path)
	s.files, s.state = files, state
	for name, data := range state {
		s.stateBytes += len(name) + len(data)
	}
	return s, nil
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("checkpoint: %s: %w", path, notRegular(fi))
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("checkpoint: read %s: %w", path, err)
	}
	if len(data) > maxFileBytes {
		return nil, &CorruptError{Path: path, Err: fmt.Errorf("larger than %d bytes", maxFileBytes)}
	}
	return data, nil
}

// OpenFresh returns an empty store for path without reading the file there.
// It is what the daemon's --reset-checkpoint does: an explicit operator
// choice to discard an unreadable or corrupt checkpoint, never a fallback
// taken on its own. The first Save replaces the old file, even if nothing
// was committed, so the next start does not stop on it again.
func OpenFresh(path string) (*Store, error) {
	if fi, err := os.Stat(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("checkpoint: directory of %s: %w", path, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("checkpoint: %s: %s is not a directory", path, filepath.Dir(path))
	}
	s := newStore(path)
	s.gen = 1 // dirty: the first Save writes
	return s, nil
}

// Path returns the checkpoint file's path.
func (s *Store) Path() string { return s.path }

// Position returns the committed position of key, if any.
func (s *Store) Position(key FileKey) (Position, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.files[key]
	return p, ok
}

// Keys returns the keys with a committed position, so that the daemon can
// Forget the files that no longer exist.
func (s *Store) Keys() []FileKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sortedKeys(s.files)
}

// Commit records pos as key's position, in memory; Save writes it. Call it
// only for lines the sink has acknowledged (see the package documentation).
//
// Positions only move forward within one file identity: a pos with a lower
// Offset than the committed one is not recorded, and the error wraps
// ErrBackwards. That can only come from a bug in the caller (acks out of
// order, or a key reused for another file), and keeping the higher offset
// is the choice that re-reads nothing already delivered. An equal Offset
// updates Line and Cursor.
func (s *Store) Commit(key FileKey, pos Position) error {
	if err := key.validate(); err != nil {
		return fmt.Errorf("checkpoint: commit: %w", err)
	}
	if err := pos.validate(); err != nil {
		return fmt.Errorf("checkpoint: commit %s: %w", key.Path, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	old, ok := s.files[key]
	if ok && pos.Offset < old.Offset {
		return fmt.Errorf("checkpoint: commit %s at offset %d, behind the committed %d: %w", key, pos.Offset, old.Offset, ErrBackwards)
	}
	if ok && pos == old {
		return nil
	}
	s.files[key] = pos
	s.gen++
	return nil
}

// Forget drops key's position, for a file that no longer exists.
func (s *Store) Forget(key FileKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.files[key]; ok {
		delete(s.files, key)
		s.gen++
	}
}

// State returns a copy of the blob saved under name.
func (s *Store) State(name string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	data, ok := s.state[name]
	return append([]byte(nil), data...), ok
}

// StateNames returns the names of the saved blobs, sorted.
func (s *Store) StateNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.state))
}

// SetState stores a copy of data under name, to be saved with the
// positions; empty data deletes name. The names and data of all blobs
// together must stay within MaxStateBytes; over it, the error wraps
// ErrStateTooLarge and the state is unchanged.
func (s *Store) SetState(name string, data []byte) error {
	if err := validateStateName(name); err != nil {
		return fmt.Errorf("checkpoint: set state: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	old, had := s.state[name]
	total := s.stateBytes
	if had {
		total -= len(name) + len(old)
	}
	if len(data) == 0 {
		if had {
			delete(s.state, name)
			s.stateBytes = total
			s.gen++
		}
		return nil
	}
	if total += len(name) + len(data); total > MaxStateBytes {
		return fmt.Errorf("checkpoint: state %q of %d bytes would bring the state to %d bytes, over the limit of %d: %w",
			name, len(data), total, MaxStateBytes, ErrStateTooLarge)
	}
	s.state[name] = append([]byte(nil), data...)
	s.stateBytes = total
	s.gen++
	return nil
}

func validateStateName(name string) error {
	switch {
	case name == "":
		return errors.New("empty state name")
	case len(name) > MaxStateName:
		return fmt.Errorf("state name of %d bytes, over the limit of %d", len(name), MaxStateName)
	case !utf8.ValidString(name):
		return fmt.Errorf("state name %q is not valid UTF-8", name)
	}
	return nil
}

// Save writes the committed positions and the state to the file
// atomically: a crash at any moment leaves either the old file or the new
// one, both complete. When nothing changed since the last Save it writes
// nothing, so a ticker on an idle daemon costs no fsync.
func (s *Store) Save() error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	return s.save()
}

func (s *Store) save() error {
	snap, err := s.Snapshot()
	if err != nil || !snap.changed {
		return err
	}
	return s.write(snap)
}

// Snapshot is the store's content at one moment: what WriteSnapshot writes.
type Snapshot struct {
	gen     uint64
	changed bool
	files   map[FileKey]Position
	state   map[string][]byte
}

// Snapshot copies the committed positions and the state as they are now.
// With WriteSnapshot it splits Save in two, so that a caller can take the
// copy at a moment of its choosing (when the positions and the state it
// set describe the same point) and leave the writing and its fsyncs to
// another goroutine while it commits more.
func (s *Store) Snapshot() (Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Snapshot{}, ErrClosed
	}
	// Copy under the lock and encode outside it, so that Commit waits for
	// a map copy at most. The blobs are shared, never modified in place.
	return Snapshot{gen: s.gen, changed: s.gen != s.saved, files: maps.Clone(s.files), state: maps.Clone(s.state)}, nil
}

// WriteSnapshot writes snap atomically, unless a later one was written
// already (an older snapshot never replaces a newer file).
func (s *Store) WriteSnapshot(snap Snapshot) error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	if !snap.changed {
		return nil
	}
	return s.write(snap)
}

// write is called with saveMu held.
func (s *Store) write(snap Snapshot) error {
	s.mu.Lock()
	stale := snap.gen <= s.saved && s.saved != 0
	s.mu.Unlock()
	if stale {
		return nil
	}
	data, err := encode(snap.files, snap.state)
	if err != nil {
		return fmt.Errorf("checkpoint: encode: %w", err)
	}
	if err := writeAtomic(s.path, data, s.ops); err != nil {
		return fmt.Errorf("checkpoint: save %s: %w", s.path, err)
	}
	s.mu.Lock()
	s.saved = max(s.saved, snap.gen)
	s.mu.Unlock()
	return nil
}

// Close saves a last time and closes the store; later Commit, SetState and
// Save return ErrClosed. It is idempotent: later calls return the first
// call's result.
func (s *Store) Close() error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return s.closeErr
	}
	s.closeErr = s.save()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return s.closeErr
}
