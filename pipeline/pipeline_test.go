package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailevents/mailevents/event"
	"github.com/mailevents/mailevents/event/eventtest"
	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/parsers/parsertest"
	"github.com/mailevents/mailevents/pipeline"
	"github.com/mailevents/mailevents/sinks"
	"github.com/mailevents/mailevents/sinks/stdout"
	"github.com/mailevents/mailevents/source"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const (
	loginLine = "Feb 28 09:00:01 mail mailtest[1]: login user=alice session=s1 rip=192.0.2.10 service=imap\n"
	saveLine  = "Feb 28 09:00:02 mail mailtest[1]: save user=alice session=s1 box=INBOX uid=7 size=10 service=imap\n"
	junkLine  = "this is not a log line\n"
)

func config(events, rejects sinks.Sink, stats *pipeline.Stats) pipeline.Config {
	g, mappers := parsertest.DoubleGrammar(now)
	return pipeline.Config{Parsers: []parsers.Parser{g}, Mappers: mappers(), Events: events, Rejects: rejects, Stats: stats}
}

func TestEveryLineIsAccountedFor(t *testing.T) {
	input := strings.Repeat(loginLine+saveLine+junkLine+"\n", 300)
	var out, rej bytes.Buffer
	stats := pipeline.NewStats()
	r, _ := source.Open("-", source.Options{Stdin: strings.NewReader(input)})
	cfg := config(stdout.New(&out), stdout.NewNamed("rejects", &rej), stats)
	cfg.BatchSize = 7 // many batches
	if err := pipeline.Run(context.Background(), r, cfg); err != nil {
		t.Fatal(err)
	}
	eventtest.CheckLines(t, out.Bytes())
	if got := bytes.Count(out.Bytes(), []byte("\n")); got != 600 {
		t.Errorf("%d events, want 600", got)
	}
	if got := bytes.Count(rej.Bytes(), []byte("\n")); got != 300 {
		t.Errorf("%d rejects, want 300", got)
	}
	if stats.Lines != 1200 || stats.Events[event.Login] != 300 || stats.Events[event.MessageAppend] != 300 ||
		stats.Ignored[pipeline.BlankLine] != 300 || stats.RejectedLines() != 300 {
		t.Errorf("stats = %+v", stats)
	}
	// Events come out in input order.
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	for i, l := range lines {
		want := `"event":"Login"`
		if i%2 == 1 {
			want = `"event":"MessageAppend"`
		}
		if !strings.Contains(l, want) {
			t.Fatalf("event %d out of order: %s", i, l)
		}
	}
}

// notifySink records batches and signals each one, so a test can wait for a
// flush without sleeping.
type notifySink struct {
	mu      sync.Mutex
	batches [][]string
	written chan struct{}
	err     error
}

func (s *notifySink) Name() string { return "notify" }
func (s *notifySink) Write(_ context.Context, b []sinks.Record) error {
	if s.err != nil {
		return s.err
	}
	s.mu.Lock()
	var vals []string
	for _, r := range b {
		vals = append(vals, string(r.Value))
	}
	s.batches = append(s.batches, vals)
	s.mu.Unlock()
	s.written <- struct{}{}
	return nil
}
func (s *notifySink) Close(context.Context) error { return nil }

// A line arriving on a pipe is written as soon as the pipe has nothing more
// buffered: `tail -f mail.log | mailevents parse` must not wait for a batch
// to fill.
func TestFlushesWhenInputIsIdle(t *testing.T) {
	pr, pw := io.Pipe()
	r, _ := source.Open("-", source.Options{Stdin: pr})
	sink := &notifySink{written: make(chan struct{}, 10)}
	done := make(chan error, 1)
	go func() { done <- pipeline.Run(context.Background(), r, config(sink, nil, nil)) }()

	for i, line := range []string{loginLine, saveLine} {
		if _, err := io.WriteString(pw, line); err != nil {
			t.Fatal(err)
		}
		select {
		case <-sink.written:
		case <-time.After(10 * time.Second):
			t.Fatalf("line %d was not flushed while the input was idle", i)
		}
	}
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(sink.batches) != 2 || len(sink.batches[0]) != 1 || len(sink.batches[1]) != 1 {
		t.Fatalf("batches = %v, want two batches of one", sink.batches)
	}
}

func TestSinkErrorEndsTheRun(t *testing.T) {
	boom := errors.New("disk full")
	r, _ := source.Open("-", source.Options{Stdin: strings.NewReader(loginLine)})
	err := pipeline.Run(context.Background(), r, config(&notifySink{err: boom}, nil, nil))
	if !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want the sink's error", err)
	}
}

// A missing file is an error, but the files after it are still read.
func TestMissingFileDoesNotHideTheOthers(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.log")
	if err := os.WriteFile(good, []byte(loginLine), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	stats := pipeline.NewStats()
	r := source.OpenAll([]string{filepath.Join(dir, "missing.log"), good}, source.Options{})
	err := pipeline.Run(context.Background(), r, config(stdout.New(&out), nil, stats))
	if err == nil || !strings.Contains(err.Error(), "missing.log") {
		t.Fatalf("Run = %v, want an error naming missing.log", err)
	}
	if !strings.Contains(out.String(), `"event":"Login"`) || stats.ReadErrors != 1 {
		t.Fatalf("output %q, read errors %d: the good file was not read after the missing one", out.String(), stats.ReadErrors)
	}
}

func TestOverlongLineIsRejectedAndTheNextIsRead(t *testing.T) {
	input := "Feb 28 09:00:01 mail mailtest[1]: login " + strings.Repeat("x", 200) + "\n" + loginLine
	var out, rej bytes.Buffer
	r, _ := source.Open("-", source.Options{Stdin: strings.NewReader(input), MaxLineBytes: 100})
	if err := pipeline.Run(context.Background(), r, config(stdout.New(&out), stdout.New(&rej), nil)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rej.String(), `"reason":"line too long"`) || !strings.Contains(rej.String(), `"truncated":true`) {
		t.Errorf("rejects = %s", rej.String())
	}
	if !strings.Contains(out.String(), `"offset":241`) {
		t.Errorf("the line after the long one is missing or misplaced: %s", out.String())
	}
}

func TestStatsText(t *testing.T) {
	s := pipeline.NewStats()
	s.Lines = 5
	s.Recognised["dovecot"] = 3
	s.Events[event.Login] = 1
	s.Events[event.MessageNew] = 2
	s.Rejected["unknown: no grammar recognises the line"] = 2
	var b bytes.Buffer
	if err := s.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := `lines read  5
recognised by grammar
  dovecot  3
events by type
  MessageNew  2
  Login       1
rejected by reason
  unknown: no grammar recognises the line  2
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
