package journald

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mailevents/mailevents/checkpoint"
	"github.com/mailevents/mailevents/source"
)

// These tests run testdata/fake-journalctl, which serves a file as the
// journal, so they need no systemd journal (this machine has journalctl
// but no journal to read).

const waitLimit = 10 * time.Second

// record returns a journal record as journalctl -o json prints it.
func record(i int) string {
	return fmt.Sprintf(`{"__CURSOR":"s=fake;i=%d","__REALTIME_TIMESTAMP":"17356896%08d","_BOOT_ID":"b","MESSAGE":"imap-login: Login: user=<u%d>","SYSLOG_IDENTIFIER":"dovecot","_PID":"42"}`, i, i, i)
}

func cursor(i int) string { return fmt.Sprintf("s=fake;i=%d", i) }

type fake struct {
	t                   *testing.T
	journal, args, pidf string
	logs                *recorder
}

func newFake(t *testing.T, lines ...string) *fake {
	dir := t.TempDir()
	f := &fake{
		t:       t,
		journal: filepath.Join(dir, "journal.jsonl"),
		args:    filepath.Join(dir, "args"),
		pidf:    filepath.Join(dir, "pid"),
		logs:    &recorder{},
	}
	must(t, os.WriteFile(f.journal, nil, 0o644))
	f.append(lines...)
	t.Setenv("FAKE_JOURNAL", f.journal)
	t.Setenv("FAKE_ARGS", f.args)
	t.Setenv("FAKE_PID", f.pidf)
	return f
}

func (f *fake) append(lines ...string) {
	f.t.Helper()
	file, err := os.OpenFile(f.journal, os.O_WRONLY|os.O_APPEND, 0)
	must(f.t, err)
	defer file.Close()
	for _, l := range lines {
		_, err := file.WriteString(l + "\n")
		must(f.t, err)
	}
}

func (f *fake) open(opts Options) *Reader {
	f.t.Helper()
	bin, err := filepath.Abs("testdata/fake-journalctl")
	must(f.t, err)
	opts.Journalctl = bin
	opts.Logger = slog.New(f.logs)
	if opts.MinBackoff == 0 {
		opts.MinBackoff = time.Millisecond
	}
	r, err := Open(opts)
	must(f.t, err)
	f.t.Cleanup(func() { r.Close() })
	return r
}

// runs returns the arguments of each run of the fake so far.
func (f *fake) runs() [][]string {
	data, err := os.ReadFile(f.args)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	must(f.t, err)
	var out [][]string
	for l := range strings.Lines(string(data)) {
		out = append(out, strings.Fields(l))
	}
	return out
}

// serving waits until the fake has placed itself in the journal and is
// following it, so that what is appended next is new to it.
func (f *fake) serving() int {
	f.t.Helper()
	var pid int
	waitFor(f.t, "the fake serves", func() bool {
		data, err := os.ReadFile(f.pidf)
		pid, _ = strconv.Atoi(strings.TrimSpace(string(data)))
		return err == nil && pid > 0
	})
	return pid
}

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

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func next(t *testing.T, r *Reader) (Line, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	defer cancel()
	return r.NextLine(ctx)
}

// expect reads records and checks their text and cursor, in order, and
// that their offsets run on from the first one's.
func expect(t *testing.T, r *Reader, want ...int) []Line {
	t.Helper()
	var got []Line
	for _, i := range want {
		l, err := next(t, r)
		if err != nil {
			t.Fatalf("NextLine (want record %d): %v", i, err)
		}
		if string(l.Text) != record(i) || l.Cursor != cursor(i) {
			t.Fatalf("got %q with cursor %q, want record %d", l.Text, l.Cursor, i)
		}
		if l.End != l.Offset+int64(len(l.Text))+1 || (len(got) > 0 && l.Offset != got[len(got)-1].End) {
			t.Fatalf("record %d at %d..%d after %v", i, l.Offset, l.End, got)
		}
		got = append(got, l)
	}
	return got
}

