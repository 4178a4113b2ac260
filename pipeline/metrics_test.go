package pipeline_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mailevents/mailevents/pipeline"
	"github.com/mailevents/mailevents/sinks/stdout"
)

func TestFollowMetrics(t *testing.T) {
	in := newFeed("/var/log/mail.log", []string{loginLine, saveLine, junkLine, saveLine})
	sink := newGateSink()
	cfg, _ := daemonConfig(t, sink, in)
	rejects := &lockedBuffer{}
	cfg.Rejects = stdout.NewNamed("dead_letter", rejects)
	reg := prometheus.NewPedanticRegistry()
	cfg.Metrics = pipeline.NewMetrics(reg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- pipeline.Follow(ctx, cfg) }()
	waitFor(t, "3 events", func() bool { return sink.count() == 3 })
	waitFor(t, "the dead letter", func() bool { return strings.Count(rejects.String(), "\n") == 1 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	const want = `
# HELP mailevents_events_written_total Records acknowledged by a sink, by sink and event type (dead-letter for rejected lines).
# TYPE mailevents_events_written_total counter
mailevents_events_written_total{sink="dead_letter",type="dead-letter"} 1
mailevents_events_written_total{sink="gate",type="Login"} 1
mailevents_events_written_total{sink="gate",type="MessageAppend"} 2
# HELP mailevents_lines_read_total Lines read, by input.
# TYPE mailevents_lines_read_total counter
mailevents_lines_read_total{input="/var/log/mail.log"} 4
# HELP mailevents_lines_rejected_total Lines that yielded no event and were dead-lettered, by grammar (empty: none recognised the line), kind and reason.
# TYPE mailevents_lines_rejected_total counter
mailevents_lines_rejected_total{grammar="",kind="unknown",reason="no grammar recognises the line"} 1
# HELP mailevents_oldest_unacknowledged_seconds Age of the oldest line read whose events are not yet acknowledged by every sink (0: none).
# TYPE mailevents_oldest_unacknowledged_seconds gauge
mailevents_oldest_unacknowledged_seconds 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"mailevents_events_written_total", "mailevents_lines_read_total", "mailevents_lines_rejected_total",
		"mailevents_oldest_unacknowledged_seconds"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"mailevents_sink_write_seconds", "mailevents_batch_records", "mailevents_checkpoint_saves_total"} {
		if n, err := testutil.GatherAndCount(reg, name); err != nil || n == 0 {
			t.Errorf("%s: %d series, %v", name, n, err)
		}
	}
}

// lockedBuffer is a writer the test reads while the pipeline writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
