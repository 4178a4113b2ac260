package follow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailevents/mailevents/source"
)

// Defaults for GlobOptions.
const (
	DefaultRescan    = time.Second
	DefaultDropAfter = 30 * time.Second
)

// GlobOptions tunes OpenGlob.
type GlobOptions struct {
	// Resume returns the checkpoint to resume path at, or nil when there
	// is none. It is called for every file OpenGlob starts to follow, also
	// for files found later. StoreResume builds one from a checkpoint
	// store. nil means no checkpoints.
	Resume func(path string) (*Position, error)
	// FromStart reads the files that exist when OpenGlob is called, and
	// have no checkpoint, from offset 0. By default they are read from
	// their end, like tail -F. Files found later are always read from 0:
	// everything in them is new.
	FromStart bool
	// Rescan is how often the patterns are matched again to find new
	// files; DefaultRescan when 0.
	Rescan time.Duration
	// DropAfter is how long a followed path must stay missing before its
	// follower is dropped, once everything in its open file is read; a
	// rotation that renames the file and creates it again a moment later
	// must not end the follower. DefaultDropAfter when 0.
	DropAfter time.Duration
	// Poll, PollInterval and MaxLineBytes are passed to every follower;
	// see Options.
	Poll         bool
	PollInterval time.Duration
	MaxLineBytes int
	Logger       *slog.Logger // slog.Default() when nil
}

// Multi follows every file that matches a set of patterns, picking up files
// that appear later, and returns their lines interleaved; the lines of one
// file keep their order. Each line carries the key of its file, so that
// positions are committed per file.
//
// Rotated files are never followed as inputs of their own: the follower of
// the file they were rotated from reads them when it needs to (see the
// package documentation). So a file is left out when its name is a
// rotation of another file that matches or is followed (with the pattern
// /var/log/mail.log*, mail.log.1 and mail.log-20250101.gz are rotations of
// mail.log), and compressed files are never followed. A path left out once
// stays out for the life of the Multi, so that mail.log.1 is not taken for
// a new log when mail.log is gone. A pattern such as /var/log/dovecot/*.log
// does not match rotated files in the first place, except with logrotate's
// "extension" option (imap-20250101.log), which the same rule covers. A
// file renamed to a name that is not a rotation (no number or date) but
// matches a pattern is taken for a new file and read again from 0.
//
// A followed file whose path is gone for DropAfter, and whose open file
// is read to its end, is dropped; if its path comes back, it is a new
// file, resumed from a checkpoint if Resume has one.
//
// NextLine and Buffered are not safe for concurrent use; Close may be
// called from another goroutine to end a blocked NextLine.
type Multi struct {
	patterns []string
	opts     GlobOptions
	log      *slog.Logger
	wake     chan struct{}
	ticker   *time.Ticker

	closeOnce sync.Once
	closed    chan struct{}

	mu      sync.Mutex // held by NextLine while polling and rescanning, and by Close
	shut    bool
	files   []*globFile // in path order
	rr      int         // where the next round of polls starts
	pending []Line      // last lines of dropped files, returned first
	ignored map[string]bool
	errs    map[string]string // the last error reported per path
	scans   atomic.Int64      // rescans done, a barrier for tests
}

type globFile struct {
	path string
	f    *Follower
	// dirty is set by the follower's notifier: it may have lines. It is
	// cleared before polling, so that a wake during the poll is kept.
	dirty atomic.Bool
	// active: the last poll returned a line, so there may be more.
	active       bool
	missingSince time.Time
	retiring     bool // a rotation of another followed file: drop when drained
}