func TestStartAtEnd(t *testing.T) {
	f := newFake(t, record(1), record(2))
	r := f.open(Options{Name: "dovecot", Units: []string{"dovecot.service"}, Identifiers: []string{"dovecot"}})
	f.serving()
	f.append(record(3))
	l := expect(t, r, 3)[0]
	if l.Source != "journald:dovecot" || l.Source != Key("dovecot").Path || l.Offset != 0 || r.Cursor() != cursor(3) {
		t.Errorf("line from %s at %d, Cursor() = %q", l.Source, l.Offset, r.Cursor())
	}
	want := []string{"--output=json", "--all", "--follow", "--output-fields=" + strings.Join(DefaultFields, ","),
		"--unit=dovecot.service", "--identifier=dovecot", "--lines=0"}
	if runs := f.runs(); len(runs) != 1 || !slices.Equal(runs[0], want) {
		t.Fatalf("runs %q, want one with %q", runs, want)
	}
}

func TestFromStart(t *testing.T) {
	f := newFake(t, record(1), record(2))
	r := f.open(Options{FromStart: true, AllFields: true})
	if l := expect(t, r, 1, 2)[0]; l.Source != "journald:journal" || Key("") != (checkpoint.FileKey{Path: l.Source}) {
		t.Errorf("unnamed source %q, key %v", l.Source, Key(""))
	}
	f.append(record(3))
	expect(t, r, 3)
	if runs := f.runs(); !slices.Equal(runs[0], []string{"--output=json", "--all", "--follow", "--no-tail"}) {
		t.Fatalf("args %q", runs[0])
	}
}

func TestResumeAfterCursor(t *testing.T) {
	f := newFake(t, record(1), record(2), record(3))
	r := f.open(Options{After: cursor(2), Offset: 1000, Fields: []string{"MESSAGE"}})
	if r.Cursor() != cursor(2) {
		t.Errorf("Cursor() before the first line = %q", r.Cursor())
	}
	if l := expect(t, r, 3)[0]; l.Offset != 1000 {
		t.Errorf("offset %d, want the count to go on from 1000", l.Offset)
	}
	run := f.runs()[0]
	if !slices.Contains(run, "--after-cursor="+cursor(2)) || !slices.Contains(run, "--output-fields=MESSAGE") {
		t.Fatalf("args %q", run)
	}
}

// TestRestartAfterExit: journalctl dies after two records, in the middle of
// the third. The exit is reported, the half record dropped, and the
// restart resumes after the second record, so every record comes once.
func TestRestartAfterExit(t *testing.T) {
	f := newFake(t, record(1), record(2), record(3), record(4))
	t.Setenv("FAKE_CRASH_AFTER", "2")
	r := f.open(Options{FromStart: true})
	got := expect(t, r, 1, 2)
	_, err := next(t, r)
	var exit *exec.ExitError
	if !errors.Is(err, ErrExited) || !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("after the crash: %v, want exit status 3", err)
	}
	if l := expect(t, r, 3, 4)[0]; l.Offset != got[1].End {
		t.Errorf("offsets jump from %d to %d over the restart", got[1].End, l.Offset)
	}
	runs := f.runs()
	if len(runs) != 2 || !slices.Contains(runs[1], "--after-cursor="+cursor(2)) {
		t.Fatalf("runs %q, want a second one after record 2", runs)
	}
	if !f.logs.has("fake-journalctl: simulated crash") {
		t.Error("journalctl's stderr was not logged")
	}
}

