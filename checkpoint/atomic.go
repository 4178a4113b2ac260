package checkpoint

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// fileMode is the checkpoint's mode: it names log files and holds mapping
// state (user names), which are for the daemon's user only.
const fileMode = 0o600

// fsOps are the steps of writeAtomic that tests replace to simulate a crash
// or a failure at a given point.
type fsOps struct {
	write   func(f *os.File, data []byte) error
	rename  func(oldpath, newpath string) error
	syncDir func(dir string) error
}

var osOps = fsOps{
	write: func(f *os.File, data []byte) error {
		_, err := f.Write(data)
		return err
	},
	rename:  os.Rename,
	syncDir: syncDir,
}

// writeAtomic replaces path with data so that a crash at any point leaves
// either the old content or the new, never a mix or an empty file (the
// renameio pattern alloy uses for its positions file):
//
//  1. write a temporary file in the same directory (rename is atomic only
//     within one file system),
//  2. fsync it, so its data is on disk before its name is,
//  3. rename it over path,
//  4. fsync the directory, so the rename itself survives a power cut.
func writeAtomic(path string, data []byte, ops fsOps) (err error) {
	dir := filepath.Dir(path)
	// CreateTemp opens with O_EXCL and mode 0600 (fileMode), so no other
	// user can read the state even for a moment.
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create temporary file: %w", err)
	}
	tmp := f.Name()
	renamed := false
	defer func() {
		if !renamed {
			f.Close() // already closed on most paths; the error is moot
			if rmErr := os.Remove(tmp); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
				err = errors.Join(err, fmt.Errorf("remove temporary file: %w", rmErr))
			}
		}
	}()
	if err := f.Chmod(fileMode); err != nil {
		return fmt.Errorf("chmod temporary file: %w", err)
	}
	if err := ops.write(f, data); err != nil {
		return fmt.Errorf("write temporary file: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync temporary file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close temporary file: %w", err)
	}
	if err := ops.rename(tmp, path); err != nil {
		return fmt.Errorf("rename temporary file: %w", err)
	}
	renamed = true
	if err := ops.syncDir(dir); err != nil {
		// The new file is in place, but a power cut could still undo the
		// rename; the caller should know its save is not yet durable.
		return fmt.Errorf("fsync directory: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		// Some file systems (some FUSE and network ones) cannot fsync a
		// directory; there the rename is as durable as they allow.
		err = nil
	}
	return errors.Join(err, d.Close())
}
