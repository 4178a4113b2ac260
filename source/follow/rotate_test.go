package follow

import (
	"context"
	"os"
	"slices"
	"testing"
)

// Each rotation test checks the exact sequence of lines: nothing lost,
// nothing twice. Run them repeatedly with -count=20 to show they are not
// flaky: the follower and the writer race by design.

// nexter is a Follower or a Multi.
type nexter interface {
	NextLine(ctx context.Context) (Line, error)
}

// readAll collects n lines from f in a goroutine, so that the test can keep
// writing while the follower reads, as a real daemon does.
func readAll(t *testing.T, f nexter, n int) <-chan []Line {
	out := make(chan []Line, 1)
	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	go func() {
		defer cancel()
		var got []Line
		defer func() { out <- got }()
		for range n {
			l, err := f.NextLine(ctx)
			if err != nil {
				return
			}
			l.Text = append([]byte(nil), l.Text...)
			got = append(got, l)
		}
	}()
	return out
}

func checkSequence(t *testing.T, got []Line, want []string) {
	t.Helper()
	var texts []string
	for _, l := range got {
		texts = append(texts, string(l.Text))
	}
	if !slices.Equal(texts, want) {
		t.Fatalf("got %d lines %q\nwant %d lines %q", len(texts), texts, len(want), want)
	}
}

func wait(t *testing.T, c <-chan []Line) []Line {
	t.Helper()
	return <-c // readAll ends at n lines, or after waitLimit
}

func TestRotationRenameCreate(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			path := logPath(t)
			w := create(t, path)
			f := open(t, path, Options{Poll: m.opts.Poll, PollInterval: m.opts.PollInterval, FromStart: true})
			c := readAll(t, f, 100)
			w.write(lines(1, 50)...)
			oldIno := inode(t, path)
			must(t, os.Rename(path, path+".1"))
			// The writer has not reopened yet: these go to the old file.
			w.write(lines(51, 55)...)
			w2 := create(t, path) // logrotate's "create"
			w.write(lines(56, 60)...)
			w2.write(lines(61, 100)...) // the writer reopened
			got := wait(t, c)
			checkSequence(t, got, lines(1, 100))
			for i, l := range got {
				wantOld := i < 60
				if (l.File.Inode == oldIno) != wantOld {
					t.Fatalf("line %d from inode %d, old inode %d", i+1, l.File.Inode, oldIno)
				}
			}
			checkOffsets(t, path, got, 0, 0)
		})
	}
}

func TestRotationOldFileUnterminated(t *testing.T) {
	path := logPath(t)
	w := create(t, path)
	f := open(t, path, Options{FromStart: true})
	w.write("a")
	w.raw("b-without-newline")
	expect(t, f, "a")
	must(t, os.Rename(path, path+".1"))
	create(t, path).write("c")
	// The old file will never be completed, so its last line is final.
	expect(t, f, "b-without-newline", "c")
}

func TestRotationDeleteRecreate(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			path := logPath(t)
			w := create(t, path)
			f := open(t, path, Options{Poll: m.opts.Poll, PollInterval: m.opts.PollInterval, FromStart: true})
			c := readAll(t, f, 40)
			w.write(lines(1, 10)...)
			must(t, os.Remove(path))
			w.write(lines(11, 20)...) // still readable via the open descriptor
			create(t, path).write(lines(21, 40)...)
			got := wait(t, c)
			checkSequence(t, got, lines(1, 40))
			checkOffsets(t, path, got, 0, 0)
		})
	}
}

func TestRotationCopyTruncate(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			path := logPath(t)
			w := create(t, path)
			f := open(t, path, Options{Poll: m.opts.Poll, PollInterval: m.opts.PollInterval, FromStart: true})
			w.write(lines(1, 20)...)
			expect(t, f, lines(1, 20)...)
			c := readAll(t, f, 30)
			w.write(lines(21, 30)...) // may or may not be read before the copy
			data, err := os.ReadFile(path)
			must(t, err)
			must(t, os.WriteFile(path+".1", data, 0o644))
			must(t, os.Truncate(path, 0))
			// O_APPEND writes land at the new end, as syslog's do.
			w.write(lines(31, 50)...)
			got := wait(t, c)
			checkSequence(t, got, lines(21, 50))
			if l := got[10]; l.Offset != 0 || l.File.Inode != inode(t, path) {
				t.Errorf("first line after truncation at %d in inode %d", l.Offset, l.File.Inode)
			}
		})
	}
}

func TestTruncateWithoutCopy(t *testing.T) {
	path := logPath(t)
	w := create(t, path)
	f := open(t, path, Options{FromStart: true})
	w.write(lines(1, 10)...)
	expect(t, f, lines(1, 10)...)
	must(t, os.Truncate(path, 0))
	w.write("after")
	expect(t, f, "after")
}

func TestReplacedInPlace(t *testing.T) {
	path := logPath(t)
	w := create(t, path)
	f := open(t, path, Options{FromStart: true})
	w.write("one", "two")
	first := expect(t, f, "one", "two")[0]
	// Same inode, different content and no smaller: only the head shows
	// it is another file.
	must(t, os.WriteFile(path, []byte("other file\nthree\n"), 0o644))
	got := expect(t, f, "other file", "three")
	if got[0].Offset != 0 || got[0].File == first.File {
		t.Errorf("replacement read at %d with key %v", got[0].Offset, got[0].File)
	}
}

func TestResume(t *testing.T) {
	path := logPath(t)
	w := create(t, path)
	w.write(lines(1, 10)...)
	f := open(t, path, Options{FromStart: true})
	last := expect(t, f, lines(1, 5)...)[4]
	must(t, f.Close())

	f = open(t, path, Options{From: &Position{File: last.File, Offset: last.End}})
	w.write("11")
	expect(t, f, append(lines(6, 10), "11")...)
}

func TestResumeAfterRotationWhileDown(t *testing.T) {
	for _, rotated := range []string{".1", "-20250101"} {
		t.Run(rotated, func(t *testing.T) {
			path := logPath(t)
			w := create(t, path)
			w.write(lines(1, 10)...)
			f := open(t, path, Options{FromStart: true})
			last := expect(t, f, lines(1, 5)...)[4]
			must(t, f.Close())

			must(t, os.Rename(path, path+rotated))
			w.write(lines(11, 15)...)
			create(t, path).write(lines(16, 20)...)

			f = open(t, path, Options{From: &Position{File: last.File, Offset: last.End}})
			checkSequence(t, wait(t, readAll(t, f, 15)), lines(6, 20))
		})
	}
}

func TestResumeFileGone(t *testing.T) {
	path := logPath(t)
	w := create(t, path)
	w.write("old")
	f := open(t, path, Options{FromStart: true})
	last := expect(t, f, "old")[0]
	must(t, f.Close())
	must(t, os.Remove(path))
	create(t, path).write("new")
	f = open(t, path, Options{From: &Position{File: last.File, Offset: last.End}})
	expect(t, f, "new")
}