// TestRestartBeforeAnyRecord: started at the end, journalctl dies before
// printing anything. The restart cannot use --lines=0 again (entries
// written meanwhile would be skipped), so it asks for those since Open.
func TestRestartBeforeAnyRecord(t *testing.T) {
	f := newFake(t)
	t.Setenv("FAKE_CRASH_AFTER", "0")
	before := time.Now()
	r := f.open(Options{})
	after := time.Now()
	if _, err := next(t, r); !errors.Is(err, ErrExited) {
		t.Fatalf("after the crash: %v", err)
	}
	f.append(record(1))
	expect(t, r, 1)
	runs := f.runs()
	if len(runs) != 2 || !slices.Contains(runs[0], "--lines=0") {
		t.Fatalf("runs %q", runs)
	}
	i := slices.IndexFunc(runs[1], func(a string) bool { return strings.HasPrefix(a, "--since=@") })
	if i < 0 {
		t.Fatalf("restart without --since: %q", runs[1])
	}
	sec, err := strconv.ParseFloat(strings.TrimPrefix(runs[1][i], "--since=@"), 64)
	must(t, err)
	since := time.UnixMicro(int64(sec * 1e6))
	if since.Before(before.Add(-time.Millisecond)) || since.After(after.Add(time.Millisecond)) {
		t.Fatalf("--since %v, want the time of Open (%v..%v)", since, before, after)
	}
}

func TestExitReportedAndStderrLogged(t *testing.T) {
	f := newFake(t)
	r := f.open(Options{Args: []string{"--bogus"}, MinBackoff: time.Hour})
	_, err := next(t, r)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("NextLine: %v, want exit status 2", err)
	}
	if !f.logs.has("fake-journalctl: unexpected argument --bogus") {
		t.Error("journalctl's stderr was not logged")
	}
	closed := make(chan struct{})
	go func() { r.Close(); close(closed) }()
	select {
	case <-closed: // Close ends the wait before the restart
	case <-time.After(waitLimit):
		t.Fatal("Close blocked during the backoff")
	}
}

func TestCloseKillsJournalctl(t *testing.T) {
	f := newFake(t)
	r := f.open(Options{})
	pid := f.serving()
	errc := make(chan error, 1)
	go func() {
		_, err := r.Next(context.Background())
		errc <- err
	}()
	must(t, r.Close())
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("journalctl (pid %d) after Close: %v", pid, err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, source.ErrClosed) {
			t.Fatalf("Next after Close: %v", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Next still blocked after Close")
	}
	must(t, r.Close())
	if len(f.runs()) != 1 {
		t.Errorf("journalctl ran %d times", len(f.runs()))
	}
}

// TestNonRecordsSkipped: journalctl prints banners such as "-- Journal
// begins at …" on stdout; they are not records, but their bytes count.
func TestNonRecordsSkipped(t *testing.T) {
	banner := "-- Journal begins at Wed 2025-01-01 00:00:00 UTC. --"
	f := newFake(t, banner, record(1))
	r := f.open(Options{FromStart: true})
	if l := expect(t, r, 1)[0]; l.Offset != int64(len(banner)+1) {
		t.Errorf("record at offset %d, want %d", l.Offset, len(banner)+1)
	}
}

func TestLongRecordTruncated(t *testing.T) {
	f := newFake(t, record(1), record(2))
	r := f.open(Options{FromStart: true, MaxLineBytes: 40})
	l, err := next(t, r)
	must(t, err)
	if !l.Truncated || string(l.Text) != record(1)[:40] || l.Cursor != cursor(1) || l.End != int64(len(record(1))+1) {
		t.Fatalf("long record: %q truncated=%v cursor %q end %d", l.Text, l.Truncated, l.Cursor, l.End)
	}
	if l, err = next(t, r); err != nil || l.Cursor != cursor(2) || l.Offset != int64(len(record(1))+1) {
		t.Fatalf("next record: %q at %d, %v", l.Text, l.Offset, err)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(Options{Journalctl: filepath.Join(t.TempDir(), "journalctl")}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open with a missing journalctl: %v", err)
	}
	if _, err := Open(Options{Journalctl: "testdata/fake-journalctl", Offset: -1}); err == nil {
		t.Error("Open with a negative offset succeeded")
	}
}

// recorder is a slog.Handler that keeps the records.
type recorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }

func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec.Clone())
	return nil
}

// has reports whether a record has an attribute with the value s.
func (r *recorder) has(s string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	found := false
	for _, rec := range r.recs {
		rec.Attrs(func(a slog.Attr) bool {
			found = found || a.Value.String() == s
			return !found
		})
	}
	return found
}
