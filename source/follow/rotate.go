package follow

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/mailevents/mailevents/checkpoint"
)

// check runs when the current file has no complete line to return. It
// looks at what is at path now and handles rotation, truncation and
// replacement. changed reports that the next read may return a line.
func (f *Follower) check() (changed bool, err error) {
	if f.cur == nil {
		file, id, err := openID(f.path, f.path)
		if isNotExist(err) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("follow %s: %w", f.path, err)
		}
		f.log.Info("file appeared", "file", id.key)
		return true, f.use(file, id, 0)
	}
	if f.cur.sealed {
		return f.advance()
	}
	if len(f.queue) > 0 {
		// A newer rotated file exists, so the writer has moved on from
		// this one: once it is read to its end, it is done.
		fi, err := f.cur.lr.f.Stat()
		if err != nil {
			return false, fmt.Errorf("follow %s: stat %s: %w", f.path, f.cur.name, err)
		}
		if fi.Size() > f.cur.lr.pos() {
			return true, nil
		}
		return f.advance()
	}
	fi, err := os.Stat(f.path)
	if isNotExist(err) {
		// Renamed or deleted: keep reading the open file, which the
		// writer may still be appending to, until a successor appears.
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("follow %s: %w", f.path, err)
	}
	dev, ino, _ := devInode(fi)
	if dev == f.cur.id.key.Dev && ino == f.cur.id.key.Inode {
		return f.checkSame()
	}
	// Another file is at path. Until it holds data, the writer has not
	// reopened yet (logrotate creates the file before the postrotate
	// signal) and may still append to the old one, so do not leave it.
	if fi.Size() == 0 || !fi.Mode().IsRegular() {
		return false, nil
	}
	return f.switchFile()
}

// retire gives up the current file, keeping its unterminated last line,
// if any, to be returned next: the writer has moved on, so that line will
// never be completed and is the file's final line rather than lost.
func (f *Follower) retire() {
	old := f.cur
	if raw, ok := old.lr.partial(); ok {
		l := f.line(old, raw)
		f.held = &l
		f.log.Warn("rotated file ended without a newline", "file", old.id.key, "offset", raw.start)
	}
	old.close()
	f.cur = nil
}

// advance leaves the current file, which is read to its end, for the next
// rotated file in the queue or, when there is none, for its successor.
func (f *Follower) advance() (bool, error) {
	if len(f.queue) == 0 {
		return f.successor()
	}
	old := f.cur
	f.retire()
	next := f.queue[0]
	f.queue = f.queue[1:]
	f.log.Info("reading the next rotated file", "old", old.name, "old_end", old.lr.pos(), "next", next.name)
	return true, f.useRotated(next, 0)
}

// switchFile leaves the drained current file for its successor, unless it
// was written to after the last read.
func (f *Follower) switchFile() (bool, error) {
	fi, err := f.cur.lr.f.Stat()
	if err != nil {
		return false, fmt.Errorf("follow %s: stat old file: %w", f.path, err)
	}
	if fi.Size() > f.cur.lr.pos() {
		return true, nil // drain that first
	}
	return f.successor()
}

// successor leaves the current file, read to its end, for the files
// rotated after it, if any, then the file at path. The file at path is
// opened before the rotated files are listed: in the other order, a file
// rotated away between the two would be in neither, and lost.
func (f *Follower) successor() (bool, error) {
	old := f.cur
	var mtime time.Time
	if fi, err := old.lr.f.Stat(); err == nil {
		mtime = fi.ModTime()
	}
	if f.beforeOpen != nil {
		f.beforeOpen()
	}
	file, id, err := openID(f.path, f.path)
	if err != nil && !isNotExist(err) {
		return false, fmt.Errorf("follow %s: %w", f.path, err)
	}
	var next *fileID
	if file != nil {
		next = &id
	}
	if f.beforeList != nil {
		f.beforeList()
	}
	// Listed while old is still open, so that its inode is not reused.
	between := f.rotatedBetween(old, mtime, next)
	f.retire()
	if len(between) > 0 {
		f.log.Warn("more than one rotation since the file was opened; reading the files rotated in between",
			"file", old.id.key, "files", names(between))
		if file != nil {
			// Opened again, after them, with the rotated files listed
			// again: it may have been rotated too by then.
			file.Close()
		}
		f.queue = between[1:]
		return true, f.useRotated(between[0], 0)
	}
	if file == nil {
		return true, nil // read it from 0 once it appears
	}
	f.log.Info("switching to new file", "old", old.name, "old_end", old.lr.pos(), "new", id.key)
	if err := f.use(file, id, 0); err != nil {
		return true, fmt.Errorf("follow %s: %w", f.path, err)
	}
	return true, nil
}

