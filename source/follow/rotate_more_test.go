package follow

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"strings"
	"testing"
	"time"
)

// A rotation style, as logrotate (or a tool like it) performs it: gen is
// 1 for the first rotation, 2 for the second. reopen says whether the
// writer then writes to a new file at path (rename styles) or keeps its
// descriptor (copytruncate).
type style struct {
	name   string
	rotate func(t *testing.T, path string, gen int)
	reopen bool
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	must(t, err)
	must(t, os.WriteFile(to, data, 0o644))
}

var styles = []style{
	{"numbered", func(t *testing.T, path string, gen int) {
		if gen > 1 {
			must(t, os.Rename(path+".1", path+".2"))
		}
		must(t, os.Rename(path, path+".1"))
	}, true},
	{"delaycompress", func(t *testing.T, path string, gen int) {
		if gen > 1 { // path.1 is compressed as it moves to path.2
			must(t, os.Rename(path+".1", path+".2"))
			compress(t, path+".2", path+".2.gz")
		}
		must(t, os.Rename(path, path+".1"))
	}, true},
	{"compress", func(t *testing.T, path string, gen int) {
		if gen > 1 {
			must(t, os.Rename(path+".1.gz", path+".2.gz"))
		}
		must(t, os.Rename(path, path+".1"))
		compress(t, path+".1", path+".1.gz")
	}, true},
	{"dateext", func(t *testing.T, path string, gen int) {
		if gen > 1 {
			compress(t, path+"-20250101", path+"-20250101.gz")
		}
		must(t, os.Rename(path, path+"-2025010"+string(rune('0'+gen))))
	}, true},
	{"copytruncate", func(t *testing.T, path string, gen int) {
		if gen > 1 {
			must(t, os.Rename(path+".1", path+".2"))
			compress(t, path+".2", path+".2.gz")
		}
		copyFile(t, path, path+".1")
		must(t, os.Truncate(path, 0))
	}, false},
}

// rotateGenerations writes lines 11..10*(gens+1), ten per generation of
// the log, rotating before each generation; w wrote lines 1..10.
func rotateGenerations(t *testing.T, s style, path string, w *writer, gens int) {
	for gen := 1; gen <= gens; gen++ {
		s.rotate(t, path, gen)
		if s.reopen {
			w = create(t, path)
		}
		w.write(lines(gen*10+1, gen*10+10)...)
	}
}

// TestResumeAfterRotationsWhileStopped checks that a checkpoint taken
// before one or two rotations resumes in the file it was taken from,
// wherever the rotations put it (renamed, compressed, or copied before a
// truncation), then reads every newer rotated file, then the file at path.
func TestResumeAfterRotationsWhileStopped(t *testing.T) {
	for _, s := range styles {
		for _, gens := range []int{1, 2} {
			t.Run(s.name+"/"+string(rune('0'+gens)), func(t *testing.T) {
				path := logPath(t)
				w := create(t, path)
				w.write(lines(1, 10)...)
				f := open(t, path, Options{FromStart: true})
				last := expect(t, f, lines(1, 5)...)[4]
				must(t, f.Close())

				rotateGenerations(t, s, path, w, gens)

				f = open(t, path, Options{From: &Position{File: last.File, Offset: last.End}})
				n := 5 + 10*gens
				got := wait(t, readAll(t, f, n))
				checkSequence(t, got, lines(6, 10+10*gens))
				starts := []int64{5 * lineBytes, 0, 0}
				checkOffsets(t, path, got, starts[:gens+1]...)
				if f.Buffered() {
					t.Error("Buffered after the last line")
				}
			})
		}
	}
}

