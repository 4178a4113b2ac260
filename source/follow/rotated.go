package follow

import (
	"cmp"
	"compress/bzip2"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mailevents/mailevents/checkpoint"
)

// decompressors are the compressed formats a rotated file can be read in:
// the two the standard library reads, and gzip is logrotate's default.
var decompressors = map[string]func(io.Reader) (io.Reader, error){
	".gz":  func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) },
	".bz2": func(r io.Reader) (io.Reader, error) { return bzip2.NewReader(r), nil },
}

// compressedExts are the extensions compression tools add. Recognising the
// ones that cannot be read still matters: such a file must never be taken
// for a plain rotated file, nor followed as a log by OpenGlob.
var compressedExts = []string{".gz", ".bz2", ".xz", ".zst", ".lz4", ".lzma", ".lzo", ".br", ".Z"}

// compressedExt returns name's compression extension, or "".
func compressedExt(name string) string {
	for _, ext := range compressedExts {
		if len(name) > len(ext) && strings.HasSuffix(name, ext) {
			return ext
		}
	}
	return ""
}

type rotKind uint8

const (
	numbered rotKind = iota + 1 // path.1, path.2.gz: a higher number is older
	dated                       // path-20250101: a later date is newer
)

// rotName is what a rotated file's name says about it.
type rotName struct {
	kind rotKind
	num  int    // numbered: the N of path.N
	date string // dated: the digits of the suffix, compared as text
	comp string // compression extension, "" for a plain file
}

// parseRotated reports whether name is a rotation of base (both base
// names): base, a separator ('.', '-' or '_'), a suffix made of digits and
// separators that starts with a digit, then maybe a compression extension.
// That covers logrotate's numbers and its dateext formats, savelog and
// most other tools. logrotate's "extension" option keeps base's own
// extension last (mail.log → mail-20250101.log), so that form counts too.
// Suffixes that are not numbers or dates (mail.log.old, mail.err next to
// mail) are not rotations: reading them as such would mix other logs in.
func parseRotated(base, name string) (rotName, bool) {
	if name == base || base == "" {
		return rotName{}, false
	}
	rn := rotName{comp: compressedExt(name)}
	name = strings.TrimSuffix(name, rn.comp)
	if s, ok := cutSep(name, base); ok {
		return rn.classify(s)
	}
	if ext := filepath.Ext(base); ext != "" && ext != base {
		if rest, ok := strings.CutSuffix(name, ext); ok {
			if s, ok := cutSep(rest, strings.TrimSuffix(base, ext)); ok {
				return rn.classify(s)
			}
		}
	}
	return rotName{}, false
}

func cutSep(name, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok || len(rest) < 2 || !isSep(rest[0]) {
		return "", false
	}
	return rest[1:], true
}

func isSep(c byte) bool { return c == '.' || c == '-' || c == '_' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// classify reads a rotation suffix: a short plain number is logrotate's
// count, anything longer or with separators is a date (or an epoch).
func (rn rotName) classify(s string) (rotName, bool) {
	if s == "" || !isDigit(s[0]) {
		return rotName{}, false
	}
	digits := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case isDigit(c):
			digits = append(digits, c)
		case isSep(c) || c == ':':
		default:
			return rotName{}, false
		}
	}
	if len(digits) == len(s) && len(s) <= 6 {
		rn.kind = numbered
		for _, c := range digits {
			rn.num = rn.num*10 + int(c-'0')
		}
		return rn, true
	}
	rn.kind, rn.date = dated, string(digits)
	return rn, true
}

// slot says which rotation a name stands for, compression aside, so that
// path.1 and the path.1.gz being made from it count once.
func (rn rotName) slot() rotName { rn.comp = ""; return rn }

// rotatedFile is a rotated sibling of a followed path, opened and
// identified. For a compressed file, id.head is the start of the
// decompressed content and id.size is unknown (-1): offsets in a
// compressed file are offsets in its decompressed content, which holds the
// same bytes as the file it was made from.
type rotatedFile struct {
	name  string
	rn    rotName
	mtime time.Time
	file  *os.File
	id    fileID
}

func (r *rotatedFile) compressed() bool { return r.rn.comp != "" }

func closeAll(rs []*rotatedFile) {
	for _, r := range rs {
		r.file.Close()
	}
}

// A rotation in progress (renames, a compression, a removal) can show a
// listing of rotated files a state the directory was never in: names read
// before a rename and opened after it are gone, and a name moved during
// the read of the directory can be missed altogether. Listings that show
// such signs are taken again, a few times, some time apart.
const (
	listAttempts   = 5
	listRetryDelay = 20 * time.Millisecond
)

// listRotated opens the rotated siblings of path that hold data and that
// can be read, oldest first. A file that vanishes or cannot be read is
// skipped: the rotated files are a recovery, never a reason to fail.
func listRotated(path string, log *slog.Logger) []*rotatedFile {
	for attempt := 1; ; attempt++ {
		rs, settled := listRotatedOnce(path, log)
		if settled || attempt == listAttempts {
			return rs
		}
		closeAll(rs)
		time.Sleep(listRetryDelay)
	}
}

