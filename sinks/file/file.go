// Package file is the file sink: JSON lines appended to a regular file,
// fsync'd per batch, with built-in size rotation and a Reopen for
// logrotate's move-and-HUP.
//
// Failure model. A batch is encoded into one buffer and written with one
// write(2), then fsync'd per Options.Sync. If the write fails part-way (disk
// full, I/O error) or the fsync fails, the file is truncated back to its size
// before the batch and Write returns the error; the pipeline then retries the
// whole batch, so a failed attempt leaves neither a partial line nor a copy
// of the batch. If the truncate fails as well, it is retried before the next
// write and before the file is let go of, so no record is ever appended after
// a partial line. A reader tailing the file can still glimpse a partial line
// while a write is in flight or before a truncate-back; consumers that need
// whole batches should read up to the last newline.
//
// The sink assumes it is the only writer of its file: the truncate-back
// offset is the size it saw before the batch.
package file

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/mailevents/mailevents/sinks"
)

// SyncMode says when Write fsyncs.
type SyncMode int

const (
	// SyncEveryBatch fsyncs before every Write returns: the only mode that
	// keeps the sinks.Sink contract across a power failure or kernel crash,
	// because the pipeline commits its checkpoint as soon as Write returns.
	SyncEveryBatch SyncMode = iota
	// SyncInterval fsyncs at the end of a Write only if Options.Interval has
	// passed since the last fsync. Batches written since then survive a crash
	// of this process (they are in the page cache) but not of the machine,
	// even though Write has returned and the checkpoint moved on. There is no
	// background timer: an idle sink leaves its tail to kernel writeback
	// (about 30s by default) until the next Write or Close.
	SyncInterval
	// SyncNever leaves writeback to the kernel.
	SyncNever

	// In every mode a file that the sink lets go of (Close, Reopen, rotation)
	// is fsync'd first if it holds unsynced bytes: those are rare events and
	// the last chance to report an error for that file.
)

func (m SyncMode) String() string {
	switch m {
	case SyncEveryBatch:
		return "every-batch"
	case SyncInterval:
		return "interval"
	case SyncNever:
		return "never"
	}
	return fmt.Sprintf("SyncMode(%d)", int(m))
}

// Options configures a Writer. The zero value is valid: fsync every batch,
// mode 0640, no rotation.
type Options struct {
	Sync SyncMode
	// Interval is the minimum time between fsyncs in SyncInterval mode.
	Interval time.Duration
	// Mode is the permission of a newly created file (default 0640), before
	// the process umask; an existing file keeps its mode.
	Mode os.FileMode
	// MaxBytes, if positive, rotates the file before a batch that would take
	// it past MaxBytes. A batch is never split across files, so a file holds
	// more than MaxBytes only when a single batch is larger than MaxBytes.
	MaxBytes int64
	// Keep is how many rotated files (path.1 … path.Keep) are kept; the
	// oldest is replaced. Default 5.
	Keep int
	// Name identifies the sink in metrics and logs; default "file:"+path.
	Name string
}

// ErrClosed is returned by Write and Reopen after Close.
var ErrClosed = errors.New("sink closed")

// maxKeptBuffer bounds the encoding buffer kept between batches, so one huge
// batch does not pin its memory for the life of the daemon.
const maxKeptBuffer = 4 << 20

// Writer appends records to a file, one JSON object per line. It implements
// sinks.Sink, and every method is safe to call concurrently (Reopen comes
// from the signal handler while the pipeline writes).
type Writer struct {
	path string
	name string
	opts Options

	mu     sync.Mutex
	f      *os.File // nil after Close, or after a failed reopen (retried by Write)
	closed bool
	dirty  bool  // bytes written to f since its last fsync
	repair int64 // if >= 0, f still needs truncating to this size after a failed write
	last   time.Time
	buf    []byte

	// Seams for tests: a failing write, a counted fsync, a fake clock.
	write func(f *os.File, p []byte) (int, error)
	sync  func(f *os.File) error
	now   func() time.Time
}

