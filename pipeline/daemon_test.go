package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailevents/mailevents/checkpoint"
	"github.com/mailevents/mailevents/pipeline"
	"github.com/mailevents/mailevents/sinks"
)

// feedInput serves prepared lines of one file, then blocks until the
// context ends (a followed file with nothing new), or returns io.EOF when
// eof is set. served counts the lines handed out, so a test can see how far
// reading got.
type feedInput struct {
	key    checkpoint.FileKey
	lines  []string
	eof    bool
	next   int
	offset int64
	served atomic.Int64
	more   chan string // lines appended while running
}

func newFeed(path string, lines []string) *feedInput {
	return &feedInput{key: checkpoint.FileKey{Path: path, Dev: 1, Inode: 2}, lines: lines, more: make(chan string, 100)}
}

func (f *feedInput) Name() string { return f.key.Path }
func (f *feedInput) Next(ctx context.Context) (pipeline.FollowedLine, error) {
	var text string
	switch {
	case f.next < len(f.lines):
		text = f.lines[f.next]
		f.next++
	case f.eof:
		return pipeline.FollowedLine{}, io.EOF
	default:
		select {
		case text = <-f.more:
		case <-ctx.Done():
			return pipeline.FollowedLine{}, ctx.Err()
		}
	}
	l := pipeline.FollowedLine{Key: f.key}
	l.Source, l.Offset, l.End = f.key.Path, f.offset, f.offset+int64(len(text))
	l.Text = []byte(strings.TrimSuffix(text, "\n"))
	f.offset = l.End
	f.served.Add(1)
	return l, nil
}
func (f *feedInput) Buffered() bool { return f.next < len(f.lines) }
func (f *feedInput) Close() error   { return nil }

// gateSink fails while down is set, and reports each successful batch.
type gateSink struct {
	mu       sync.Mutex
	down     atomic.Bool
	records  []string
	attempts atomic.Int64
	written  chan int
}

func newGateSink() *gateSink { return &gateSink{written: make(chan int, 1000)} }

func (s *gateSink) Name() string { return "gate" }
func (s *gateSink) Write(_ context.Context, b []sinks.Record) error {
	s.attempts.Add(1)
	if s.down.Load() {
		return errors.New("sink is down")
	}
	s.mu.Lock()
	for _, r := range b {
		s.records = append(s.records, string(r.Value))
	}
	n := len(s.records)
	s.mu.Unlock()
	s.written <- n
	return nil
}
func (s *gateSink) Close(context.Context) error { return nil }
func (s *gateSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.records)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func daemonConfig(t *testing.T, sink sinks.Sink, in pipeline.Input) (pipeline.DaemonConfig, *checkpoint.Store) {
	t.Helper()
	store, err := checkpoint.Open(filepath.Join(t.TempDir(), "checkpoint.json"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return pipeline.DaemonConfig{
		Config:       config(sink, nil, pipeline.NewStats()),
		Inputs:       []pipeline.DaemonInput{{Input: in}},
		Store:        store,
		SaveInterval: time.Hour, // saved at shutdown only, unless a test says otherwise
	}, store
}

func lines(n int) []string {
	var out []string
	for i := range n {
		out = append(out, strings.Replace(saveLine, "uid=7", fmt.Sprintf("uid=%d", i+1), 1))
	}
	return out
}

func TestFollowCommitsOnlyWrittenLines(t *testing.T) {
	in := newFeed("/var/log/mail.log", lines(50))
	sink := newGateSink()
	cfg, store := daemonConfig(t, sink, in)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- pipeline.Follow(ctx, cfg) }()

	waitFor(t, "50 events", func() bool { return sink.count() == 50 })
	waitFor(t, "the commit", func() bool {
		p, ok := store.Position(in.key)
		return ok && p.Offset == in.offset
	})
	// With the sink down, a new line is read but its position stays put.
	sink.down.Store(true)
	before, _ := store.Position(in.key)
	in.more <- saveLine
	waitFor(t, "a failed attempt", func() bool { return sink.attempts.Load() > 2 })
	if p, _ := store.Position(in.key); p != before {
		t.Fatalf("position moved to %+v while the sink was down (was %+v)", p, before)
	}
	sink.down.Store(false)
	waitFor(t, "the retried batch", func() bool { return sink.count() == 51 })
	waitFor(t, "the commit after recovery", func() bool {
		p, _ := store.Position(in.key)
		return p.Offset == in.offset
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Follow = %v", err)
	}
}

// While the sink is down, reading stops after a bounded number of lines:
// the chunks in circulation fill up and the reader waits for one.
func TestFollowBackPressure(t *testing.T) {
	in := newFeed("/var/log/mail.log", lines(200_000))
	sink := newGateSink()
	sink.down.Store(true)
	cfg, _ := daemonConfig(t, sink, in)
	cfg.QueueChunks = 4
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- pipeline.Follow(ctx, cfg) }()

	waitFor(t, "retries", func() bool { return sink.attempts.Load() >= 3 })
	served := in.served.Load()
	// Bound: the chunks (each up to 1024 lines) plus one batch.
	if limit := int64(8*1024 + pipeline.DefaultBatchSize); served > limit {
		t.Fatalf("read %d lines with the sink down, want at most %d", served, limit)
	}
	time.Sleep(300 * time.Millisecond) // reading must stay stopped, not just be slow
	if again := in.served.Load(); again != served {
		t.Fatalf("reading went on with the sink down: %d then %d lines", served, again)
	}
	sink.down.Store(false)
	waitFor(t, "every event", func() bool { return sink.count() == 200_000 })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Follow = %v", err)
	}
}

