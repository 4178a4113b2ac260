package daemontest

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"testing"
)

// LogWriter appends Dovecot mail_log lines to a file, one message (one uid)
// per line, and rotates the file the ways logrotate does. Each line yields
// exactly one MessageAppend whose uri ends in ";UID=<uid>", so a test can
// tell which lines reached the output.
type LogWriter struct {
	t       testing.TB
	Path    string
	next    int // the uid of the next line
	f       *os.File
	rotated int // rotations by rename so far, for the .N names
}

// NewLogWriter creates path (empty) and returns a writer for it.
func NewLogWriter(t testing.TB, path string) *LogWriter {
	w := &LogWriter{t: t, Path: path, next: 1}
	w.open()
	t.Cleanup(func() { w.f.Close() })
	return w
}

func (w *LogWriter) open() {
	f, err := os.OpenFile(w.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		w.t.Fatal(err)
	}
	w.f = f
}

// Line returns the text of the line for uid, with its newline.
func Line(uid int) string {
	return fmt.Sprintf("2026-11-28T10:%02d:%02d.%06d+00:00 mail dovecot: imap(user%d@example.org)<%d><sess%d>: save: box=INBOX, uid=%d, msgid=<%d@example.org>, size=%d, vsize=%d\n",
		uid/60%60, uid%60, uid%1000000, uid%97, 1000+uid%50, uid, uid, uid, 100+uid%900, 110+uid%900)
}

// Append writes n more lines with one write each, as a syslog daemon does.
func (w *LogWriter) Append(n int) {
	for range n {
		if _, err := io.WriteString(w.f, Line(w.next)); err != nil {
			w.t.Fatal(err)
		}
		w.next++
	}
}

// Written is the number of lines written so far (uids 1..Written).
func (w *LogWriter) Written() int { return w.next - 1 }

// RotateRename moves the file to path.1 (shifting older ones to .2, .3, …,
// never deleting one) and starts a new file: logrotate's default, with the
// writer reopening at once as after a postrotate HUP.
func (w *LogWriter) RotateRename() {
	w.shift()
	if err := os.Rename(w.Path, w.Path+".1"); err != nil {
		w.t.Fatal(err)
	}
	w.f.Close()
	w.open()
}

// RotateCopyTruncate copies the file to path.1 and truncates it in place,
// with no line written between the two (copytruncate's race is not this
// test's subject).
func (w *LogWriter) RotateCopyTruncate() {
	w.shift()
	data, err := os.ReadFile(w.Path)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(w.Path+".1", data, 0o644); err != nil {
		w.t.Fatal(err)
	}
	if err := w.f.Truncate(0); err != nil {
		w.t.Fatal(err)
	}
}

// RotateDelayCompress is logrotate with compress and delaycompress: path.1
// is compressed to path.2.gz, then path becomes path.1 and a new file starts.
func (w *LogWriter) RotateDelayCompress() {
	if _, err := os.Stat(w.Path + ".1"); err == nil {
		w.shift()
		w.compress(w.Path+".2", w.Path+".2.gz")
	}
	if err := os.Rename(w.Path, w.Path+".1"); err != nil {
		w.t.Fatal(err)
	}
	w.f.Close()
	w.open()
}

// DeleteRecreate removes the file and starts a new one at the same path.
func (w *LogWriter) DeleteRecreate() {
	if err := os.Remove(w.Path); err != nil {
		w.t.Fatal(err)
	}
	w.f.Close()
	w.open()
}

func (w *LogWriter) compress(from, to string) {
	data, err := os.ReadFile(from)
	if err != nil {
		w.t.Fatal(err)
	}
	f, err := os.Create(to)
	if err != nil {
		w.t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	if _, err := zw.Write(data); err != nil {
		w.t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		w.t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		w.t.Fatal(err)
	}
	if err := os.Remove(from); err != nil {
		w.t.Fatal(err)
	}
}

// shift renames path.N to path.N+1 (plain and .gz), newest last, so that
// path.1 is free.
func (w *LogWriter) shift() {
	w.rotated++
	for n := w.rotated; n >= 1; n-- {
		for _, ext := range []string{"", ".gz"} {
			from := w.Path + "." + strconv.Itoa(n) + ext
			if _, err := os.Stat(from); err == nil {
				if err := os.Rename(from, w.Path+"."+strconv.Itoa(n+1)+ext); err != nil {
					w.t.Fatal(err)
				}
			}
		}
	}
}

var uidInURI = regexp.MustCompile(`;UID=(\d+)$`)

// UID returns the uid an event of this writer's lines names, or 0.
func (e Event) UID() int {
	m := uidInURI.FindStringSubmatch(e.URI)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// Delivery sums up what an output holds against the lines written.
type Delivery struct {
	Written    int
	Missing    []int // uids written but absent: lost events
	Unexpected []int // uids never written: invented events
	Duplicates int   // events beyond the first per uid
	// IDMismatch lists uids whose copies carry different ids: a duplicate
	// a consumer could not recognise.
	IDMismatch []int
}

// Check compares the events against uids 1..written.
func Check(events []Event, written int) Delivery {
	d := Delivery{Written: written}
	ids := map[int]string{}
	for _, e := range events {
		uid := e.UID()
		if uid < 1 || uid > written {
			d.Unexpected = append(d.Unexpected, uid)
			continue
		}
		if id, seen := ids[uid]; seen {
			d.Duplicates++
			if id != e.ID {
				d.IDMismatch = append(d.IDMismatch, uid)
			}
			continue
		}
		ids[uid] = e.ID
	}
	for uid := 1; uid <= written; uid++ {
		if _, ok := ids[uid]; !ok {
			d.Missing = append(d.Missing, uid)
		}
	}
	return d
}

// Complete reports whether every written line has its event.
func (d Delivery) Complete() bool { return len(d.Missing) == 0 }

func (d Delivery) String() string {
	return fmt.Sprintf("written %d, missing %d %s, unexpected %d %v, duplicates %d, id mismatches %v",
		d.Written, len(d.Missing), head(d.Missing), len(d.Unexpected), head(d.Unexpected), d.Duplicates, d.IDMismatch)
}

func head(xs []int) string {
	if len(xs) > 10 {
		return fmt.Sprint(xs[:10]) + "…"
	}
	return fmt.Sprint(xs)
}
