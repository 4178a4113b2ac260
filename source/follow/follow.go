// Package follow follows log files across rotation, like tail -F, and
// never loses a line that reached a file it followed: Open follows one
// path, OpenGlob every file that matches a set of patterns.
//
// nxadm/tail is used only to learn that something changed (its shared
// inotify tracker; polling otherwise). The reading is done here, with an
// os.File per file, because nxadm/tail loses lines on rotation: it reopens a
// renamed file without reading the rest of the old one (nxadm/tail #28,
// #72, #74, hpcloud/tail #127), re-reads from 0 whenever the size shrinks,
// and skips to the end under a RateLimiter. Owning the descriptors is what
// lets the follower drain the old file before switching, which a wrapper
// around tail.Lines cannot do: by the time a line of the new file arrives
// on the channel, the old file is closed.
//
// # Rotated files
//
// The rotated files of a path are found by name, in its directory: the
// path, '.', '-' or '_', a number or a date (digits and separators, as
// logrotate's count and dateext formats make them), and maybe a
// compression extension: mail.log.1, mail.log.2.gz, mail.log-20250101,
// mail.log-2025-01-01.gz, and mail-20250101.log for logrotate's
// "extension" option. They are ordered oldest first by their numbers or
// dates (modification times mislead once delaycompress has compressed a
// file), and by modification time when the names mix schemes. A plain
// rotated file is recognised by device and inode; a compressed one (a new
// inode) by the SHA-256 of its first decompressed bytes, which equals the
// checkpoint's head. gzip and bzip2 files can be read; offsets in them
// count decompressed bytes, the same bytes the file held before.
//
// # What each rotation style costs
//
//   - rename and create (logrotate's default): nothing. The old file is
//     read to its end, and the follower switches only once the new file
//     holds data, because the writer keeps writing to the old file until it
//     reopens (logrotate's postrotate signal).
//   - delete and re-create: nothing, the same way: the deleted file stays
//     readable through the open descriptor.
//   - compress and delaycompress: nothing. A file being read stays open
//     while it is compressed; a checkpointed file that was compressed while
//     the daemon was stopped is decompressed and read from the offset.
//   - more than one rotation while stopped, or while the follower lagged
//     behind (the sink was down): nothing, as long as the file being read
//     (or checkpointed) still exists under a rotated name. Its rest is read,
//     then every rotated file newer than it, oldest first, then the file at
//     the path. When that file was deleted meanwhile (logrotate's count
//     exceeded), a follower that still has it open reads it to the end and
//     then the rotated files modified after it; a checkpoint of a deleted
//     file cannot be placed, and the file at the path is read from 0.
//   - copytruncate: lines written between the copy and the truncation exist
//     in neither file and are lost; that is copytruncate's own race. Lines
//     written before the copy but not yet read are recovered from the copy,
//     found by its head whether plain or compressed, also after a restart.
//   - replacement in place (same inode, different first bytes): read as a
//     new file from offset 0.
//   - rotated files moved to another directory (logrotate's olddir), or
//     compressed with xz, zstd or another format Go's standard library does
//     not read: a file that is already open is read to its end, but a
//     checkpoint in such a file cannot be resumed after a restart, and its
//     rest is lost.
//
// Two followers of one path in one process share nxadm/tail's inotify
// registration; when one closes, the other falls back to polling.
package follow

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/mailevents/mailevents/checkpoint"
	"github.com/mailevents/mailevents/source"
)

// Position is a checkpoint to resume from: the file and the End of the last
// line acknowledged in it.
type Position struct {
	File   checkpoint.FileKey
	Offset int64
}

// Options tunes Open.
type Options struct {
	// From resumes at a checkpoint; nil means there is none. (A pointer,
	// because the zero FileKey is not distinguishable from a real one.)
	From *Position
	// FromStart reads a file without checkpoint from offset 0. The default
	// starts after its last complete line, like tail -F.
	FromStart bool
	// Poll forces polling instead of inotify. Polling is also used when
	// inotify is unavailable or its watch limit is reached.
	Poll bool
	// PollInterval is the polling period; DefaultPollInterval when 0.
	PollInterval time.Duration
	// MaxLineBytes bounds a line's Text (source.DefaultMaxLineBytes when
	// 0); longer lines are truncated and marked so, never split.
	MaxLineBytes int
	Logger       *slog.Logger // slog.Default() when nil
}

// Line is a source.Line plus the identity of the file it was read from,
// which the checkpoint needs: Offset and End are offsets in that file (in
// its decompressed content, for a compressed rotated file). Source is the
// followed path, also for lines read from its rotated files.
type Line struct {
	source.Line
	File checkpoint.FileKey
}

