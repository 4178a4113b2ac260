package follow

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mailevents/mailevents/checkpoint"
	"github.com/mailevents/mailevents/source"
)

func openGlob(t *testing.T, opts GlobOptions, patterns ...string) *Multi {
	t.Helper()
	opts.Logger = testLogger(t)
	if opts.Rescan == 0 {
		opts.Rescan = 5 * time.Millisecond
	}
	m, err := OpenGlob(patterns, opts)
	if err != nil {
		t.Fatalf("OpenGlob: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// stream reads m in the background, as the daemon does, which is also
// what drives its rescans.
func stream(t *testing.T, m *Multi) <-chan Line {
	out := make(chan Line, 1000)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for {
			l, err := m.NextLine(ctx)
			if errors.Is(err, context.Canceled) || errors.Is(err, source.ErrClosed) {
				return
			}
			if err != nil {
				t.Errorf("NextLine: %v", err)
				return
			}
			l.Text = slices.Clone(l.Text)
			out <- l
		}
	}()
	return out
}

func collect(t *testing.T, c <-chan Line, n int) []Line {
	t.Helper()
	timeout := time.After(waitLimit)
	var got []Line
	for len(got) < n {
		select {
		case l := <-c:
			got = append(got, l)
		case <-timeout:
			t.Fatalf("got %d lines, want %d: %v", len(got), n, texts(got))
		}
	}
	return got
}

func texts(ls []Line) []string {
	var out []string
	for _, l := range ls {
		out = append(out, string(l.Text))
	}
	return out
}

// byFile splits lines by the path they were read under, keeping order.
func byFile(ls []Line) map[string][]Line {
	out := map[string][]Line{}
	for _, l := range ls {
		if l.File.Path != l.Source {
			panic("line key and source disagree: " + l.File.Path + " " + l.Source)
		}
		out[l.Source] = append(out[l.Source], l)
	}
	return out
}

// waitFor polls cond until it holds, failing the test after waitLimit.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// rescanned waits until m has matched its patterns again twice, so that
// anything on disk before the call has been seen.
func rescanned(t *testing.T, m *Multi) {
	t.Helper()
	n := m.scans.Load()
	waitFor(t, "two rescans", func() bool { return m.scans.Load() >= n+2 })
}

func TestGlobNewFileReadFromStart(t *testing.T) {
	dir := t.TempDir()
	a := create(t, filepath.Join(dir, "a.log"))
	a.write("old-a") // before OpenGlob: skipped, like tail -F
	m := openGlob(t, GlobOptions{}, filepath.Join(dir, "*.log"))
	c := stream(t, m)
	b := create(t, filepath.Join(dir, "b.log"))
	b.write(lines(1, 3)...) // a new file: everything in it is new
	a.write("new-a")
	got := byFile(collect(t, c, 4))
	checkSequence(t, got[filepath.Join(dir, "a.log")], []string{"new-a"})
	bl := got[filepath.Join(dir, "b.log")]
	checkSequence(t, bl, lines(1, 3))
	checkOffsets(t, filepath.Join(dir, "b.log"), bl, 0)
}

func TestGlobInterleaved(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			dir := t.TempDir()
			pa, pb := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
			a, b := create(t, pa), create(t, pb)
			m := openGlob(t, GlobOptions{Poll: mode.opts.Poll, PollInterval: mode.opts.PollInterval}, pa, pb)
			c := stream(t, m)
			for i := 1; i <= 50; i++ {
				a.write(lines(i, i)...)
				b.write(lines(100+i, 100+i)...)
			}
			got := byFile(collect(t, c, 100))
			checkSequence(t, got[pa], lines(1, 50))
			checkSequence(t, got[pb], lines(101, 150))
			checkOffsets(t, pa, got[pa], 0)
			checkOffsets(t, pb, got[pb], 0)
			if !slices.Equal(m.Paths(), []string{pa, pb}) {
				t.Errorf("Paths = %q", m.Paths())
			}
		})
	}
}

// TestGlobRotatedSiblingNotFollowed: a pattern that matches the rotated
// files too must not read them as inputs, before or after a rotation; the
// follower of mail.log reads across the rotation by itself.
func TestGlobRotatedSiblingNotFollowed(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	writeAged(t, path+".1", "older\n", time.Hour)
	mustGzip(t, path+".2.gz", "oldest\n", 2*time.Hour)
	w := create(t, path)
	w.write(lines(1, 3)...)
	m := openGlob(t, GlobOptions{FromStart: true}, path+"*")
	c := stream(t, m)
	checkSequence(t, collect(t, c, 3), lines(1, 3))

	must(t, os.Remove(path+".2.gz"))
	must(t, os.Rename(path+".1", path+".2"))
	must(t, os.Rename(path, path+".1"))
	w.write(lines(4, 5)...) // before the writer reopens
	create(t, path).write(lines(6, 8)...)
	got := collect(t, c, 5)
	checkSequence(t, got, lines(4, 8))
	checkOffsets(t, path, got, 3*lineBytes, 0)
	rescanned(t, m)
	if !slices.Equal(m.Paths(), []string{path}) {
		t.Fatalf("Paths = %q, want only %s", m.Paths(), path)
	}
}

// TestGlobExtensionStyleRotationNotFollowed: with logrotate's "extension"
// option, *.log matches the rotated imap-20250101.log.
func TestGlobExtensionStyleRotationNotFollowed(t *testing.T) {
	dir := t.TempDir()
	imap := filepath.Join(dir, "imap.log")
	create(t, imap).write("a")
	create(t, filepath.Join(dir, "imap-20250101.log")).write("rotated")
	m := openGlob(t, GlobOptions{FromStart: true}, filepath.Join(dir, "*.log"))
	if !slices.Equal(m.Paths(), []string{imap}) {
		t.Fatalf("Paths = %q, want only %s", m.Paths(), imap)
	}
}