// At shutdown the pending batch is written and the position saved, so a
// restart resumes exactly after the last line.
func TestFollowShutdownSaves(t *testing.T) {
	in := newFeed("/var/log/mail.log", lines(10))
	sink := newGateSink()
	cfg, store := daemonConfig(t, sink, in)
	cfg.BatchSize = 1000
	cfg.BatchLatency = time.Hour // only the idle flush or the shutdown can write
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- pipeline.Follow(ctx, cfg) }()
	waitFor(t, "10 events", func() bool { return sink.count() == 10 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	reopened, err := checkpoint.Open(store.Path())
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := reopened.Position(in.key); !ok || p.Offset != in.offset {
		t.Fatalf("saved position %+v, %v; want offset %d", p, ok, in.offset)
	}
}

// An input that ends (stdin) ends the daemon once its events are written.
func TestFollowEndsWithItsInputs(t *testing.T) {
	in := newFeed("", lines(3))
	in.eof = true
	in.key = checkpoint.FileKey{}
	sink := newGateSink()
	cfg, _ := daemonConfig(t, sink, in)
	if err := pipeline.Follow(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if sink.count() != 3 {
		t.Fatalf("%d events, want 3", sink.count())
	}
}

// A sink that is still down when the shutdown timeout passes: Follow reports
// it, and the unwritten lines are not committed.
func TestFollowShutdownWithSinkDown(t *testing.T) {
	in := newFeed("/var/log/mail.log", lines(5))
	sink := newGateSink()
	sink.down.Store(true)
	cfg, store := daemonConfig(t, sink, in)
	cfg.ShutdownTimeout = 200 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- pipeline.Follow(ctx, cfg) }()
	waitFor(t, "a failed attempt", func() bool { return sink.attempts.Load() >= 1 })
	cancel()
	err := <-done
	if err == nil || !strings.Contains(err.Error(), "final flush") {
		t.Fatalf("Follow = %v, want the final flush's failure", err)
	}
	if p, ok := store.Position(in.key); ok {
		t.Fatalf("position %+v committed for unwritten lines", p)
	}
}

// fakeState records what the daemon saves and loads.
type fakeState struct {
	mu     sync.Mutex
	saves  int
	loaded map[string][]byte
}

func (f *fakeState) SaveState(int) (map[string][]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.saves++
	return map[string][]byte{"double": []byte(fmt.Sprintf("save %d", f.saves))}, nil
}
func (f *fakeState) LoadState(b map[string][]byte) error {
	f.loaded = b
	if string(b["double"]) == "corrupt" {
		return errors.New("corrupt blob")
	}
	return nil
}

func TestFollowSavesAndLoadsMappingState(t *testing.T) {
	in := newFeed("/var/log/mail.log", lines(4))
	sink := newGateSink()
	cfg, store := daemonConfig(t, sink, in)
	state := &fakeState{}
	cfg.State = state
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- pipeline.Follow(ctx, cfg) }()
	waitFor(t, "4 events", func() bool { return sink.count() == 4 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if b, _ := store.State("mapping.double"); !strings.HasPrefix(string(b), "save ") {
		t.Fatalf("saved state %q", b)
	}

	// The next start loads it; a blob the mapper rejects stops the start.
	next := &fakeState{}
	cfg.State = next
	cfg.Inputs = []pipeline.DaemonInput{{Input: &feedInput{eof: true}}}
	if err := pipeline.Follow(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(next.loaded["double"]), "save ") {
		t.Fatalf("loaded %q", next.loaded)
	}
	if err := store.SetState("mapping.double", []byte("corrupt")); err != nil {
		t.Fatal(err)
	}
	err := pipeline.Follow(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "mapping state") {
		t.Fatalf("Follow with a corrupt state = %v", err)
	}
}

// rotatingInput serves lines of two files under one path, as a follower
// does across a rotation: the old file to its end, then the new one.
type rotatingInput struct {
	feedInput
	old, cur checkpoint.FileKey
	switchAt int
}

func (r *rotatingInput) Next(ctx context.Context) (pipeline.FollowedLine, error) {
	if r.next == r.switchAt {
		r.key, r.offset = r.cur, 0
	}
	return r.feedInput.Next(ctx)
}

// The rotated file is committed before the file that replaced it, so it is
// the old entry that is forgotten; committing in map order would sometimes
// forget the new one. Many rounds make a wrong order show.
func TestFollowCommitsRotatedFileFirst(t *testing.T) {
	for round := range 20 {
		old := checkpoint.FileKey{Path: "/var/log/mail.log", Dev: 1, Inode: 10}
		cur := checkpoint.FileKey{Path: "/var/log/mail.log", Dev: 1, Inode: 11}
		in := &rotatingInput{feedInput: *newFeed(old.Path, lines(6)), old: old, cur: cur, switchAt: 3}
		in.key = old
		in.eof = true
		sink := newGateSink()
		cfg, store := daemonConfig(t, sink, in)
		if err := pipeline.Follow(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
		keys := store.Keys()
		if len(keys) != 1 || keys[0] != cur {
			t.Fatalf("round %d: keys after the rotation = %v, want only the new file's", round, keys)
		}
		if p, _ := store.Position(cur); p.Offset != in.offset {
			t.Fatalf("round %d: new file at %d, want %d", round, p.Offset, in.offset)
		}
	}
}
