// Package journald reads the systemd journal by running journalctl -o json
// --follow, for mail servers that log to the journal rather than to files.
//
// Each record is one line of journalctl's JSON output, delivered as it was
// printed, which is what parsers/syslog's journald grammar parses; its
// __CURSOR is extracted so that the daemon can commit it and resume after
// it. journalctl is asked for the fields that grammar reads (see
// DefaultFields; __CURSOR, __REALTIME_TIMESTAMP, __MONOTONIC_TIMESTAMP and
// _BOOT_ID always come with them) and for whole fields (--all: without it,
// journalctl prints null for a field over 4 KiB).
//
// # Where reading starts
//
//   - Options.After set: after that cursor (--after-cursor), the resume
//     after a restart. journalctl seeks to the nearest entry when the one
//     named was vacuumed, so a cursor older than the journal resumes at its
//     start.
//   - FromStart: the whole journal (of the given units), then new entries.
//   - Otherwise: only entries written after Open (--lines=0).
//
// journalctl is restarted if it exits, after a delay that doubles from
// MinBackoff to MaxBackoff, after the last cursor read from it, so that
// nothing is skipped and nothing delivered twice. Before any entry was
// read it is restarted at the same starting point, except that "only new
// entries" becomes --since the moment of Open, which can repeat an entry
// written in the instant between Open and journalctl's first seek. A last
// line cut short by the exit is dropped: the restart prints that entry
// again, whole. Each exit is also returned once by NextLine, so that the
// daemon sees it; what journalctl writes to stderr is logged.
//
// The package needs journalctl (systemd), so it is for Linux; tests run a
// fake journalctl.
package journald

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/mailevents/mailevents/checkpoint"
	"github.com/mailevents/mailevents/source"
)

// DefaultFields are the fields requested with --output-fields: those the
// journald grammar of parsers/syslog reads.
var DefaultFields = []string{
	"MESSAGE", "SYSLOG_IDENTIFIER", "SYSLOG_PID", "_PID",
	"PRIORITY", "SYSLOG_FACILITY", "_HOSTNAME",
}

// Defaults for Options.
const (
	// DefaultMaxLineBytes bounds one record's JSON. It is larger than
	// source.DefaultMaxLineBytes because JSON quoting, and the byte arrays
	// journald prints for binary fields, make a record several times the
	// size of its message.
	DefaultMaxLineBytes = 1 << 20
	DefaultMinBackoff   = time.Second
	DefaultMaxBackoff   = time.Minute
)

// Options tunes Open.
type Options struct {
	// Name names the source: lines say "journald:" + Name. "journal" when
	// empty.
	Name string
	// Units and Identifiers select entries (--unit, --identifier). Given
	// both, an entry must match one of each, as journalctl combines them.
	// Neither means the whole journal.
	Units       []string
	Identifiers []string
	// After is the cursor of the last entry delivered before: reading
	// resumes after it. Offset is the Offset committed with it, so that
	// the running count of Line.Offset and Line.End goes on from there
	// rather than from 0 (a checkpoint refuses positions that move back).
	After  string
	Offset int64
	// FromStart reads the whole journal when After is empty (a backfill).
	// By default only entries written after Open are read.
	FromStart bool
	// Fields replaces DefaultFields. AllFields asks for every field (no
	// --output-fields), for journalctl before systemd 236, which lacks the
	// option.
	Fields    []string
	AllFields bool
	// Args are passed on to journalctl after the others, e.g.
	// --directory=/var/log/journal/remote or --merge.
	Args []string
	// Journalctl is the program to run; "journalctl" found in PATH when
	// empty.
	Journalctl string
	// MaxLineBytes bounds a record (DefaultMaxLineBytes when 0). Longer
	// records are truncated and marked so; their cursor still counts.
	MaxLineBytes int
	// MinBackoff and MaxBackoff bound the delay before journalctl is
	// restarted (DefaultMinBackoff and DefaultMaxBackoff when 0).
	MinBackoff, MaxBackoff time.Duration
	Logger                 *slog.Logger // slog.Default() when nil
}

// Line is one journal record: Text is the JSON line journalctl printed
// and Cursor its __CURSOR, the position to commit. Offset and End count
// the bytes of the records read so far, a running count; they keep
// checkpoint positions moving forward but say nothing about the journal.
// Cursor is empty when the record has none (or was truncated before it);
// commit the last non-empty one.
type Line struct {
	source.Line
	Cursor string
}