// TestGlobRotatedFileAtStartRetired: started in the moment between the
// rename and the creation of mail.log, only mail.log.1 matches; once
// mail.log is back, mail.log.1 is read to its end and no longer followed,
// or the next rotation would put mail.log's lines in it a second time.
func TestGlobRotatedFileAtStartRetired(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	old := create(t, path+".1")
	old.write("a")
	m := openGlob(t, GlobOptions{FromStart: true}, path+"*")
	c := stream(t, m)
	checkSequence(t, collect(t, c, 1), []string{"a"})
	create(t, path).write("b")
	checkSequence(t, collect(t, c, 1), []string{"b"})
	waitFor(t, "mail.log.1 is dropped", func() bool { return slices.Equal(m.Paths(), []string{path}) })
}

// TestGlobDeletedFileDropped: a deleted file is read to its end through
// the open descriptor, its unterminated last line included, then dropped;
// a file created later under the same name is new and read from 0.
func TestGlobDeletedFileDropped(t *testing.T) {
	dir := t.TempDir()
	pa, pb := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	create(t, pa)
	b := create(t, pb)
	m := openGlob(t, GlobOptions{DropAfter: time.Nanosecond}, filepath.Join(dir, "*.log"))
	c := stream(t, m)
	b.write("b1")
	checkSequence(t, collect(t, c, 1), []string{"b1"})
	must(t, os.Remove(pb))
	b.write("b2")
	b.raw("b3-unterminated")
	checkSequence(t, collect(t, c, 2), []string{"b2", "b3-unterminated"})
	waitFor(t, "b.log is dropped", func() bool { return slices.Equal(m.Paths(), []string{pa}) })

	create(t, pb).write("again")
	l := collect(t, c, 1)[0]
	if string(l.Text) != "again" || l.Offset != 0 || l.Source != pb {
		t.Fatalf("after re-creation: %q at %d in %s", l.Text, l.Offset, l.Source)
	}
}

func TestGlobResume(t *testing.T) {
	dir := t.TempDir()
	pa, pb := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	create(t, pa).write(lines(1, 10)...)
	b := create(t, pb)
	b.write("old-b")
	f := open(t, pa, Options{FromStart: true})
	last := expect(t, f, lines(1, 4)...)[3]
	must(t, f.Close())

	var asked []string
	m := openGlob(t, GlobOptions{Resume: func(path string) (*Position, error) {
		asked = append(asked, path)
		if path == pa {
			return &Position{File: last.File, Offset: last.End}, nil
		}
		return nil, nil
	}}, filepath.Join(dir, "*.log"))
	if !slices.Equal(asked, []string{pa, pb}) {
		t.Fatalf("Resume asked for %q", asked)
	}
	c := stream(t, m)
	b.write("new-b")
	got := byFile(collect(t, c, 7))
	checkSequence(t, got[pa], lines(5, 10))
	checkSequence(t, got[pb], []string{"new-b"}) // no checkpoint: from the end
}

func TestGlobResumeError(t *testing.T) {
	dir := t.TempDir()
	create(t, filepath.Join(dir, "a.log"))
	boom := errors.New("boom")
	_, err := OpenGlob([]string{filepath.Join(dir, "*.log")}, GlobOptions{
		Logger: testLogger(t),
		Resume: func(string) (*Position, error) { return nil, boom },
	})
	if !errors.Is(err, boom) {
		t.Fatalf("OpenGlob with a failing Resume: %v", err)
	}
}

func TestGlobBadPatterns(t *testing.T) {
	if _, err := OpenGlob(nil, GlobOptions{}); err == nil {
		t.Error("OpenGlob without patterns succeeded")
	}
	if _, err := OpenGlob([]string{"/tmp/["}, GlobOptions{}); !errors.Is(err, filepath.ErrBadPattern) {
		t.Errorf("OpenGlob with a bad pattern: %v", err)
	}
}

func TestGlobCloseEndsNextLine(t *testing.T) {
	m := openGlob(t, GlobOptions{}, filepath.Join(t.TempDir(), "*.log"))
	errc := make(chan error, 1)
	go func() {
		_, err := m.Next(context.Background())
		errc <- err
	}()
	must(t, m.Close())
	select {
	case err := <-errc:
		if !errors.Is(err, source.ErrClosed) {
			t.Fatalf("Next after Close: %v", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Next still blocked after Close")
	}
	must(t, m.Close())
	if m.Buffered() {
		t.Error("Buffered after Close")
	}
}

// TestGlobStoreResumeAfterRotations runs the daemon's cycle: positions are
// committed to a checkpoint store, the daemon stops, the log is rotated
// twice (delaycompress), and a new Multi resumes from the store.
func TestGlobStoreResumeAfterRotations(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	w := create(t, path)
	w.write(lines(1, 10)...)
	store, err := checkpoint.Open(filepath.Join(t.TempDir(), "checkpoint.json"))
	must(t, err)

	m := openGlob(t, GlobOptions{FromStart: true, Resume: StoreResume(store)}, path)
	c := stream(t, m)
	for _, l := range collect(t, c, 5) {
		must(t, store.Commit(l.File, checkpoint.Position{Offset: l.End}))
	}
	must(t, m.Close())

	rotateGenerations(t, styles[1], path, w, 2) // delaycompress
	m = openGlob(t, GlobOptions{Resume: StoreResume(store)}, path)
	got := collect(t, stream(t, m), 25)
	checkSequence(t, got, lines(6, 30))
	checkOffsets(t, path, got, 5*lineBytes, 0, 0)
}
