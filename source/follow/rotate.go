package follow

import (
	"bytes"
	"fmt"
	"os"
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

// switchFile leaves the drained current file for the file now at path.
func (f *Follower) switchFile() (bool, error) {
	old := f.cur
	fi, err := old.lr.f.Stat()
	if err != nil {
		return false, fmt.Errorf("follow %s: stat old file: %w", f.path, err)
	}
	if fi.Size() > old.lr.pos() {
		// Written to after our last read: drain that first.
		return true, nil
	}
	file, id, err := openID(f.path, f.path)
	if isNotExist(err) {
		return false, nil // gone again; the next wake looks anew
	}
	if err != nil {
		return false, fmt.Errorf("follow %s: %w", f.path, err)
	}
	// The writer has moved on, so an unterminated last line of the old
	// file will never be completed: it is the file's final line and is
	// returned as it is rather than lost.
	if raw, ok := old.lr.partial(); ok {
		l := f.line(old, raw)
		f.held = &l
		f.log.Warn("rotated file ended without a newline", "file", old.id.key, "offset", raw.start)
	}
	old.close()
	f.cur = nil
	f.log.Info("switching to new file", "old", old.id.key, "old_end", old.lr.pos(), "new", id.key)
	if err := f.use(file, id, 0); err != nil {
		return false, fmt.Errorf("follow %s: %w", f.path, err)
	}
	return true, nil
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
	// then truncates): read them from there, from where we are.
	from := t.lr.off
	if seen := t.lr.head; len(seen) > 0 {
		// The copy starts with the bytes we read from the original.
		copyFile, copyID, ok := findSibling(f.path, func(c fileID) bool {
			return c.key.Inode != t.id.key.Inode && bytes.HasPrefix(c.head, seen) && c.size >= from
		})
		if ok {
			t.close()
			f.cur = nil
			f.log.Warn("file "+reason+"; reading the rest from its copy",
				"file", t.id.key, "copy", copyFile.Name(), "offset", from)
			if err := f.use(copyFile, copyID, from); err != nil {
				return false, fmt.Errorf("follow %s: %w", f.path, err)
			}
			return true, nil
		}
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
// rotated while nobody was reading: a sibling with the same device, inode
// and head (path.1, or another path* file) is drained from the offset, and
// the file at path is read from 0 afterwards. If the checkpointed file is
// gone, or was truncated, the file at path is read from 0. Only the
// checkpointed file and the current one are read: files rotated in between
// (two rotations while down) are not looked for.
func (f *Follower) resume(from Position) error {
	file, id, err := openID(f.path, f.path)
	if err != nil && !isNotExist(err) {
		return err
	}
	if err == nil && sameFile(from.File, id) && from.Offset <= id.size {
		return f.use(file, id, from.Offset)
	}
	old, oldID, ok := findSibling(f.path, func(c fileID) bool {
		return sameFile(from.File, c) && from.Offset <= c.size
	})
	if ok {
		if file != nil {
			file.Close()
		}
		f.log.Info("resuming a file rotated while stopped", "file", oldID.key,
			"at", old.Name(), "offset", from.Offset)
		return f.use(old, oldID, from.Offset)
	}
	f.log.Warn("checkpointed file not found; reading the current file from offset 0",
		"checkpoint", from.File, "offset", from.Offset)
	if file == nil {
		return nil // read from 0 once it appears
	}
	return f.use(file, id, 0)
}
