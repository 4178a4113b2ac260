package follow

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/mailevents/mailevents/checkpoint"
)

// fileID is what the follower knows about a file: its key (device, inode,
// head) and the head bytes, so that a checkpoint's possibly shorter head can
// be compared against them.
type fileID struct {
	key  checkpoint.FileKey
	head []byte
	size int64
}

// identifyOpen identifies an open file. It works from the descriptor, not
// the path, so the inode and the head belong to the same file even if the
// path is replaced meanwhile. keyPath is stored as the key's Path.
func identifyOpen(f *os.File, keyPath string) (fileID, error) {
	fi, err := f.Stat()
	if err != nil {
		return fileID{}, fmt.Errorf("stat: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fileID{}, fmt.Errorf("not a regular file (mode %s)", fi.Mode())
	}
	dev, ino, ok := devInode(fi)
	if !ok {
		return fileID{}, errors.New("no device and inode numbers on this system")
	}
	head := make([]byte, checkpoint.HeadBytes)
	n, err := f.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return fileID{}, fmt.Errorf("read head: %w", err)
	}
	head = head[:n]
	return fileID{
		key: checkpoint.FileKey{
			Path: keyPath, Dev: dev, Inode: ino,
			Head: checkpoint.Head{Len: n, Sum: sha256.Sum256(head)},
		},
		head: head,
		size: max(fi.Size(), int64(n)), // it may have grown since Stat
	}, nil
}

// openID opens name and identifies it. keyPath is stored in the key.
func openID(name, keyPath string) (*os.File, fileID, error) {
	// Stat first: opening a FIFO for reading would block.
	fi, err := os.Stat(name)
	if err != nil {
		return nil, fileID{}, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fileID{}, fmt.Errorf("%s: not a regular file (mode %s)", name, fi.Mode())
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fileID{}, err
	}
	id, err := identifyOpen(f, keyPath)
	if err != nil {
		f.Close()
		return nil, fileID{}, fmt.Errorf("%s: %w", name, err)
	}
	return f, id, nil
}

// headMatches reports whether a file whose first bytes are data starts with
// the bytes h was taken from. A shorter saved head still matches a file that
// has grown since.
func headMatches(h checkpoint.Head, data []byte) bool {
	return h.Len <= len(data) && sha256.Sum256(data[:h.Len]) == h.Sum
}

// sameFile reports whether id is the file key describes (the Path aside).
func sameFile(key checkpoint.FileKey, id fileID) bool {
	return key.Dev == id.key.Dev && key.Inode == id.key.Inode && headMatches(key.Head, id.head)
}

// isNotExist also covers a path whose directory vanished.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
