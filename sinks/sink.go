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
type Record struct {
	Key   []byte
	Value []byte
	Time  time.Time
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
