package pipeline_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailevents/mailevents/checkpoint"
	"github.com/mailevents/mailevents/event"
	"github.com/mailevents/mailevents/event/eventtest"
	"github.com/mailevents/mailevents/pipeline"
	"github.com/mailevents/mailevents/seal"
	"github.com/mailevents/mailevents/sinks/stdout"
	"github.com/mailevents/mailevents/source"
)

var sealKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))

func sealStream(t *testing.T, id string, interval time.Duration) *seal.Stream {
	t.Helper()
	s, err := seal.NewStream(id, seal.NewSigner(sealKey), interval)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func verify(t *testing.T, records []string) *seal.Report {
	t.Helper()
	v := seal.NewVerifier(seal.Options{Keys: []ed25519.PublicKey{sealKey.Public().(ed25519.PublicKey)}})
	for i, r := range records {
		v.Add(seal.Pos{Input: "out", Line: int64(i + 1)}, []byte(r))
	}
	return v.Finish()
}

func reportText(rep *seal.Report) string {
	var b strings.Builder
	_ = rep.WriteText(&b)
	return b.String()
}

// onlyType keeps the events of one type: a subscription that drops most.
type onlyType event.Type

func (o onlyType) Apply(ev *event.Event) bool { return ev.Type == event.Type(o) }
func (onlyType) IsZero() bool                 { return false }
func (onlyType) Transforms() bool             { return false }

// A parse run seals each sealed output as a stream of its own, after the
// subscription's choice, ending with a final seal; the outputs that share
// the events and are not sealed get them without any stamp.
func TestRunSealedOutputs(t *testing.T) {
	input := strings.Repeat(loginLine+saveLine+junkLine, 40)
	var sealed, filtered, plain bytes.Buffer
	cfg := config(nil, nil, nil)
	cfg.Outputs = []pipeline.Output{
		{Sink: stdout.NewNamed("sealed", &sealed), Seal: sealStream(t, "host/sealed", time.Hour)},
		{Sink: stdout.NewNamed("filtered", &filtered), Filter: onlyType(event.MessageAppend), Seal: sealStream(t, "host/filtered", time.Hour)},
		{Sink: stdout.NewNamed("plain", &plain)},
	}
	cfg.BatchSize = 7
	r, _ := source.Open("-", source.Options{Stdin: strings.NewReader(input)})
	if err := pipeline.Run(context.Background(), r, cfg); err != nil {
		t.Fatal(err)
	}
	eventtest.CheckLines(t, sealed.Bytes())
	eventtest.CheckLines(t, filtered.Bytes())
	for name, out := range map[string]*bytes.Buffer{"sealed": &sealed, "filtered": &filtered} {
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		rep := verify(t, lines)
		if !rep.Intact || len(rep.Streams) != 1 {
			t.Fatalf("%s: not intact:\n%s", name, reportText(rep))
		}
		want := int64(80)
		if name == "filtered" {
			want = 40
		}
		if s := rep.Streams[0]; s.LastSeq != want || s.LastSeal == nil || !s.LastSeal.Final || s.LastSeal.Seq != want {
			t.Errorf("%s: %+v, want %d events and a final seal", name, s, want)
		}
		if last := lines[len(lines)-1]; !strings.Contains(last, `"event":"vnd.mailevents.Seal"`) {
			t.Errorf("%s: the last record is not the seal: %s", name, last)
		}
	}
	if strings.Contains(plain.String(), "vnd.mailevents.seq") || strings.Count(plain.String(), "\n") != 80 {
		t.Errorf("the unsealed output got stamps or lost events:\n%s", plain.String())
	}
}

// eventsOf drops the seals from records.
func eventsOf(records []string) []string {
	var out []string
	for _, r := range records {
		if !strings.Contains(r, `"event":"vnd.mailevents.Seal"`) {
			out = append(out, r)
		}
	}
	return out
}

// The daemon saves each stream's state with the positions. A crash after
// a save replays the lines that followed it from that state: the events
// come again byte for byte (same seq, same chain value), and the archive
// with both copies verifies, the copies counted as duplicates.
func TestFollowSealedCrashReplay(t *testing.T) {
	all := lines(30)
	in := newFeed("/var/log/mail.log", all[:20])
	sink := newGateSink()
	cfg, store := daemonConfig(t, sink, in)
	cfg.SaveInterval = 10 * time.Millisecond
	cfg.Outputs = []pipeline.Output{{Sink: cfg.Events, Seal: sealStream(t, "host/archive", time.Millisecond)}}
	cfg.Events = nil
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- pipeline.Follow(ctx, cfg) }()

	// The moment to crash back to: a save with the first 20 lines.
	waitFor(t, "20 events", func() bool { return len(eventsOf(sink.snapshot())) == 20 })
	snapshot := filepath.Join(t.TempDir(), "snapshot.json")
	at20 := in.offset
	waitFor(t, "a save of the first 20 lines", func() bool {
		b, err := os.ReadFile(store.Path())
		if err != nil || os.WriteFile(snapshot, b, 0o600) != nil {
			return false
		}
		s, err := checkpoint.Open(snapshot)
		if err != nil {
			return false
		}
		p, _ := s.Position(in.key)
		st, _ := s.State("seal.host/archive")
		return p.Offset == at20 && strings.Contains(string(st), `"seq":20,`)
	})
	for _, l := range all[20:] {
		in.more <- l
	}
	waitFor(t, "30 events", func() bool { return len(eventsOf(sink.snapshot())) == 30 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	first := sink.snapshot()

	// The restart from the snapshot: a new stream object, its state from
	// the checkpoint, the last 10 lines read again.
	restored, err := checkpoint.Open(snapshot)
	if err != nil {
		t.Fatal(err)
	}
	again := newFeed("/var/log/mail.log", all[20:])
	again.offset = at20
	sink2 := newGateSink()
	cfg2, _ := daemonConfig(t, sink2, again)
	cfg2.Store = restored
	cfg2.Outputs = []pipeline.Output{{Sink: sink2, Seal: sealStream(t, "host/archive", time.Hour)}}
	cfg2.Events = nil
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() { done <- pipeline.Follow(ctx2, cfg2) }()
	waitFor(t, "the 10 events again", func() bool { return len(eventsOf(sink2.snapshot())) == 10 })
	cancel2()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	second := sink2.snapshot()
	if a, b := eventsOf(first)[20:], eventsOf(second); strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Fatalf("replayed events differ from their first copies:\n%s\n---\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	rep := verify(t, append(first, second...))
	if !rep.Intact {
		t.Fatalf("archive with a crash replay not intact:\n%s", reportText(rep))
	}
	var dups int
	for _, f := range rep.Streams[0].Findings {
		if f.Kind == seal.KindDuplicate {
			dups = f.Count
		}
	}
	if dups != 10 || rep.Streams[0].Seals < 3 {
		t.Fatalf("%d duplicates (want 10), %d seals (want a few):\n%s", dups, rep.Streams[0].Seals, reportText(rep))
	}
}

// A stream's state is saved under "seal." and its id, and a start loads
// it: a second run continues the first's seq.
func TestFollowSealStateContinues(t *testing.T) {
	in := newFeed("/var/log/mail.log", lines(5))
	sink := newGateSink()
	cfg, store := daemonConfig(t, sink, in)
	cfg.Outputs = []pipeline.Output{{Sink: sink, Seal: sealStream(t, "host/archive", time.Hour)}}
	cfg.Events = nil
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- pipeline.Follow(ctx, cfg) }()
	waitFor(t, "5 events", func() bool { return sink.count() >= 5 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st, ok := store.State("seal.host/archive"); !ok || !strings.Contains(string(st), `"seq":5,`) || !strings.Contains(string(st), `"sealed_final":true`) {
		t.Fatalf("saved seal state %q", st)
	}
	more := newFeed("/var/log/other.log", lines(3))
	more.eof = true
	cfg.Inputs = []pipeline.DaemonInput{{Input: more}}
	cfg.Outputs = []pipeline.Output{{Sink: sink, Seal: sealStream(t, "host/archive", time.Hour)}}
	if err := pipeline.Follow(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	rep := verify(t, sink.snapshot())
	if s := rep.Streams[0]; !rep.Intact || s.LastSeq != 8 || s.LastSeal == nil || s.LastSeal.Seq != 8 || !s.LastSeal.Final {
		t.Fatalf("two runs do not make one stream of 8:\n%s", reportText(rep))
	}

	if err := store.SetState("seal.host/archive", []byte("{")); err != nil {
		t.Fatal(err)
	}
	cfg.Outputs = []pipeline.Output{{Sink: sink, Seal: sealStream(t, "host/archive", time.Hour)}}
	if err := pipeline.Follow(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "seal state") {
		t.Fatalf("Follow with a corrupt seal state = %v", err)
	}
}

// snapshot copies what the sink has received.
func (s *gateSink) snapshot() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.records...)
}
