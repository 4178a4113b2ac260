package checkpoint

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// key returns a distinct, valid key for tests that need no real file.
func key(path string, inode uint64) FileKey {
	return FileKey{Path: path, Dev: 2049, Inode: inode, Head: headOf([]byte("head of " + path))}
}

func checkpointPath(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "checkpoint.json")
}

func mustOpen(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// contents is what a store holds, for comparisons.
type contents struct {
	Files map[FileKey]Position
	State map[string][]byte
}

func contentsOf(s *Store) contents {
	s.mu.Lock()
	defer s.mu.Unlock()
	return contents{Files: s.files, State: s.state}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		files map[FileKey]Position
		state map[string][]byte
	}{
		{name: "empty"},
		{name: "one file", files: map[FileKey]Position{key("/var/log/mail.log", 1): {Offset: 734211, Line: 5120}}},
		{name: "journald cursor", files: map[FileKey]Position{{Path: "journald:dovecot.service"}: {Cursor: "s=6a2b;i=1f3;b=9c;m=2e;t=5f;x=77"}}},
		{name: "many files and state", files: map[FileKey]Position{
			key("/var/log/mail.log", 1):   {Offset: 10},
			key("/var/log/mail.log.1", 2): {Offset: 1 << 40, Line: 1 << 30},
			{Path: "/var/log/empty.log", Dev: 1<<64 - 1, Inode: 1<<64 - 1, Head: headOf(nil)}: {},
			key("/var/log/ünïcode \"quoted\".log", 3):                                         {Offset: 1},
		}, state: map[string][]byte{"mapping": []byte(`{"sessions":[]}`), "binary": {0, 1, 2, 255}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := checkpointPath(t)
			s, err := OpenFresh(path)
			if err != nil {
				t.Fatal(err)
			}
			for k, p := range tt.files {
				if err := s.Commit(k, p); err != nil {
					t.Fatalf("Commit(%v, %+v): %v", k, p, err)
				}
			}
			for name, data := range tt.state {
				if err := s.SetState(name, data); err != nil {
					t.Fatalf("SetState(%q): %v", name, err)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			got := mustOpen(t, path)
			want := contents{Files: tt.files, State: tt.state}
			if diff := cmp.Diff(want, contentsOf(got), cmpEmpty); diff != "" {
				t.Errorf("reloaded store differs (-want +got):\n%s", diff)
			}
			for k, p := range tt.files {
				if gp, ok := got.Position(k); !ok || gp != p {
					t.Errorf("Position(%v) = %+v, %v; want %+v, true", k, gp, ok, p)
				}
			}
		})
	}
}

// cmpEmpty treats nil and empty maps alike.
var cmpEmpty = cmp.FilterValues(func(x, y any) bool {
	return lenOf(x) == 0 && lenOf(y) == 0
}, cmp.Comparer(func(_, _ any) bool { return true }))

func lenOf(v any) int {
	switch m := v.(type) {
	case map[FileKey]Position:
		return len(m)
	case map[string][]byte:
		return len(m)
	}
	return -1
}

func TestOpenMissingIsEmpty(t *testing.T) {
	path := checkpointPath(t)
	s := mustOpen(t, path)
	if len(s.Keys()) != 0 {
		t.Errorf("Keys = %v, want none", s.Keys())
	}
	// Nothing committed, nothing to write: the first start leaves no file.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Stat after Close of an unchanged empty store: %v, want not exist", err)
	}
}

func TestOpenMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope", "checkpoint.json")
	for name, open := range map[string]func(string) (*Store, error){"Open": Open, "OpenFresh": OpenFresh} {
		_, err := open(path)
		if err == nil || !strings.Contains(err.Error(), path) || !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s(%s) = %v, want a not-exist error naming the file", name, path, err)
		}
	}
}