// listRotatedOnce is one listing; settled is false when a listed name was
// gone by the time it was opened.
func listRotatedOnce(path string, log *slog.Logger) (rs []*rotatedFile, settled bool) {
	dir, base := filepath.Split(path)
	ents, err := os.ReadDir(filepath.Clean(dir + "."))
	if err != nil {
		log.Debug("cannot list rotated files", "err", err)
		return nil, true
	}
	settled = true
	for _, ent := range ents {
		rn, ok := parseRotated(base, ent.Name())
		if !ok {
			continue
		}
		r, err := openRotated(dir+ent.Name(), rn, path)
		if err != nil {
			if isNotExist(err) {
				settled = false
			}
			log.Debug("skipping rotated file", "file", dir+ent.Name(), "err", err)
			continue
		}
		if r == nil {
			continue // empty
		}
		rs = append(rs, r)
	}
	rs = dedupe(rs)
	sortOldestFirst(rs)
	return rs, settled
}

// openRotated opens and identifies one rotated file; nil for an empty one.
func openRotated(name string, rn rotName, keyPath string) (*rotatedFile, error) {
	dec, readable := decompressors[rn.comp]
	if rn.comp != "" && !readable {
		return nil, fmt.Errorf("%s compression cannot be read", rn.comp)
	}
	f, id, err := openID(name, keyPath)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat: %w", err)
	}
	if rn.comp != "" {
		if id, err = identifyCompressed(f, id, dec); err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	if len(id.head) == 0 {
		f.Close()
		return nil, nil
	}
	return &rotatedFile{name: name, rn: rn, mtime: fi.ModTime(), file: f, id: id}, nil
}

// identifyCompressed replaces the head of id (the compressed bytes) with
// the start of the decompressed content, which is what the file's key was
// taken from before it was compressed.
func identifyCompressed(f *os.File, id fileID, dec func(io.Reader) (io.Reader, error)) (fileID, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fileID{}, fmt.Errorf("seek: %w", err)
	}
	r, err := dec(f)
	if errors.Is(err, io.EOF) {
		r, err = eofReader{}, nil // an empty compressed file
	}
	if err != nil {
		return fileID{}, fmt.Errorf("decompress: %w", err)
	}
	head := make([]byte, checkpoint.HeadBytes)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fileID{}, fmt.Errorf("decompress: %w", err)
	}
	id.head = head[:n]
	id.key.Head = checkpoint.Head{Len: n, Sum: sha256.Sum256(id.head)}
	id.size = -1
	return id, nil
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// dedupe drops a compressed file when the plain file it is being made from
// is still there: the plain one is complete, the other may not be yet.
func dedupe(rs []*rotatedFile) []*rotatedFile {
	plain := map[rotName]bool{}
	for _, r := range rs {
		if !r.compressed() {
			plain[r.rn.slot()] = true
		}
	}
	return slices.DeleteFunc(rs, func(r *rotatedFile) bool {
		if r.compressed() && plain[r.rn.slot()] {
			r.file.Close()
			return true
		}
		return false
	})
}

// sortOldestFirst orders rotated files by what their names say when they
// all use one naming scheme, because modification times mislead there:
// compressing a file (delaycompress compresses path.1 at the next
// rotation) gives the compressed copy the time of the compression, later
// than the newer path.1. Mixed schemes (the configuration changed) are
// ordered by modification time, then by name.
func sortOldestFirst(rs []*rotatedFile) {
	uniform := len(rs) > 0
	for _, r := range rs {
		if r.rn.kind != rs[0].rn.kind || len(r.rn.date) != len(rs[0].rn.date) {
			uniform = false
		}
	}
	slices.SortStableFunc(rs, func(a, b *rotatedFile) int {
		if uniform {
			if c := cmp.Or(cmp.Compare(b.rn.num, a.rn.num), strings.Compare(a.rn.date, b.rn.date)); c != 0 {
				return c
			}
		}
		return cmp.Or(a.mtime.Compare(b.mtime), strings.Compare(a.name, b.name))
	})
}

// locate returns the index in rs of the file key was taken from, if it is
// there and holds off bytes: first by device and inode (renamed by
// rotation), then by head alone, which is how a compressed copy and a
// copytruncate copy are recognised (both are new inodes with the same
// bytes). A key with an empty head matches no copy, since it would match
// any file. It returns -1 when no file matches.
func locate(rs []*rotatedFile, key checkpoint.FileKey, off int64) int {
	for i, r := range rs {
		if !r.compressed() && sameFile(key, r.id) && off <= r.id.size {
			return i
		}
	}
	if key.Head.Len == 0 {
		return -1
	}
	for i, r := range rs {
		if headMatches(key.Head, r.id.head) && (r.compressed() || off <= r.id.size) {
			return i
		}
	}
	return -1
}

// errShort reports a compressed file that ends before the offset to
// resume at; it cannot be the file the offset was taken from.
var errShort = errors.New("ends before the offset")

// contentFrom returns a reader of r's content from offset off.
func (r *rotatedFile) contentFrom(off int64) (io.Reader, error) {
	if !r.compressed() {
		if _, err := r.file.Seek(off, io.SeekStart); err != nil {
			return nil, fmt.Errorf("seek to %d: %w", off, err)
		}
		return r.file, nil
	}
	if _, err := r.file.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("seek: %w", err)
	}
	d, err := decompressors[r.rn.comp](r.file)
	if err != nil {
		return nil, fmt.Errorf("decompress: %w", err)
	}
	// Offsets count decompressed bytes, so the only way there is through
	// them; it costs one pass over what was already read.
	if n, err := io.CopyN(io.Discard, d, off); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("decompressed content %w %d: it holds %d bytes", errShort, off, n)
		}
		return nil, fmt.Errorf("decompress: %w", err)
	}
	return d, nil
}
