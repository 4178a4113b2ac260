package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/mailevents/mailevents/event"
	"github.com/mailevents/mailevents/seal"
	"github.com/mailevents/mailevents/sinks"
)

// Filter is a sink's subscription (package subscription): which events the
// sink wants and how they are shaped for it. Apply decides and transforms in
// place; IsZero reports a filter that keeps every event unchanged, and
// Transforms one that may change an event, so the pipeline copies an event
// only for the sinks that change it.
type Filter interface {
	Apply(ev *event.Event) (keep bool)
	IsZero() bool
	Transforms() bool
}

// Output is one destination of events with its own subscription.
type Output struct {
	Sink   sinks.Sink
	Filter Filter // nil: every event, unchanged
	// Seal, when set, makes the sink's events a sealed stream: each event
	// that passes the filter is stamped with the stream's seq and chain
	// value, and signed seals follow (see package seal). The daemon saves
	// the stream's state with the checkpoint.
	Seal *seal.Stream
}

// output is an Output with the batch being filled for it.
type output struct {
	sink       sinks.Sink
	filter     Filter
	transforms bool
	seal       *seal.Stream
	batch      batch
	// done marks an output whose part of the current flush was written, so
	// that a retry after another output failed does not write it twice.
	done bool
}

func newOutputs(os []Output) []*output {
	out := make([]*output, 0, len(os))
	for _, o := range os {
		f := o.Filter
		if f != nil && f.IsZero() {
			f = nil
		}
		out = append(out, &output{sink: o.Sink, filter: f, transforms: f != nil && f.Transforms(), seal: o.Seal})
	}
	return out
}

// add encodes ev into the output's batch, through its filter. The filter
// works on a copy so that one sink's suppressed parameters and tags never
// reach another.
func (o *output) add(ev *event.Event, when time.Time) {
	if o.filter == nil {
		o.stamped(ev, when)
		return
	}
	if !o.transforms {
		if o.filter.Apply(ev) {
			o.stamped(ev, when)
		}
		return
	}
	c := ev.Clone()
	if o.filter.Apply(&c) {
		o.stamped(&c, when)
	}
	c.Release()
}

// stamped adds ev to the batch, as the next event of the output's sealed
// stream if it has one. The event is shared with the other outputs, so the
// stamp goes into the encoded line only.
func (o *output) stamped(ev *event.Event, when time.Time) {
	if o.seal == nil {
		o.batch.add(ev, when)
		return
	}
	o.batch.addStamped(ev, when, o.seal)
}

// addSeal adds the stream's seal to the batch when one is due. It bypasses
// the filter: a subscription must never drop a seal.
func (o *output) addSeal(now time.Time, final bool) bool {
	if o.seal == nil || !o.seal.Due(now, final) {
		return false
	}
	rec := o.seal.Seal(now, final)
	o.batch.add(&rec, now)
	rec.Release()
	return true
}

// write writes the output's pending batch once per flush.
func (o *output) write(ctx context.Context, m *Metrics) error {
	if o.done {
		return nil
	}
	if err := writeMeasured(ctx, &o.batch, o.sink, m); err != nil {
		return fmt.Errorf("sink %s: %w", o.sink.Name(), err)
	}
	if o.seal != nil {
		o.seal.Written()
	}
	o.done = true
	return nil
}

// writeMeasured writes b to s and counts the outcome.
func writeMeasured(ctx context.Context, b *batch, s sinks.Sink, m *Metrics) error {
	if len(b.records) == 0 {
		return nil
	}
	start := time.Now()
	if err := s.Write(ctx, b.records); err != nil {
		m.writeFailed(s.Name())
		return err
	}
	m.written(s.Name(), b.records, time.Since(start))
	b.reset()
	return nil
}
