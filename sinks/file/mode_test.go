package file

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// The umask is process-wide, so this test does not run in parallel.
func TestFileMode(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })
	dir := t.TempDir()

	check := func(path string, opts Options, want os.FileMode) {
		t.Helper()
		w := mustOpen(t, path, opts)
		mustWrite(t, w, batch("m", 1, 10))
		if err := w.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v, want %v", filepath.Base(path), got, want)
		}
	}
	check(filepath.Join(dir, "default.jsonl"), Options{}, 0o640)
	check(filepath.Join(dir, "private.jsonl"), Options{Mode: 0o600}, 0o600)

	// An existing file keeps the mode the operator gave it.
	existing := filepath.Join(dir, "existing.jsonl")
	if err := os.WriteFile(existing, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	check(existing, Options{}, 0o644)

	// A file created by rotation gets Mode too.
	rot := filepath.Join(dir, "rot.jsonl")
	w := mustOpen(t, rot, Options{MaxBytes: 10})
	mustWrite(t, w, batch("r", 1, 20))
	mustWrite(t, w, batch("r", 1, 20))
	w.Close(context.Background())
	for _, p := range []string{rot, rot + ".1"} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o640 {
			t.Errorf("%s: %v %v, want mode 0640", p, fi.Mode(), err)
		}
	}
}
