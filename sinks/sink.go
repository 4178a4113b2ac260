// Package sinks defines where encoded events go. A sink takes records that are
// already encoded, so the same stdout, file and Kafka code serves events and
// dead letters alike.
package sinks

import (
	"context"
	"time"
)

// Record is one encoded event or dead letter: a JSON object without its
// newline, and the key a partitioned sink uses to keep per-key order.
//
// The event's metadata rides along so that a sink can route, key and label
// records without decoding them (Kafka's topic per group, key and headers).
// It is empty for dead letters. Like Key and Value it aliases the caller's
// memory and must not be retained after Write returns.
type Record struct {
	Key   []byte
	Value []byte
	Time  time.Time

	Type string // the event type, e.g. "MessageNew"
	ID   string // vnd.mailevents.id
	User string
	URI  string // the event's uri (event.ParseURL gives its host and mailbox)
}

// Sink writes batches of records.
//
// Write returns only once the whole batch is durable: flushed to stdout,
// fsync'd for files, acknowledged by all in-sync replicas for Kafka. Any error
// means the whole batch may not have been written; the caller may retry it,
// so a sink may see a batch twice (duplicates carry the same
// vnd.mailevents.id) but must never report success for a record it lost.
// Write must not retain batch or the byte slices in it after it returns.
// Write is not called concurrently on one Sink.
//
// Close flushes what is buffered and releases the sink; Write after Close
// returns an error.
type Sink interface {
	Name() string
	Write(ctx context.Context, batch []Record) error
	Close(ctx context.Context) error
}
