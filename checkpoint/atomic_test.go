package checkpoint

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// saved returns a store at a fresh path whose file already holds one
// committed position (the "old" checkpoint), and that position.
func saved(t *testing.T) (*Store, FileKey, Position) {
	t.Helper()
	path := checkpointPath(t)
	s := mustOpen(t, path)
	k, p := key("/var/log/mail.log", 1), Position{Offset: 100}
	if err := s.Commit(k, p); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	return s, k, p
}

// TestSaveInterrupted fails each step before the rename, as a crash there
// would stop it: the old checkpoint must stay readable and unchanged, and
// no temporary file may be left behind by a failure Save sees.
func TestSaveInterrupted(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name   string
		inject func(*fsOps)
		want   string
	}{
		{"write fails", func(o *fsOps) { o.write = func(*os.File, []byte) error { return boom } }, "write temporary file: boom"},
		{"short write then failure", func(o *fsOps) {
			o.write = func(f *os.File, data []byte) error {
				f.Write(data[:len(data)/2])
				return boom
			}
		}, "write temporary file: boom"},
		{"rename fails", func(o *fsOps) { o.rename = func(string, string) error { return boom } }, "rename temporary file: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, k, old := saved(t)
			before, err := os.ReadFile(s.Path())
			if err != nil {
				t.Fatal(err)
			}
			tt.inject(&s.ops)
			if err := s.Commit(k, Position{Offset: 200}); err != nil {
				t.Fatal(err)
			}
			err = s.Save()
			if !errors.Is(err, boom) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), s.Path()) {
				t.Fatalf("Save = %v, want an error naming the file and %q", err, tt.want)
			}
			after, err := os.ReadFile(s.Path())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(before), string(after)); diff != "" {
				t.Errorf("checkpoint changed by a failed save (-before +after):\n%s", diff)
			}
			if p, _ := mustOpen(t, s.Path()).Position(k); p != old {
				t.Errorf("reloaded position %+v, want the old %+v", p, old)
			}
			assertOnlyCheckpoint(t, s.Path())

			// A failed save leaves the store dirty: the next one retries.
			s.ops = osOps
			if err := s.Save(); err != nil {
				t.Fatalf("retry: %v", err)
			}
			if p, _ := mustOpen(t, s.Path()).Position(k); p.Offset != 200 {
				t.Errorf("after retry, position %+v, want offset 200", p)
			}
		})
	}
}

// TestCrashLeavesTempFile simulates a crash after the temporary file was
// written but before the rename (the process is gone, so nothing cleans
// up): Open ignores the leftover and reads the old checkpoint.
func TestCrashLeavesTempFile(t *testing.T) {
	s, k, old := saved(t)
	tmp, err := os.CreateTemp(filepath.Dir(s.Path()), "."+filepath.Base(s.Path())+".tmp-*")
	if err != nil {
		t.Fatal(err)
	}
	tmp.WriteString(`{"version":1,"files":[{"path":"/var/log/mail.log","dev":20`) // cut short
	tmp.Close()
	if p, ok := mustOpen(t, s.Path()).Position(k); !ok || p != old {
		t.Errorf("Position = %+v, %v; want the old %+v", p, ok, old)
	}
}

func TestSaveSyncsDirectory(t *testing.T) {
	s, k, _ := saved(t)
	var synced []string
	s.ops.syncDir = func(dir string) error {
		// By now the rename must have happened: the directory fsync is
		// what makes it durable.
		if p, _ := mustOpen(t, s.Path()).Position(k); p.Offset != 300 {
			t.Errorf("directory synced before the rename: offset %d on disk", p.Offset)
		}
		synced = append(synced, dir)
		return nil
	}
	if err := s.Commit(k, Position{Offset: 300}); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if want := []string{filepath.Dir(s.Path())}; !cmp.Equal(synced, want) {
		t.Errorf("synced directories %q, want %q", synced, want)
	}

	// A failed directory fsync is reported: the save is not durable yet.
	boom := errors.New("boom")
	s.ops.syncDir = func(string) error { return boom }
	if err := s.Commit(k, Position{Offset: 400}); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(); !errors.Is(err, boom) || !strings.Contains(err.Error(), "fsync directory") {
		t.Errorf("Save = %v, want the directory fsync error", err)
	}
}

func TestSaveModeAndSkip(t *testing.T) {
	s, k, _ := saved(t)
	fi, err := os.Stat(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != fileMode {
		t.Errorf("mode %v, want %v", fi.Mode().Perm(), os.FileMode(fileMode))
	}
	// Nothing changed: Save must not write (no fsync per idle tick).
	s.ops.rename = func(string, string) error { t.Error("unchanged store was written"); return nil }
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	// A commit that changes nothing is not a change either.
	if err := s.Commit(k, Position{Offset: 100}); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
}

// TestOpenFreshReplacesCorrupt is --reset-checkpoint: the corrupt file is
// not read, and the first Save replaces it even with nothing committed.
func TestOpenFreshReplacesCorrupt(t *testing.T) {
	path := checkpointPath(t)
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); err == nil {
		t.Fatal("Open accepted garbage")
	}
	s, err := OpenFresh(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if keys := mustOpen(t, path).Keys(); len(keys) != 0 {
		t.Errorf("Keys = %v, want none", keys)
	}
}

func assertOnlyCheckpoint(t *testing.T, path string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{filepath.Base(path)}; !cmp.Equal(names, want) {
		t.Errorf("directory holds %q, want only %q", names, want)
	}
}
