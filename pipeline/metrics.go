package pipeline

import (
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mailevents/mailevents/checkpoint"
	"github.com/mailevents/mailevents/sinks"
)

// Metrics are the pipeline's Prometheus metrics. A nil *Metrics counts
// nothing, so one-shot runs pay nothing for them.
type Metrics struct {
	linesRead     *prometheus.CounterVec
	linesRejected *prometheus.CounterVec
	eventsWritten *prometheus.CounterVec
	sinkErrors    *prometheus.CounterVec
	sinkSeconds   *prometheus.HistogramVec
	batchRecords  *prometheus.HistogramVec
	checkpointLag *prometheus.GaugeVec
	saves         prometheus.Counter
	stateEntries  *prometheus.GaugeVec

	// oldest is when the oldest line not yet acknowledged was processed
	// (unix nanoseconds, 0: none), read by a GaugeFunc at scrape time.
	oldest atomic.Int64
}

// NewMetrics registers the pipeline's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		linesRead: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mailevents_lines_read_total", Help: "Lines read, by input.",
		}, []string{"input"}),
		linesRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mailevents_lines_rejected_total", Help: "Lines that yielded no event and were dead-lettered, by grammar (empty: none recognised the line), kind and reason.",
		}, []string{"grammar", "kind", "reason"}),
		eventsWritten: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mailevents_events_written_total", Help: "Records acknowledged by a sink, by sink and event type (dead-letter for rejected lines).",
		}, []string{"sink", "type"}),
		sinkErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mailevents_sink_write_errors_total", Help: "Failed batch writes (each is retried), by sink.",
		}, []string{"sink"}),
		sinkSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mailevents_sink_write_seconds", Help: "Time a sink took to acknowledge a batch, by sink.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"sink"}),
		batchRecords: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mailevents_batch_records", Help: "Records per batch written, by sink.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8),
		}, []string{"sink"}),
		checkpointLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mailevents_checkpoint_lag_bytes", Help: "Bytes of a followed file beyond its last saved position, at the last save.",
		}, []string{"path"}),
		saves: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mailevents_checkpoint_saves_total", Help: "Checkpoint saves.",
		}),
		stateEntries: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mailevents_state_entries", Help: "Entries in the mapping's correlation tables, at the last save.",
		}, []string{"table"}),
	}
	oldest := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "mailevents_oldest_unacknowledged_seconds", Help: "Age of the oldest line read whose events are not yet acknowledged by every sink (0: none).",
	}, func() float64 {
		if t := m.oldest.Load(); t != 0 {
			return time.Since(time.Unix(0, t)).Seconds()
		}
		return 0
	})
	reg.MustRegister(m.linesRead, m.linesRejected, m.eventsWritten, m.sinkErrors, m.sinkSeconds,
		m.batchRecords, m.checkpointLag, m.saves, m.stateEntries, oldest)
	return m
}

func (m *Metrics) read(input string, n int) {
	if m != nil {
		m.linesRead.WithLabelValues(input).Add(float64(n))
	}
}

func (m *Metrics) rejected(grammar, kind, reason string) {
	if m != nil {
		m.linesRejected.WithLabelValues(grammar, kind, reason).Inc()
	}
}

// written counts a batch a sink acknowledged, by event type.
func (m *Metrics) written(sink string, batch []sinks.Record, took time.Duration) {
	if m == nil {
		return
	}
	m.sinkSeconds.WithLabelValues(sink).Observe(took.Seconds())
	m.batchRecords.WithLabelValues(sink).Observe(float64(len(batch)))
	var last string
	var n int
	for i := range batch {
		t := batch[i].Type
		if t == "" {
			t = "dead-letter"
		}
		if t != last && n > 0 {
			m.eventsWritten.WithLabelValues(sink, last).Add(float64(n))
			n = 0
		}
		last = t
		n++
	}
	if n > 0 {
		m.eventsWritten.WithLabelValues(sink, last).Add(float64(n))
	}
}

func (m *Metrics) writeFailed(sink string) {
	if m != nil {
		m.sinkErrors.WithLabelValues(sink).Inc()
	}
}

func (m *Metrics) setOldest(t time.Time) {
	if m == nil {
		return
	}
	if t.IsZero() {
		m.oldest.Store(0)
	} else {
		m.oldest.Store(t.UnixNano())
	}
}

// saved records the lag of each saved file still at its path, and the
// state tables' sizes.
func (m *Metrics) saved(store *checkpoint.Store, sizes map[string]int) {
	if m == nil {
		return
	}
	m.saves.Inc()
	for _, k := range store.Keys() {
		p, ok := store.Position(k)
		fi, err := os.Stat(k.Path)
		if !ok || err != nil {
			continue
		}
		if st, isUnix := fi.Sys().(*syscall.Stat_t); !isUnix || uint64(st.Ino) != k.Inode || uint64(st.Dev) != k.Dev {
			continue // rotated away: the file at the path is another one
		}
		m.checkpointLag.WithLabelValues(k.Path).Set(float64(max(fi.Size()-p.Offset, 0)))
	}
	for table, n := range sizes {
		m.stateEntries.WithLabelValues(table).Set(float64(n))
	}
}