// TestLaggingFollowerTwoRotations is the running counterpart: the follower
// has a file open but is not asked for lines (the sink is down) while the
// file is rotated twice, and must not skip the file rotated in between.
func TestLaggingFollowerTwoRotations(t *testing.T) {
	for _, s := range styles {
		t.Run(s.name, func(t *testing.T) {
			path := logPath(t)
			w := create(t, path)
			w.write(lines(1, 10)...)
			f := open(t, path, Options{FromStart: true})
			expect(t, f, lines(1, 5)...)

			rotateGenerations(t, s, path, w, 2)

			got := wait(t, readAll(t, f, 25))
			checkSequence(t, got, lines(6, 30))
			checkOffsets(t, path, got, 5*lineBytes, 0, 0)
		})
	}
}

// TestLaggingFollowerRotatedFileDeleted: with "rotate 1", the file being
// read is deleted by the second rotation. It is still read to its end
// through the open descriptor, and the rotated file written after it is
// found by its modification time.
func TestLaggingFollowerRotatedFileDeleted(t *testing.T) {
	path := logPath(t)
	w := create(t, path)
	w.write(lines(1, 10)...)
	f := open(t, path, Options{FromStart: true})
	expect(t, f, lines(1, 5)...)

	must(t, os.Rename(path, path+".1"))
	create(t, path).write(lines(11, 20)...)
	must(t, os.Remove(path+".1"))
	must(t, os.Rename(path, path+".1"))
	// File times are coarse; make "written after" unambiguous.
	later := time.Now().Add(time.Hour)
	must(t, os.Chtimes(path+".1", later, later))
	create(t, path).write(lines(21, 30)...)

	got := wait(t, readAll(t, f, 25))
	checkSequence(t, got, lines(6, 30))
	checkOffsets(t, path, got, 5*lineBytes, 0, 0)
}

// TestCopyTruncateCompressedCopy: the copy was compressed before the
// follower noticed the truncation, so the unread lines are only in
// path.1.gz.
func TestCopyTruncateCompressedCopy(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			path := logPath(t)
			w := create(t, path)
			f := open(t, path, Options{Poll: m.opts.Poll, PollInterval: m.opts.PollInterval, FromStart: true})
			w.write(lines(1, 20)...)
			expect(t, f, lines(1, 20)...)
			w.write(lines(21, 30)...) // not read before the copy
			copyFile(t, path, path+".1")
			compress(t, path+".1", path+".1.gz")
			must(t, os.Truncate(path, 0))
			w.write(lines(31, 50)...)
			got := wait(t, readAll(t, f, 30))
			checkSequence(t, got, lines(21, 50))
			checkOffsets(t, path, got, 20*lineBytes, 0)
			if got[0].File.Inode != inode(t, path+".1.gz") {
				t.Errorf("line 21 from inode %d, want the copy's %d", got[0].File.Inode, inode(t, path+".1.gz"))
			}
		})
	}
}

// TestCorruptCompressedFile: a rotated file whose compressed data breaks
// off is read up to the break, the error is returned once, and the
// follower goes on with the next file.
func TestCorruptCompressedFile(t *testing.T) {
	path := logPath(t)
	w := create(t, path)
	// Enough varied lines that the compressed data is longer than what
	// the head needs, so the file identifies but breaks off later.
	var long []string
	for i := range 3000 {
		long = append(long, strings.Repeat(string(rune('a'+i%26)), i%50)+lines(i, i)[0])
	}
	w.write(long...)
	f := open(t, path, Options{FromStart: true})
	last := expect(t, f, long[:2]...)[1]
	must(t, f.Close())

	must(t, os.Rename(path, path+".1"))
	compress(t, path+".1", path+".1.gz")
	data, err := os.ReadFile(path + ".1.gz")
	must(t, err)
	must(t, os.WriteFile(path+".1.gz", data[:len(data)/2], 0o644))
	create(t, path).write("after")

	f = open(t, path, Options{From: &Position{File: last.File, Offset: last.End}})
	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	defer cancel()
	want := long[2:]
	failed := false
	for {
		l, err := f.NextLine(ctx)
		if err != nil {
			if failed || !strings.Contains(err.Error(), path+".1.gz") {
				t.Fatalf("NextLine: %v", err)
			}
			failed = true
			continue
		}
		text := string(l.Text)
		if text == "after" {
			break
		}
		switch {
		case len(want) == 0:
			t.Fatalf("line %q beyond the content", text)
		case !failed && text != want[0]:
			t.Fatalf("line %q, want %q", text, want[0])
		case failed && !strings.HasPrefix(want[0], text):
			// After the break, only the fragment of the line it cut.
			t.Fatalf("line %q after the error, want a prefix of %q or the next file", text, want[0])
		}
		want = want[1:]
	}
	if !failed {
		t.Fatal("a truncated gzip file was read without an error")
	}
}