// rotatedBetween returns the rotated files newer than old and older than
// next (the file at path, if any), opened, oldest first. old is found among
// them by inode, or by head if it was compressed meanwhile. If it is not
// there (deleted: the rotation count was exceeded), the files modified no
// earlier than old's last write are taken instead: timestamps are coarse,
// and reading a file twice gives duplicates with the same ids, while
// skipping one loses its events.
func (f *Follower) rotatedBetween(old *tracked, mtime time.Time, next *fileID) []*rotatedFile {
	key := old.id.key
	if len(old.lr.head) > len(old.id.head) { // seen more of the head since opening
		key.Head = checkpoint.Head{Len: len(old.lr.head), Sum: sha256.Sum256(old.lr.head)}
	}
	var rs []*rotatedFile
	i := -1
	for attempt := 1; ; attempt++ {
		// Not finding old may be a listing taken mid-rotation.
		rs = listRotated(f.path, f.log)
		if i = locate(rs, key, 0); i >= 0 || attempt == listAttempts {
			break
		}
		closeAll(rs)
		time.Sleep(listRetryDelay)
	}
	var after []*rotatedFile
	if i >= 0 {
		after = rs[i+1:]
	} else {
		for _, r := range rs {
			if !r.mtime.Before(mtime) && !(r.id.key.Dev == key.Dev && r.id.key.Inode == key.Inode) {
				after = append(after, r)
			}
		}
	}
	if next != nil {
		// next rotated away since it was opened: it and what followed
		// it are read after it, from the open descriptor and by the
		// next switch.
		if j := slices.IndexFunc(after, func(r *rotatedFile) bool {
			return !r.compressed() && sameFile(next.key, r.id)
		}); j >= 0 {
			after = after[:j]
		}
	}
	after = slices.Clip(after)
	for _, r := range rs {
		if !slices.Contains(after, r) {
			r.file.Close()
		}
	}
	return after
}

func names(rs []*rotatedFile) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.name
	}
	return out
}

// checkSame handles the current file still being at path: it may have
// grown, been truncated (copytruncate), or been overwritten in place.
func (f *Follower) checkSame() (bool, error) {
	t := f.cur
	fi, err := t.lr.f.Stat()
	if err != nil {
		return false, fmt.Errorf("follow %s: %w", f.path, err)
	}
	pos := t.lr.pos()
	switch {
	case fi.Size() < pos:
		return f.restart("truncated")
	case !f.headStill(t):
		return f.restart("replaced in place")
	case fi.Size() > pos:
		return true, nil
	default:
		return false, nil
	}
}

// restart handles the current file's content being cut or replaced.
func (f *Follower) restart(reason string) (bool, error) {
	t := f.cur
	// Lines not yet read may survive in a copy (copytruncate copies,
	// then truncates, and may compress the copy): read them from there,
	// from where we are, then come back to path.
	from := t.lr.off
	if seen := t.lr.head; len(seen) > 0 {
		rs := listRotated(f.path, f.log)
		i := slices.IndexFunc(rs, func(r *rotatedFile) bool {
			if r.compressed() {
				return bytes.HasPrefix(r.id.head, seen)
			}
			return r.id.key.Inode != t.id.key.Inode && bytes.HasPrefix(r.id.head, seen) && r.id.size >= from
		})
		if i >= 0 {
			closeAll(rs[:i])
			t.close()
			f.cur = nil
			f.queue = rs[i+1:]
			f.log.Warn("file "+reason+"; reading the rest from its copy",
				"file", t.id.key, "copy", rs[i].name, "offset", from)
			if err := f.useRotated(rs[i], from); err != nil {
				return false, fmt.Errorf("follow %s: %w", f.path, err)
			}
			return true, nil
		}
		closeAll(rs)
	}
	f.log.Warn("file "+reason+"; reading it again from offset 0", "file", t.id.key, "offset", from)
	id, err := identifyOpen(t.lr.f, f.path)
	if err != nil {
		return false, fmt.Errorf("follow %s: %w", f.path, err)
	}
	if err := t.lr.reset(); err != nil {
		return false, fmt.Errorf("follow %s: %w", f.path, err)
	}
	t.id = id
	return true, nil
}

// headStill reports whether the file still starts with the bytes read from
// it. A read error counts as unchanged: it will show up again as a read
// error on the next line.
func (f *Follower) headStill(t *tracked) bool {
	seen := t.lr.head
	if len(seen) == 0 {
		return true
	}
	buf := make([]byte, len(seen))
	if _, err := t.lr.f.ReadAt(buf, 0); err != nil {
		return true // a short read means truncation, which size shows
	}
	return bytes.Equal(buf, seen)
}

// resume places the follower at a checkpoint. If the file at path is the
// checkpointed one, reading continues at the saved offset. If not, it was
// rotated (maybe more than once, maybe compressed, maybe copied and
// truncated) while nobody was reading: the rotated file that holds it is
// read from the offset, then every newer rotated file, then the file at
// path from 0. If the checkpointed file is found nowhere, the file at path
// is read from 0.
func (f *Follower) resume(from Position) error {
	file, id, err := openID(f.path, f.path)
	if err != nil && !isNotExist(err) {
		return err
	}
	if err == nil && sameFile(from.File, id) && from.Offset <= id.size {
		return f.use(file, id, from.Offset)
	}
	rs := listRotated(f.path, f.log)
	i := locate(rs, from.File, from.Offset)
	if i < 0 {
		closeAll(rs)
		f.log.Warn("checkpointed file not found; reading the current file from offset 0",
			"checkpoint", from.File, "offset", from.Offset)
		if file == nil {
			return nil // read from 0 once it appears
		}
		return f.use(file, id, 0)
	}
	if file != nil {
		file.Close() // opened again, and identified afresh, once its turn comes
	}
	closeAll(rs[:i])
	f.queue = rs[i+1:]
	f.log.Info("resuming a file rotated while stopped", "file", rs[i].id.key,
		"at", rs[i].name, "offset", from.Offset, "then", names(f.queue))
	return f.useRotated(rs[i], from.Offset)
}