// Follower follows one path. Next is not safe for concurrent use; Close may
// be called from another goroutine to end a blocked Next.
type Follower struct {
	path    string
	maxLine int
	log     *slog.Logger
	notify  *notifier

	closeOnce sync.Once
	closed    chan struct{}

	mu   sync.Mutex // held by Next while reading, and by Close
	cur  *tracked   // nil while path does not exist yet
	held *Line      // an old file's unterminated last line, to return first
	last checkpoint.FileKey
	// queue holds the rotated files to read after cur and before the file
	// at path, oldest first, when the follower is more than one rotation
	// behind.
	queue []*rotatedFile

	// beforeOpen and beforeList, when set, run as a switch to the next
	// file opens it and lists the rotated files: tests rotate there.
	beforeOpen, beforeList func()
}

// tracked is one open file.
type tracked struct {
	id   fileID
	lr   *lineReader
	name string // the name it was opened by, for logs
	// sealed is set for a compressed rotated file: its content is complete,
	// so it is read to its end and left, with no checks for growth or
	// truncation (its size is not the size of its content).
	sealed bool
	done   bool // a sealed file was read to its end, or failed
}

func (t *tracked) close() { t.lr.f.Close() }

// Open starts following path. The file need not exist yet (it is read from
// 0 when it appears), unless a checkpoint for it is given and cannot be
// resolved, which is not an error either: see resume.
func Open(path string, opts Options) (*Follower, error) {
	return openFollower(path, opts, nil)
}

// openFollower is Open with a function the notifier calls on every wake,
// which is how a Multi learns which of its followers may have lines.
func openFollower(path string, opts Options, signal func()) (*Follower, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("follow %s: %w", path, err)
	}
	f := &Follower{
		path:    path,
		maxLine: opts.MaxLineBytes,
		log:     opts.Logger,
		closed:  make(chan struct{}),
	}
	if f.maxLine <= 0 {
		f.maxLine = source.DefaultMaxLineBytes
	}
	if f.log == nil {
		f.log = slog.Default()
	}
	f.log = f.log.With("component", "follow", "path", path)
	interval := opts.PollInterval
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	// Watch before the first stat, so no change between them is missed.
	f.notify = startNotifier(abs, opts.Poll, interval, f.log, signal)
	if err := f.start(opts); err != nil {
		f.notify.close()
		return nil, fmt.Errorf("follow %s: %w", path, err)
	}
	return f, nil
}

// start opens the file to read first and places the offset.
func (f *Follower) start(opts Options) error {
	if opts.From != nil {
		return f.resume(*opts.From)
	}
	file, id, err := openID(f.path, f.path)
	if isNotExist(err) {
		return nil // read from 0 once it appears
	}
	if err != nil {
		return err
	}
	var off int64
	if !opts.FromStart {
		if off, err = lastLineEnd(file, id.size); err != nil {
			file.Close()
			return err
		}
	}
	return f.use(file, id, off)
}

// use makes file the current file, read from off.
func (f *Follower) use(file *os.File, id fileID, off int64) error {
	if _, err := file.Seek(off, 0); err != nil {
		file.Close()
		return fmt.Errorf("seek to %d: %w", off, err)
	}
	f.cur = &tracked{id: id, name: file.Name(), lr: newLineReader(file, file, off, f.maxLine, slices.Clone(id.head))}
	return nil
}

// useRotated makes a rotated file the current file, read from off.
func (f *Follower) useRotated(r *rotatedFile, off int64) error {
	if !r.compressed() {
		return f.use(r.file, r.id, off)
	}
	t := &tracked{id: r.id, name: r.name, sealed: true,
		lr: newLineReader(r.file, eofReader{}, off, f.maxLine, slices.Clone(r.id.head))}
	f.cur = t
	src, err := r.contentFrom(off)
	if err != nil {
		// A corrupt file, or one that ends before the offset (so it is
		// not the file the offset was taken from after all): nothing in
		// it can be placed, and the next file is all the follower can do.
		f.log.Warn("cannot read compressed rotated file; skipping it",
			"file", r.name, "offset", off, "err", err)
		t.done = true
		return nil
	}
	t.lr.src = src
	return nil
}

// lastLineEnd is where "start at the end" begins: after the last "\n", so
// that the first line returned is whole rather than the tail of one.
func lastLineEnd(file *os.File, size int64) (int64, error) {
	n := min(size, defaultBufferBytes)
	buf := make([]byte, n)
	if _, err := file.ReadAt(buf, size-n); err != nil {
		return 0, fmt.Errorf("read end: %w", err)
	}
	for i := len(buf) - 1; i >= 0; i-- {
		if buf[i] == '\n' {
			return size - n + int64(i) + 1, nil
		}
	}
	if n == size {
		return 0, nil // one unterminated line so far: it is all new
	}
	return size, nil // a huge unterminated line; skip it
}