// Open opens (creating if needed) path for appending. It refuses a symlink
// or any non-regular file at path: the daemon may run with more privilege
// than whoever can write the log directory, and a planted symlink would
// otherwise redirect its appends (to /etc/passwd, say). A FIFO or device
// would also break the truncate-back guarantee; use the stdout sink for
// streams.
func Open(path string, opts Options) (*Writer, error) {
	if opts.Mode == 0 {
		opts.Mode = 0o640
	}
	if opts.Keep == 0 {
		opts.Keep = 5
	}
	if opts.Name == "" {
		opts.Name = "file:" + path
	}
	switch {
	case opts.Sync < SyncEveryBatch || opts.Sync > SyncNever:
		return nil, fmt.Errorf("file sink %s: unknown sync mode %d", path, int(opts.Sync))
	case opts.Sync == SyncInterval && opts.Interval <= 0:
		return nil, fmt.Errorf("file sink %s: sync mode interval needs a positive Interval", path)
	case opts.MaxBytes < 0:
		return nil, fmt.Errorf("file sink %s: MaxBytes %d is negative", path, opts.MaxBytes)
	case opts.Keep < 0:
		return nil, fmt.Errorf("file sink %s: Keep %d is negative", path, opts.Keep)
	case opts.Mode&^os.ModePerm != 0:
		return nil, fmt.Errorf("file sink %s: Mode %v has more than permission bits", path, opts.Mode)
	}
	w := &Writer{
		path:   path,
		name:   opts.Name,
		opts:   opts,
		repair: -1,
		write:  (*os.File).Write,
		sync:   (*os.File).Sync,
		now:    time.Now,
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.openLocked(); err != nil {
		return nil, err
	}
	return w, nil
}

// Name implements sinks.Sink.
func (w *Writer) Name() string { return w.name }

// Path is the file being written.
func (w *Writer) Path() string { return w.path }

// Write implements sinks.Sink. It returns once the batch is written and, in
// SyncEveryBatch mode, fsync'd. The context is checked only before writing:
// write(2) and fsync(2) cannot be interrupted halfway without leaving the
// file in a state we would then have to undo.
func (w *Writer) Write(ctx context.Context, batch []sinks.Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return fmt.Errorf("file sink %s: %w", w.path, ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("file sink %s: %w", w.path, err)
	}
	if len(batch) == 0 {
		return nil
	}
	if err := w.repairLocked(); err != nil {
		return err
	}
	if w.f == nil {
		// An earlier Reopen or rotation failed after closing the old file.
		if err := w.openLocked(); err != nil {
			return err
		}
	}

	buf := w.buf[:0]
	for i := range batch {
		buf = append(buf, batch[i].Value...)
		buf = append(buf, '\n')
	}
	if cap(buf) <= maxKeptBuffer {
		w.buf = buf[:0]
	} else {
		w.buf = nil
	}

	// fstat rather than a running counter: after logrotate's copytruncate
	// (or any outside truncation) a stale counter would make the truncate
	// below extend the file with NULs instead of cutting a partial line.
	size, err := w.sizeLocked()
	if err != nil {
		return err
	}
	if w.opts.MaxBytes > 0 && size > 0 && size+int64(len(buf)) > w.opts.MaxBytes {
		if err := w.rotateLocked(); err != nil {
			return err
		}
		size = 0
	}

	w.dirty = true
	if n, err := w.write(w.f, buf); err != nil {
		werr := fmt.Errorf("file sink %s: writing %d of %d bytes: %w", w.path, n, len(buf), err)
		return errors.Join(werr, w.undoLocked(size))
	}
	if w.opts.Sync == SyncNever {
		return nil
	}
	now := w.now()
	if w.opts.Sync == SyncInterval && now.Sub(w.last) < w.opts.Interval {
		return nil
	}
	if err := w.syncLocked(); err != nil {
		// The bytes may be in the page cache without being on disk, and the
		// pipeline will send the batch again: take them out so the retry does
		// not add a duplicate. In SyncInterval mode earlier batches shared this
		// fsync and may be lost; nothing here can recover them.
		return errors.Join(err, w.undoLocked(size))
	}
	w.last = now
	return nil
}

// Reopen closes the file and opens path again, creating it if it is gone.
// The daemon calls it on SIGHUP, after logrotate has renamed the file, so new
// records go to a new file while the renamed one keeps everything already
// written. Unsynced data in the old file is fsync'd first. If opening fails,
// the error is returned and the next Write tries again.
func (w *Writer) Reopen() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return fmt.Errorf("file sink %s: %w", w.path, ErrClosed)
	}
	err := w.releaseLocked()
	return errors.Join(err, w.openLocked())
}

// Close implements sinks.Sink: it fsyncs anything not yet synced, whatever
// the mode, and closes the file. It is idempotent. The context is not used:
// an fsync cannot be abandoned.
func (w *Writer) Close(context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	w.buf = nil
	return w.releaseLocked()
}