// Reader follows the journal through journalctl. NextLine is not safe for
// concurrent use; Close may be called from another goroutine to end a
// blocked NextLine.
type Reader struct {
	cfg    config
	items  chan item
	closed chan struct{}
	done   chan struct{}

	closeOnce sync.Once
	mu        sync.Mutex
	proc      *os.Process // the running journalctl, killed by Close
	cursor    string      // of the last line returned
}

type item struct {
	line Line
	err  error
}

// Open starts journalctl.
func Open(opts Options) (*Reader, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	r := &Reader{
		cfg:    cfg,
		items:  make(chan item, 64),
		closed: make(chan struct{}),
		done:   make(chan struct{}),
		cursor: opts.After,
	}
	go r.run(opts.After, opts.Offset, time.Now())
	return r, nil
}

// Next implements source.Reader.
func (r *Reader) Next(ctx context.Context) (source.Line, error) {
	l, err := r.NextLine(ctx)
	return l.Line, err
}

// NextLine returns the next record, blocking until journalctl prints one
// or ctx is done. An error reports that journalctl failed to start or
// exited; it is being restarted, and the next call reads on.
func (r *Reader) NextLine(ctx context.Context) (Line, error) {
	select {
	case <-r.closed:
		return Line{}, source.ErrClosed
	default:
	}
	select {
	case it := <-r.items:
		if it.err == nil && it.line.Cursor != "" {
			r.mu.Lock()
			r.cursor = it.line.Cursor
			r.mu.Unlock()
		}
		return it.line, it.err
	case <-ctx.Done():
		return Line{}, ctx.Err()
	case <-r.closed:
		return Line{}, source.ErrClosed
	}
}

// Cursor returns the cursor of the last record NextLine returned (or
// Options.After before the first).
func (r *Reader) Cursor() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cursor
}

// Buffered implements source.Reader: true when a record has already been
// read from journalctl.
func (r *Reader) Buffered() bool { return len(r.items) > 0 }

// Close implements source.Reader: it kills journalctl and waits for it. It
// is idempotent.
func (r *Reader) Close() error {
	r.closeOnce.Do(func() {
		r.mu.Lock()
		close(r.closed)
		p := r.proc
		r.mu.Unlock()
		if p != nil {
			kill(p)
		}
		<-r.done
	})
	return nil
}

// started records the running process, or kills it if Close came first.
func (r *Reader) started(p *os.Process) {
	r.mu.Lock()
	defer r.mu.Unlock()
	select {
	case <-r.closed:
		kill(p)
	default:
		r.proc = p
	}
}

func (r *Reader) exited() {
	r.mu.Lock()
	r.proc = nil
	r.mu.Unlock()
}

// send hands an item to NextLine; false when the reader was closed.
func (r *Reader) send(it item) bool {
	select {
	case r.items <- it:
		return true
	case <-r.closed:
		return false
	}
}

// config is Options with the defaults applied.
type config struct {
	Options
	bin    string
	source string
	log    *slog.Logger
}

func newConfig(o Options) (config, error) {
	c := config{Options: o}
	if c.Name == "" {
		c.Name = defaultName
	}
	c.source = Key(c.Name).Path
	if c.Fields == nil {
		c.Fields = DefaultFields
	}
	if c.MaxLineBytes <= 0 {
		c.MaxLineBytes = DefaultMaxLineBytes
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	c.MaxBackoff = max(c.MaxBackoff, c.MinBackoff)
	if c.Offset < 0 {
		return config{}, fmt.Errorf("journald: negative offset %d", c.Offset)
	}
	name := c.Journalctl
	if name == "" {
		name = "journalctl"
	}
	bin, err := exec.LookPath(name)
	if err != nil {
		return config{}, fmt.Errorf("journald: %w", err)
	}
	c.bin = bin
	c.log = c.Logger
	if c.log == nil {
		c.log = slog.Default()
	}
	c.log = c.log.With("component", "journald", "source", c.source)
	return c, nil
}

// Key is the checkpoint key to commit the records of the source named name
// under (Options.Name; "" is "journal"), with the Cursor and End of the
// last record delivered; resume with Options.After and Options.Offset set
// from the position found under it. A journal has no device, inode or
// head, so only the path, which says "journald:" + name, is set.
func Key(name string) checkpoint.FileKey {
	if name == "" {
		name = defaultName
	}
	return checkpoint.FileKey{Path: "journald:" + name}
}

// defaultName names a source whose Options.Name is empty.
const defaultName = "journal"

// ErrExited is wrapped by the error NextLine returns when journalctl
// exited; it never exits on its own while following.
var ErrExited = errors.New("journalctl exited")

var _ source.Reader = (*Reader)(nil)