// Next returns the next complete line, blocking until one is written or
// ctx is done. Read and stat failures are returned wrapped; the follower
// stays usable and retries on the next call.
func (f *Follower) Next(ctx context.Context) (source.Line, error) {
	l, err := f.NextLine(ctx)
	return l.Line, err
}

// NextLine is Next with the key of the file the line came from.
func (f *Follower) NextLine(ctx context.Context) (Line, error) {
	for {
		l, ok, err := f.poll()
		if ok || err != nil {
			return l, err
		}
		select {
		case <-ctx.Done():
			return Line{}, ctx.Err()
		case <-f.closed:
			return Line{}, source.ErrClosed
		case <-f.notify.wake:
		}
	}
}

// poll returns a line if one is available now, handling rotation and
// truncation on the way.
func (f *Follower) poll() (Line, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.closed:
		return Line{}, false, source.ErrClosed
	default:
	}
	for {
		if f.held != nil {
			l := *f.held
			f.held = nil
			f.last = l.File
			return l, true, nil
		}
		if f.cur != nil && !f.cur.sealed && len(f.queue) == 0 && !f.cur.lr.buffered() && !f.headStill(f.cur) {
			// About to read new bytes: make sure they continue what was
			// read, even if no wake has reported the change yet.
			if _, err := f.restart("replaced in place"); err != nil {
				return Line{}, false, err
			}
		}
		if t := f.cur; t != nil && !t.done {
			raw, ok, err := t.lr.next()
			if err != nil {
				// A compressed file that cannot be decompressed further
				// ends there; a plain file is retried on the next call.
				t.done = t.sealed
				return Line{}, false, fmt.Errorf("follow %s: %s: %w", f.path, t.name, err)
			}
			if ok {
				return f.line(t, raw), true, nil
			}
			t.done = t.sealed // no line from a sealed file: its end
		}
		changed, err := f.check()
		if err != nil || !changed {
			return Line{}, false, err
		}
	}
}

func (f *Follower) line(t *tracked, raw rawLine) Line {
	if t.id.key.Head.Len == 0 && len(t.lr.head) > 0 {
		// The file was empty when it was opened, and an empty head
		// matches any file with the same inode. Take the key's head now
		// that the first line is read, as package checkpoint asks.
		t.id.head = slices.Clone(t.lr.head)
		t.id.key.Head = checkpoint.Head{Len: len(t.id.head), Sum: sha256.Sum256(t.id.head)}
	}
	f.last = t.id.key
	return Line{
		Line: source.Line{
			Position:  source.Position{Source: f.path, Offset: raw.start, End: raw.end},
			Text:      raw.text,
			Truncated: raw.truncated,
		},
		File: t.id.key,
	}
}

// Key returns the key of the file the last line returned came from, for
// callers that use Next (the source.Reader method) rather than NextLine.
func (f *Follower) Key() checkpoint.FileKey {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

// Buffered implements source.Reader: true only when a complete line is
// already in memory.
func (f *Follower) Buffered() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.held != nil || (f.cur != nil && f.cur.lr.buffered())
}

// Close implements source.Reader. It is idempotent and ends a blocked Next.
func (f *Follower) Close() error {
	f.closeOnce.Do(func() {
		close(f.closed) // wakes Next before we wait for its lock
		f.notify.close()
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.cur != nil {
			f.cur.close()
			f.cur = nil
		}
		closeAll(f.queue)
		f.queue = nil
	})
	return nil
}

// drained reports whether everything in the files the follower has open
// was returned, but for an unterminated last line (see finish).
func (f *Follower) drained() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.cur
	switch {
	case f.held != nil || len(f.queue) > 0:
		return false
	case t == nil:
		return true
	case t.lr.buffered():
		return false
	case t.sealed:
		return t.done
	}
	fi, err := t.lr.f.Stat()
	return err == nil && fi.Size() <= t.lr.pos()
}

// finish returns the unterminated last line of the current file, if any,
// as a final line, for a file that is being given up on.
func (f *Follower) finish() (Line, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.held != nil {
		l := *f.held
		f.held = nil
		return l, true
	}
	if f.cur == nil {
		return Line{}, false
	}
	raw, ok := f.cur.lr.partial()
	if !ok {
		return Line{}, false
	}
	return f.line(f.cur, raw), true
}

var _ source.Reader = (*Follower)(nil)
