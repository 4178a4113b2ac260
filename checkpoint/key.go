package checkpoint

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"unicode/utf8"
)

// HeadBytes is how many leading bytes of a file its Head covers at most.
// 1 KiB holds several syslog lines, each with a timestamp and a pid, which
// is plenty to tell two files apart without reading much.
const HeadBytes = 1024

// Head is a signature of a file's first bytes.
type Head struct {
	// Len is how many bytes Sum covers: min(size, HeadBytes) when the file
	// was identified. A file that has grown since still matches, because
	// only its first Len bytes are compared (see Store.Resume).
	Len int
	// Sum is the SHA-256 of the first Len bytes.
	Sum [sha256.Size]byte
}

// headOf returns the Head of b, which must hold at most HeadBytes bytes.
func headOf(b []byte) Head {
	return Head{Len: len(b), Sum: sha256.Sum256(b)}
}

// matches reports whether data (a file's first bytes) starts with the bytes
// h was taken from.
func (h Head) matches(data []byte) bool {
	return h.Len <= len(data) && sha256.Sum256(data[:h.Len]) == h.Sum
}

// FileKey identifies one file, not one path: a file that is deleted and
// recreated, or replaced in place, gets a different key, so a position is
// never applied to bytes it was not taken from. FileKey is comparable and
// is used as a map key.
type FileKey struct {
	Path  string // the path the file was opened by
	Dev   uint64 // st_dev
	Inode uint64 // st_ino
	Head  Head
}

func (k FileKey) String() string {
	return fmt.Sprintf("%s (dev %d, inode %d, head %d bytes %s)",
		k.Path, k.Dev, k.Inode, k.Head.Len, hex.EncodeToString(k.Head.Sum[:4]))
}

// validate rejects what cannot be saved faithfully: JSON strings hold only
// UTF-8, so a path with other bytes would come back as a different key.
func (k FileKey) validate() error {
	switch {
	case k.Path == "":
		return errors.New("empty path")
	case !utf8.ValidString(k.Path):
		return fmt.Errorf("path %q is not valid UTF-8", k.Path)
	case k.Head.Len < 0 || k.Head.Len > HeadBytes:
		return fmt.Errorf("head length %d is outside 0..%d", k.Head.Len, HeadBytes)
	}
	return nil
}

// IdentifyFile returns the key of the regular file at path: its device and
// inode and the SHA-256 of its first min(size, HeadBytes) bytes.
func IdentifyFile(path string) (FileKey, error) {
	id, err := identify(path)
	return id.key, err
}

// identity is what identify learns about a file: its key, the head bytes
// themselves (Resume compares shorter saved heads against them) and its size.
type identity struct {
	key  FileKey
	head []byte
	size int64
}

func identify(path string) (identity, error) {
	// Stat before opening: opening a FIFO for reading blocks until a writer
	// appears, and only regular files have offsets worth saving.
	fi, err := os.Stat(path)
	if err != nil {
		return identity{}, fmt.Errorf("checkpoint: identify: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return identity{}, fmt.Errorf("checkpoint: identify %s: %w", path, notRegular(fi))
	}
	f, err := os.Open(path)
	if err != nil {
		return identity{}, fmt.Errorf("checkpoint: identify: %w", err)
	}
	defer f.Close()
	// Stat the open file again, so that the inode and the head bytes
	// belong to the same file even if path was replaced after os.Stat.
	if fi, err = f.Stat(); err != nil {
		return identity{}, fmt.Errorf("checkpoint: identify: %w", err)
	}
	dev, ino, ok := devInode(fi)
	if !ok {
		return identity{}, fmt.Errorf("checkpoint: identify %s: no device and inode numbers on this system", path)
	}
	buf := make([]byte, HeadBytes)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return identity{}, fmt.Errorf("checkpoint: identify: %w", err)
	}
	buf = buf[:n]
	return identity{
		key:  FileKey{Path: path, Dev: dev, Inode: ino, Head: headOf(buf)},
		head: buf,
		// The file may have grown between Stat and the read.
		size: max(fi.Size(), int64(n)),
	}, nil
}

func notRegular(fi fs.FileInfo) error {
	if fi.IsDir() {
		return errors.New("is a directory, not a regular file")
	}
	return fmt.Errorf("not a regular file (mode %s)", fi.Mode())
}
