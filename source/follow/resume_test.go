package follow

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"

	"github.com/mailevents/mailevents/checkpoint"
)

// TestStoreResumePicksNewestFile: the store holds a position for each file
// followed under one path; the newest file still found wins.
func TestStoreResumePicksNewestFile(t *testing.T) {
	path := logPath(t)
	identify := func() checkpoint.FileKey {
		k, err := checkpoint.IdentifyFile(path)
		must(t, err)
		return k
	}
	create(t, path).write(lines(1, 10)...)
	a := identify()
	must(t, os.Rename(path, path+".1"))
	create(t, path).write(lines(11, 20)...)
	b := identify()
	must(t, os.Rename(path+".1", path+".2"))
	compress(t, path+".2", path+".2.gz")
	must(t, os.Rename(path, path+".1"))
	create(t, path).write(lines(21, 30)...)
	c := identify()
	gone := checkpoint.FileKey{Path: path, Dev: a.Dev, Inode: 1 << 40,
		Head: checkpoint.Head{Len: 5, Sum: sha256.Sum256([]byte("gone\n"))}}
	other := c
	other.Path = path + ".other"

	type commit struct {
		key checkpoint.FileKey
		off int64
	}
	tests := []struct {
		name    string
		commits []commit
		want    *Position
	}{
		{"none", nil, nil},
		{"other path only", []commit{{other, 10}}, nil},
		{"one", []commit{{a, 50}}, &Position{File: a, Offset: 50}},
		{"rotated twice, compressed, and the one after it", []commit{{a, 100}, {b, 40}}, &Position{File: b, Offset: 40}},
		{"current file", []commit{{c, 30}, {a, 100}, {b, 100}}, &Position{File: c, Offset: 30}},
		{"gone file loses to a found one", []commit{{gone, 500}, {a, 20}}, &Position{File: a, Offset: 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := checkpoint.Open(filepath.Join(t.TempDir(), "cp.json"))
			must(t, err)
			for _, c := range tt.commits {
				must(t, s.Commit(c.key, checkpoint.Position{Offset: c.off}))
			}
			got, err := StoreResume(s)(path)
			must(t, err)
			switch {
			case got == nil && tt.want == nil:
			case got == nil || tt.want == nil || *got != *tt.want:
				t.Fatalf("StoreResume = %+v, want %+v", got, tt.want)
			}
		})
	}
}