// openLocked opens w.path for appending and installs it as w.f.
func (w *Writer) openLocked() error {
	// Lstat first so a FIFO is refused instead of blocking the open until a
	// reader appears; the fstat below closes the race with a swap.
	if fi, err := os.Lstat(w.path); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("file sink %s: not a regular file (%v)", w.path, fi.Mode().Type())
	}
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, w.opts.Mode)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return fmt.Errorf("file sink %s: refusing to follow a symlink: %w", w.path, err)
		}
		return fmt.Errorf("file sink: %w", err) // *PathError already names the path
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("not a regular file (%v)", fi.Mode().Type())
	}
	if err == nil && w.opts.Sync != SyncNever {
		// A new file's directory entry is only durable once the directory is
		// synced; without this a crash could lose a file whose batches were
		// all acknowledged.
		err = syncDir(filepath.Dir(w.path))
	}
	var cut int64 = -1
	if err == nil && fi.Size() > 0 {
		cut, err = tornTail(w.path, fi.Size())
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("file sink %s: %w", w.path, err)
	}
	w.f, w.dirty, w.repair = f, false, cut
	// A process killed in the middle of a write(2) of a large batch leaves
	// part of it behind; that batch was never acknowledged and will be
	// written again, so the part goes, before anything is appended after
	// it.
	return w.repairLocked()
}

// tornTail returns the size to truncate a file of size bytes to so that it
// ends with a whole line, or -1 when it does already.
func tornTail(path string, size int64) (int64, error) {
	r, err := os.Open(path)
	if err != nil {
		return -1, err
	}
	defer r.Close()
	buf := make([]byte, 64<<10)
	for end := size; end > 0; {
		start := max(end-int64(len(buf)), 0)
		chunk := buf[:end-start]
		if _, err := r.ReadAt(chunk, start); err != nil {
			return -1, fmt.Errorf("reading the end of the file: %w", err)
		}
		if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
			if start+int64(i)+1 == size {
				return -1, nil
			}
			return start + int64(i) + 1, nil
		}
		end = start
	}
	return 0, nil // no newline at all: one partial line
}

// releaseLocked syncs (if needed) and closes w.f, leaving it nil. A pending
// truncate-back is tried first so the file we let go of ends in a newline.
func (w *Writer) releaseLocked() error {
	if w.f == nil {
		return nil
	}
	err := w.repairLocked()
	if w.dirty {
		err = errors.Join(err, w.syncLocked())
	}
	if cerr := w.f.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("file sink %s: closing: %w", w.path, cerr))
	}
	w.f, w.dirty, w.repair = nil, false, -1
	return err
}

// rotateLocked moves path to path.1 (path.1 to path.2, and so on up to
// path.Keep, which is overwritten) and opens a new path.
func (w *Writer) rotateLocked() error {
	if err := w.releaseLocked(); err != nil {
		return err
	}
	for i := w.opts.Keep - 1; i >= 0; i-- {
		from := w.path
		if i > 0 {
			from = fmt.Sprintf("%s.%d", w.path, i)
		}
		to := fmt.Sprintf("%s.%d", w.path, i+1)
		if err := os.Rename(from, to); err != nil && !errors.Is(err, fs.ErrNotExist) {
			// Renames already done are safe: every file name still holds whole
			// lines, and the next attempt starts the shift again.
			return fmt.Errorf("file sink %s: rotating: %w", w.path, err)
		}
	}
	return w.openLocked()
}

// undoLocked truncates w.f back to size after a failed write or sync. If
// that fails too, the truncate is remembered and retried before the next
// write, so a partial line is never followed by another record.
func (w *Writer) undoLocked(size int64) error {
	w.repair = size
	return w.repairLocked()
}

func (w *Writer) repairLocked() error {
	if w.repair < 0 || w.f == nil {
		return nil
	}
	if err := w.f.Truncate(w.repair); err != nil {
		return fmt.Errorf("file sink %s: truncating to %d after a failed write: %w", w.path, w.repair, err)
	}
	w.repair = -1
	return nil
}

func (w *Writer) syncLocked() error {
	if err := w.sync(w.f); err != nil {
		return fmt.Errorf("file sink %s: fsync: %w", w.path, err)
	}
	w.dirty = false
	return nil
}

func (w *Writer) sizeLocked() (int64, error) {
	fi, err := w.f.Stat()
	if err != nil {
		return 0, fmt.Errorf("file sink %s: %w", w.path, err)
	}
	return fi.Size(), nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EINVAL) {
		// Some filesystems (FUSE, some network mounts) cannot fsync a
		// directory; the file's own fsync is the best they offer.
		return nil
	}
	return err
}

var _ sinks.Sink = (*Writer)(nil)