func TestCommitMonotonic(t *testing.T) {
	k, other := key("/var/log/mail.log", 1), key("/var/log/mail.log", 2)
	tests := []struct {
		name    string
		commits []Position
		wantErr []error // per commit
		want    Position
	}{
		{"forward", []Position{{Offset: 10}, {Offset: 20}, {Offset: 30}}, []error{nil, nil, nil}, Position{Offset: 30}},
		{"backward ignored", []Position{{Offset: 20, Line: 2}, {Offset: 10, Line: 1}}, []error{nil, ErrBackwards}, Position{Offset: 20, Line: 2}},
		{"equal offset updates line and cursor", []Position{{Offset: 20, Line: 2}, {Offset: 20, Line: 3, Cursor: "c"}}, []error{nil, nil}, Position{Offset: 20, Line: 3, Cursor: "c"}},
		{"backward to zero", []Position{{Offset: 5}, {Offset: 0}}, []error{nil, ErrBackwards}, Position{Offset: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := OpenFresh(checkpointPath(t))
			if err != nil {
				t.Fatal(err)
			}
			// Another identity of the same path is independent.
			if err := s.Commit(other, Position{Offset: 1 << 20}); err != nil {
				t.Fatal(err)
			}
			for i, p := range tt.commits {
				err := s.Commit(k, p)
				if !errors.Is(err, tt.wantErr[i]) || (err == nil) != (tt.wantErr[i] == nil) {
					t.Errorf("Commit #%d (%+v) = %v, want %v", i, p, err, tt.wantErr[i])
				}
			}
			if got, _ := s.Position(k); got != tt.want {
				t.Errorf("Position = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCommitInvalid(t *testing.T) {
	s, err := OpenFresh(checkpointPath(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key  FileKey
		pos  Position
		want string
	}{
		{FileKey{}, Position{}, "empty path"},
		{FileKey{Path: "a\xffb"}, Position{}, "not valid UTF-8"},
		{FileKey{Path: "a", Head: Head{Len: HeadBytes + 1}}, Position{}, "head length 1025"},
		{key("a", 1), Position{Offset: -1}, "negative offset -1"},
		{key("a", 1), Position{Line: -1}, "negative line -1"},
	}
	for _, tt := range tests {
		if err := s.Commit(tt.key, tt.pos); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Commit(%+v, %+v) = %v, want an error containing %q", tt.key, tt.pos, err, tt.want)
		}
	}
	if len(s.Keys()) != 0 {
		t.Errorf("invalid commits were recorded: %v", s.Keys())
	}
}

func TestForget(t *testing.T) {
	path := checkpointPath(t)
	s := mustOpen(t, path)
	a, b := key("/a", 1), key("/b", 2)
	for _, k := range []FileKey{a, b} {
		if err := s.Commit(k, Position{Offset: 7}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	s.Forget(a)
	s.Forget(key("/never", 3)) // unknown keys are fine
	if _, ok := s.Position(a); ok {
		t.Error("Position(a) still present after Forget")
	}
	// After Forget, the key may start again from any offset.
	if err := s.Commit(a, Position{Offset: 1}); err != nil {
		t.Errorf("Commit after Forget: %v", err)
	}
	s.Forget(a)
	// Forget is a change like any other: it reaches the file on Save.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]FileKey{b}, mustOpen(t, path).Keys()); diff != "" {
		t.Errorf("keys after reload (-want +got):\n%s", diff)
	}
	if err := s.Commit(a, Position{Offset: 1}); !errors.Is(err, ErrClosed) {
		t.Errorf("Commit after Close = %v, want ErrClosed", err)
	}
}

func TestState(t *testing.T) {
	s, err := OpenFresh(checkpointPath(t))
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("abc")
	if err := s.SetState("m", data); err != nil {
		t.Fatal(err)
	}
	data[0] = 'X' // the store keeps its own copy
	got, ok := s.State("m")
	if !ok || string(got) != "abc" {
		t.Fatalf("State = %q, %v; want abc, true", got, ok)
	}
	got[0] = 'Y' // and hands out copies
	if again, _ := s.State("m"); string(again) != "abc" {
		t.Errorf("State changed through a returned slice: %q", again)
	}
	if err := s.SetState("m", nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.State("m"); ok {
		t.Error("empty SetState did not delete")
	}

	big := bytes.Repeat([]byte{'x'}, MaxStateBytes-len("a"))
	if err := s.SetState("a", big); err != nil {
		t.Fatalf("SetState at the limit: %v", err)
	}
	err = s.SetState("b", []byte{1})
	if !errors.Is(err, ErrStateTooLarge) || !strings.Contains(err.Error(), fmt.Sprint(MaxStateBytes)) {
		t.Errorf("SetState over the limit = %v, want ErrStateTooLarge naming the limit", err)
	}
	if _, ok := s.State("b"); ok {
		t.Error("state over the limit was stored")
	}
	// Replacing a blob counts only the new size.
	if err := s.SetState("a", big[:10]); err != nil {
		t.Errorf("shrinking a blob: %v", err)
	}
	for _, name := range []string{"", strings.Repeat("n", MaxStateName+1), "\xff"} {
		if err := s.SetState(name, []byte{1}); err == nil {
			t.Errorf("SetState(%q) accepted an invalid name", name)
		}
	}
}

func TestCloseIdempotent(t *testing.T) {
	path := checkpointPath(t)
	s := mustOpen(t, path)
	if err := s.Commit(key("/a", 1), Position{Offset: 1}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	s.ops.rename = func(string, string) error { return boom }
	if err := s.Close(); !errors.Is(err, boom) {
		t.Fatalf("Close = %v, want the rename error", err)
	}
	if err := s.Close(); !errors.Is(err, boom) {
		t.Errorf("second Close = %v, want the first result again", err)
	}
	if err := s.Save(); !errors.Is(err, ErrClosed) {
		t.Errorf("Save after Close = %v, want ErrClosed", err)
	}
	if err := s.SetState("m", []byte{1}); !errors.Is(err, ErrClosed) {
		t.Errorf("SetState after Close = %v, want ErrClosed", err)
	}
}

// TestConcurrent runs the daemon's pattern under -race: ack paths commit,
// a ticker saves, the mapping updates its state, and readers look.
func TestConcurrent(t *testing.T) {
	path := checkpointPath(t)
	s := mustOpen(t, path)
	const files, commits = 4, 200
	var wg sync.WaitGroup
	for f := range files {
		wg.Go(func() {
			k := key(fmt.Sprintf("/var/log/%d.log", f), uint64(f))
			for i := 1; i <= commits; i++ {
				if err := s.Commit(k, Position{Offset: int64(i) * 100, Line: int64(i)}); err != nil {
					t.Errorf("Commit: %v", err)
					return
				}
				s.Position(k)
			}
		})
	}
	wg.Go(func() {
		for i := range commits {
			if err := s.SetState("mapping", fmt.Appendf(nil, "state %d", i)); err != nil {
				t.Errorf("SetState: %v", err)
				return
			}
		}
	})
	for range 2 {
		wg.Go(func() {
			for range 20 {
				if err := s.Save(); err != nil {
					t.Errorf("Save: %v", err)
					return
				}
				s.Keys()
			}
		})
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	got := mustOpen(t, path)
	for f := range files {
		k := key(fmt.Sprintf("/var/log/%d.log", f), uint64(f))
		if p, _ := got.Position(k); p.Offset != commits*100 {
			t.Errorf("file %d: saved offset %d, want %d", f, p.Offset, commits*100)
		}
	}
	if st, _ := got.State("mapping"); string(st) != fmt.Sprintf("state %d", commits-1) {
		t.Errorf("saved state %q", st)
	}
}

// A snapshot writes the moment it was taken, not what was committed after
// it, and an older snapshot never replaces a newer file.
func TestSnapshot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "checkpoint.json")
	s := mustOpen(t, path)
	k := key("/var/log/mail.log", 7)
	if err := s.Commit(k, Position{Offset: 100}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetState("mapping.x", []byte("at 100")); err != nil {
		t.Fatal(err)
	}
	older, err := s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(k, Position{Offset: 200}); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteSnapshot(older); err != nil {
		t.Fatal(err)
	}
	reread := mustOpen(t, path)
	if p, _ := reread.Position(k); p.Offset != 100 {
		t.Fatalf("snapshot wrote offset %d, want the 100 it was taken at", p.Offset)
	}
	newer, _ := s.Snapshot()
	if err := s.WriteSnapshot(newer); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteSnapshot(older); err != nil {
		t.Fatal(err)
	}
	if p, _ := mustOpen(t, path).Position(k); p.Offset != 200 {
		t.Fatalf("an older snapshot replaced the newer file: offset %d", p.Offset)
	}
	if st, _ := mustOpen(t, path).State("mapping.x"); string(st) != "at 100" {
		t.Fatalf("state %q", st)
	}
}