// TestKeyTakenAtFirstLine: a file opened while empty gets its key's head
// from its first line, not the empty head it had, which would match any
// file with the same inode.
func TestKeyTakenAtFirstLine(t *testing.T) {
	path := logPath(t)
	w := create(t, path)
	f := open(t, path, Options{})
	w.write("first")
	l := next(t, f)
	want := sha256.Sum256([]byte("first\n"))
	if l.File.Head.Len != len("first\n") || l.File.Head.Sum != want {
		t.Fatalf("key head = %d bytes %x, want 6 bytes %x", l.File.Head.Len, l.File.Head.Sum[:4], want[:4])
	}
	w.write("second")
	if l2 := next(t, f); l2.File != l.File {
		t.Fatalf("key changed within one file: %v, then %v", l.File, l2.File)
	}
}

// TestUnreadableCompressionIgnored: a checkpointed file compressed with a
// format the follower cannot read cannot be resumed; the current file is
// read from 0 rather than failing, and the xz file is not taken for plain.
func TestUnreadableCompressionIgnored(t *testing.T) {
	path := logPath(t)
	w := create(t, path)
	w.write(lines(1, 10)...)
	f := open(t, path, Options{FromStart: true})
	last := expect(t, f, lines(1, 5)...)[4]
	must(t, f.Close())
	data, err := os.ReadFile(path)
	must(t, err)
	// Plain bytes under an .xz name: read as plain, they would match.
	must(t, os.WriteFile(path+".1.xz", data, 0o644))
	must(t, os.Remove(path))
	create(t, path).write(lines(11, 12)...)
	f = open(t, path, Options{From: &Position{File: last.File, Offset: last.End}})
	got := expect(t, f, lines(11, 12)...)
	if !bytes.Equal(got[0].Text, []byte("line-0011")) || got[0].Offset != 0 {
		t.Fatalf("first line %q at %d", got[0].Text, got[0].Offset)
	}
}

// TestRotationDuringSwitch: the writer rotates again while the follower is
// moving from the file it finished to the file at path, before it opens
// that file or between opening it and listing the rotated files. The file
// that was at path for that short while must still be read, once.
func TestRotationDuringSwitch(t *testing.T) {
	for _, s := range styles {
		if !s.reopen {
			continue // copytruncate keeps one file at path: no switch
		}
		for _, point := range []string{"before open", "before list"} {
			t.Run(s.name+"/"+point, func(t *testing.T) {
				path := logPath(t)
				create(t, path).write(lines(1, 10)...)
				f := open(t, path, Options{FromStart: true})
				expect(t, f, lines(1, 10)...)

				s.rotate(t, path, 1)
				create(t, path).write(lines(11, 20)...)
				rotateAgain := func() {
					f.beforeOpen, f.beforeList = nil, nil
					s.rotate(t, path, 2)
					create(t, path).write(lines(21, 30)...)
				}
				if point == "before open" {
					f.beforeOpen = rotateAgain
				} else {
					f.beforeList = rotateAgain
				}

				got := wait(t, readAll(t, f, 20))
				checkSequence(t, got, lines(11, 30))
				checkOffsets(t, path, got, 0, 0)
			})
		}
	}
}
