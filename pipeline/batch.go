package pipeline

import (
	"time"

	"github.com/mailevents/mailevents/event"
	"github.com/mailevents/mailevents/seal"
	"github.com/mailevents/mailevents/sinks"
)

// batch accumulates encoded records in one arena so that encoding a line
// costs no allocation once the arena has grown. Record values are sub-slices
// of the arena; when append moves the arena, earlier slices keep pointing at
// the old array, whose bytes are still right, so nothing is copied twice.
type batch struct {
	arena   []byte
	records []sinks.Record
}

func (b *batch) add(ev *event.Event, when time.Time) {
	start := len(b.arena)
	b.arena = ev.AppendJSON(b.arena)
	b.record(ev, when, start)
}

// addStamped adds ev as the next event of a sealed stream.
func (b *batch) addStamped(ev *event.Event, when time.Time, s *seal.Stream) {
	start := len(b.arena)
	b.arena = s.AppendStamped(b.arena, ev)
	b.record(ev, when, start)
}

// record adds the record of the event encoded from start on.
func (b *batch) record(ev *event.Event, when time.Time, start int) {
	value := b.arena[start:len(b.arena):len(b.arena)]
	var key []byte
	if user := ev.GetString(event.User); user != "" {
		// Per-user ordering is what a partitioned sink keys on by default.
		kstart := len(b.arena)
		b.arena = append(b.arena, user...)
		key = b.arena[kstart:len(b.arena):len(b.arena)]
	}
	b.records = append(b.records, sinks.Record{
		Key: key, Value: value, Time: when,
		Type: string(ev.Type), ID: ev.GetString(event.ID), User: ev.GetString(event.User), URI: ev.GetString(event.URI),
	})
}

func (b *batch) addReject(r *Reject) {
	start := len(b.arena)
	b.arena = r.AppendJSON(b.arena)
	b.records = append(b.records, sinks.Record{Value: b.arena[start:len(b.arena):len(b.arena)]})
}

// reset empties the batch once written.
func (b *batch) reset() {
	clear(b.records)
	b.records = b.records[:0]
	b.arena = b.arena[:0]
}