// OpenGlob starts following every regular file that matches one of
// patterns (filepath.Match syntax), and those that match later.
func OpenGlob(patterns []string, opts GlobOptions) (*Multi, error) {
	if len(patterns) == 0 {
		return nil, errors.New("follow: no patterns")
	}
	for _, p := range patterns {
		if _, err := filepath.Match(p, ""); err != nil {
			return nil, fmt.Errorf("follow: pattern %q: %w", p, err)
		}
	}
	if opts.Rescan <= 0 {
		opts.Rescan = DefaultRescan
	}
	if opts.DropAfter <= 0 {
		opts.DropAfter = DefaultDropAfter
	}
	m := &Multi{
		patterns: slices.Clone(patterns),
		opts:     opts,
		log:      opts.Logger,
		wake:     make(chan struct{}, 1),
		closed:   make(chan struct{}),
		ignored:  map[string]bool{},
		errs:     map[string]string{},
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	m.log = m.log.With("component", "follow")
	m.mu.Lock()
	defer m.mu.Unlock()
	paths, err := m.match()
	if err != nil {
		return nil, err
	}
	for _, p := range m.inputs(paths) {
		if err := m.add(p, true); err != nil {
			m.closeFiles()
			return nil, err
		}
	}
	m.ticker = time.NewTicker(opts.Rescan)
	return m, nil
}

// match returns the regular, uncompressed files that match a pattern.
func (m *Multi) match() ([]string, error) {
	var out []string
	for _, p := range m.patterns {
		ms, err := filepath.Glob(p)
		if err != nil {
			return nil, fmt.Errorf("follow: pattern %q: %w", p, err)
		}
		for _, name := range ms {
			if compressedExt(name) != "" || slices.Contains(out, name) {
				continue
			}
			if fi, err := os.Stat(name); err == nil && fi.Mode().IsRegular() {
				out = append(out, name)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// inputs returns the paths of matched that are not followed yet and are
// to be: not rotations of another matched or followed file.
func (m *Multi) inputs(matched []string) []string {
	bases := map[string]bool{}
	for _, p := range matched {
		bases[p] = true
	}
	for _, g := range m.files {
		bases[g.path] = true
	}
	var out []string
	for _, p := range matched {
		if m.ignored[p] || m.find(p) != nil {
			continue
		}
		if base, ok := rotationOf(p, bases); ok {
			m.ignored[p] = true
			m.log.Debug("not following a rotated file", "file", p, "rotated_from", base)
			continue
		}
		out = append(out, p)
	}
	return out
}

// rotationOf reports whether path is a rotation of one of bases, and of
// which. The candidates are the prefixes of its name that end before a
// separator, with and without its last extension put back (logrotate's
// "extension" option), so the cost grows with the name, not with bases.
func rotationOf(path string, bases map[string]bool) (string, bool) {
	dir, name := filepath.Split(path)
	plain := name[:len(name)-len(compressedExt(name))]
	ext := filepath.Ext(plain)
	for i := 1; i < len(plain); i++ {
		if !isSep(plain[i]) {
			continue
		}
		for _, base := range []string{plain[:i], plain[:i] + ext} {
			if base != name && bases[dir+base] {
				if _, ok := parseRotated(base, name); ok {
					return dir + base, true
				}
			}
		}
	}
	return "", false
}

func (m *Multi) find(path string) *globFile {
	for _, g := range m.files {
		if g.path == path {
			return g
		}
	}
	return nil
}

// add starts following path. initial is true for the files found by
// OpenGlob itself, which start at their end unless FromStart is set.
func (m *Multi) add(path string, initial bool) error {
	var from *Position
	if m.opts.Resume != nil {
		var err error
		if from, err = m.opts.Resume(path); err != nil {
			return fmt.Errorf("follow %s: resume: %w", path, err)
		}
	}
	g := &globFile{path: path}
	g.dirty.Store(true)
	f, err := openFollower(path, Options{
		From:         from,
		FromStart:    m.opts.FromStart || !initial,
		Poll:         m.opts.Poll,
		PollInterval: m.opts.PollInterval,
		MaxLineBytes: m.opts.MaxLineBytes,
		Logger:       m.opts.Logger, // the follower adds its own attributes
	}, func() {
		g.dirty.Store(true)
		select {
		case m.wake <- struct{}{}:
		default:
		}
	})
	if err != nil {
		return err
	}
	g.f = f
	i, _ := slices.BinarySearchFunc(m.files, path, func(g *globFile, p string) int {
		return strings.Compare(g.path, p)
	})
	m.files = slices.Insert(m.files, i, g)
	if !initial {
		m.log.Info("following new file", "path", path)
	}
	return nil
}

// rescan matches the patterns again: it starts following new files, and
// drops followers whose path is gone (or became a rotation of another
// followed path) once everything in their open file is read. It returns
// the first error not reported before for its path; the path is tried
// again at the next rescan.
func (m *Multi) rescan(now time.Time) error {
	defer m.scans.Add(1)
	matched, err := m.match()
	if err != nil {
		return err
	}
	var first error
	report := func(path string, err error) {
		if err == nil {
			delete(m.errs, path)
			return
		}
		if m.errs[path] != err.Error() && first == nil {
			first = err
		}
		m.errs[path] = err.Error()
	}
	for _, p := range m.inputs(matched) {
		err := m.add(p, false)
		if isNotExist(err) {
			err = nil // gone again before it could be opened
		}
		report(p, err)
	}
	bases := map[string]bool{}
	for _, g := range m.files {
		bases[g.path] = true
	}
	for _, g := range slices.Clone(m.files) {
		if !g.retiring {
			if base, ok := rotationOf(g.path, bases); ok {
				m.log.Info("followed file is a rotation of another; dropping it once read", "path", g.path, "rotated_from", base)
				g.retiring = true
				m.ignored[g.path] = true
			}
		}
		switch {
		case g.retiring:
		case slices.Contains(matched, g.path):
			g.missingSince = time.Time{}
			continue
		case g.missingSince.IsZero():
			g.missingSince = now
		}
		if (g.retiring || now.Sub(g.missingSince) >= m.opts.DropAfter) && g.f.drained() {
			m.drop(g)
		}
	}
	return first
}

// drop stops following g, keeping its unterminated last line, if any.
func (m *Multi) drop(g *globFile) {
	if l, ok := g.f.finish(); ok {
		l.Text = slices.Clone(l.Text)
		m.pending = append(m.pending, l)
	}
	g.f.Close()
	m.files = slices.DeleteFunc(m.files, func(x *globFile) bool { return x == g })
	m.log.Info("stopped following file", "path", g.path)
}

// Next implements source.Reader.
func (m *Multi) Next(ctx context.Context) (source.Line, error) {
	l, err := m.NextLine(ctx)
	return l.Line, err
}

// NextLine returns the next line of any followed file, blocking until one
// is written or ctx is done. An error concerns one file (wrapped with its
// path); the others go on, and the call after it reads on.
func (m *Multi) NextLine(ctx context.Context) (Line, error) {
	due := false
	for {
		l, ok, err := m.step(due)
		if ok || err != nil {
			return l, err
		}
		due = false
		select {
		case <-ctx.Done():
			return Line{}, ctx.Err()
		case <-m.closed:
			return Line{}, source.ErrClosed
		case <-m.wake:
		case <-m.ticker.C:
			due = true
		}
	}
}

// step rescans if due, then returns a line if one is available now.
func (m *Multi) step(due bool) (Line, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.shut {
		return Line{}, false, source.ErrClosed
	}
	select {
	case <-m.ticker.C: // a busy reader never waits, but must rescan too
		due = true
	default:
	}
	if due {
		if err := m.rescan(time.Now()); err != nil {
			return Line{}, false, err
		}
	}
	if len(m.pending) > 0 {
		l := m.pending[0]
		m.pending = m.pending[1:]
		return l, true, nil
	}
	// Round robin from the file after the last one that gave a line, so
	// that a busy file cannot starve the others.
	n := len(m.files)
	for i := range n {
		idx := (m.rr + i) % n
		g := m.files[idx]
		if !g.active && !g.dirty.Load() {
			continue
		}
		g.dirty.Store(false)
		l, ok, err := g.f.poll()
		g.active = ok
		if err != nil {
			return Line{}, false, err
		}
		if ok {
			m.rr = idx + 1
			return l, true, nil
		}
	}
	return Line{}, false, nil
}

// Buffered implements source.Reader.
func (m *Multi) Buffered() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.pending) > 0 {
		return true
	}
	for _, g := range m.files {
		if g.f.Buffered() {
			return true
		}
	}
	return false
}

// Paths returns the paths being followed, in order.
func (m *Multi) Paths() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, len(m.files))
	for i, g := range m.files {
		out[i] = g.path
	}
	return out
}

// Close implements source.Reader. It is idempotent and ends a blocked
// NextLine.
func (m *Multi) Close() error {
	m.closeOnce.Do(func() {
		close(m.closed)
		m.mu.Lock()
		defer m.mu.Unlock()
		m.shut = true
		m.ticker.Stop()
		m.closeFiles()
	})
	return nil
}

func (m *Multi) closeFiles() {
	for _, g := range m.files {
		g.f.Close()
	}
	m.files = nil
}

var _ source.Reader = (*Multi)(nil)
