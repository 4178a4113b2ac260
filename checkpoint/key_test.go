package checkpoint

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func writeLog(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustIdentify(t *testing.T, path string) FileKey {
	t.Helper()
	k, err := IdentifyFile(path)
	if err != nil {
		t.Fatalf("IdentifyFile: %v", err)
	}
	return k
}

func TestIdentifyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	long := strings.Repeat("Mar  2 09:14:12 mail dovecot: imap(bob): Logged out\n", 40)
	writeLog(t, path, long)
	k := mustIdentify(t, path)
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	want := FileKey{Path: path, Dev: uint64(st.Dev), Inode: st.Ino, Head: headOf([]byte(long[:HeadBytes]))}
	if k != want {
		t.Errorf("IdentifyFile = %v, want %v", k, want)
	}
	// Appending beyond the head does not change the identity.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("more\n")
	f.Close()
	if again := mustIdentify(t, path); again != k {
		t.Errorf("identity changed by an append: %v, was %v", again, k)
	}

	for _, bad := range []string{filepath.Join(dir, "missing"), dir} {
		if _, err := IdentifyFile(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("IdentifyFile(%s) = %v, want an error naming it", bad, err)
		}
	}
}

// TestReplacedFileHasNewKey covers the ways a path can come to hold a
// different file; each must give a key under which no position is found.
func TestReplacedFileHasNewKey(t *testing.T) {
	first := "Mar  2 09:14:12 mail dovecot: first file\n"
	tests := []struct {
		name    string
		replace func(t *testing.T, path string)
	}{
		{"deleted and recreated", func(t *testing.T, path string) {
			os.Remove(path)
			writeLog(t, path, "Mar  2 10:00:00 mail dovecot: second file\n")
		}},
		{"renamed over (new inode, same content)", func(t *testing.T, path string) {
			// Different inode even with identical bytes.
			other := path + ".new"
			writeLog(t, other, first)
			if err := os.Rename(other, path); err != nil {
				t.Fatal(err)
			}
		}},
		{"rewritten in place (same inode, new head)", func(t *testing.T, path string) {
			writeLog(t, path, "Mar  2 10:00:00 mail dovecot: second file\n") // O_TRUNC keeps the inode
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "mail.log")
			writeLog(t, path, first)
			before := mustIdentify(t, path)
			s, err := OpenFresh(checkpointPath(t))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Commit(before, Position{Offset: int64(len(first))}); err != nil {
				t.Fatal(err)
			}
			tt.replace(t, path)
			after := mustIdentify(t, path)
			if after == before {
				t.Fatalf("same key %v after replacement", after)
			}
			if _, ok := s.Position(after); ok {
				t.Error("Position found for the replacing file")
			}
			if _, _, ok, err := s.Resume(path); ok || err != nil {
				t.Errorf("Resume = ok %v, %v; want no position", ok, err)
			}
		})
	}
}

func TestResume(t *testing.T) {
	line := "Mar  2 09:14:12 mail dovecot: imap(bob): Logged out\n"
	t.Run("grown past the saved head", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "mail.log")
		writeLog(t, path, line)
		short := mustIdentify(t, path)
		s, _ := OpenFresh(checkpointPath(t))
		pos := Position{Offset: int64(len(line)), Line: 1}
		s.Commit(short, pos)
		writeLog(t, path, strings.Repeat(line, 50)) // same inode, same first bytes
		k, p, ok, err := s.Resume(path)
		if err != nil || !ok || p != pos {
			t.Fatalf("Resume = %+v, %v, %v; want %+v", p, ok, err, pos)
		}
		if k.Head.Len != HeadBytes || k == short {
			t.Errorf("Resume key %v, want the current full-head key", k)
		}
		// The entry moved to the current key; commits continue there.
		if _, ok := s.Position(short); ok {
			t.Error("old key still present")
		}
		if err := s.Commit(k, Position{Offset: 2 * int64(len(line))}); err != nil {
			t.Error(err)
		}
	})
	t.Run("renamed by rotation", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "mail.log")
		writeLog(t, path, strings.Repeat(line, 3))
		s, _ := OpenFresh(checkpointPath(t))
		s.Commit(mustIdentify(t, path), Position{Offset: 10})
		rotated := path + ".1"
		os.Rename(path, rotated)
		if _, p, ok, _ := s.Resume(rotated); !ok || p.Offset != 10 {
			t.Errorf("Resume(rotated) = %+v, %v; want offset 10", p, ok)
		}
	})
	t.Run("truncated below the offset", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "mail.log")
		content := strings.Repeat(line, 3)
		writeLog(t, path, content)
		k := mustIdentify(t, path)
		s, _ := OpenFresh(checkpointPath(t))
		s.Commit(k, Position{Offset: int64(len(content))})
		// copytruncate, then the same first line is written again.
		writeLog(t, path, line)
		k2, _, ok, err := s.Resume(path)
		if ok || err != nil {
			t.Fatalf("Resume = ok %v, %v; want no position", ok, err)
		}
		if k2 == k {
			t.Fatalf("same key %v after truncation to a shorter head", k2)
		}
		// The old entry, under its longer head, stays until the daemon
		// forgets it; it does not block commits under the new key.
		if err := s.Commit(k2, Position{Offset: 1}); err != nil {
			t.Errorf("Commit on the truncated file: %v", err)
		}
	})
	t.Run("same head, same inode, truncated", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "mail.log")
		head := bytes.Repeat([]byte("x"), HeadBytes)
		writeLog(t, path, string(head)+"rest of a long file\n")
		k := mustIdentify(t, path)
		s, _ := OpenFresh(checkpointPath(t))
		s.Commit(k, Position{Offset: HeadBytes + 20})
		writeLog(t, path, string(head)) // shorter than the committed offset
		k2, _, ok, _ := s.Resume(path)
		if ok || k2 != k {
			t.Fatalf("Resume = %v, ok %v; want the same key without a position", k2, ok)
		}
		// The stale entry is gone, so the restart from 0 can commit.
		if err := s.Commit(k2, Position{Offset: 5}); err != nil {
			t.Errorf("Commit after truncation: %v", err)
		}
	})
}
