// Package sinktest is the conformance suite every sinks.Sink passes: the
// contract written on the interface, checked the same way for each
// implementation.
package sinktest

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mailevents/mailevents/sinks"
)

// Harness gives the suite a fresh sink and a way to read back what it made
// durable.
type Harness struct {
	// New returns a new, empty sink.
	New func(t *testing.T) sinks.Sink
	// ReadBack returns the record values the sink has durably written so far,
	// in order, as an independent reader would see them.
	ReadBack func(t *testing.T) [][]byte
}

// Run runs the conformance suite.
func Run(t *testing.T, h Harness) {
	t.Run("OrderAcrossBatches", func(t *testing.T) { testOrder(t, h) })
	t.Run("EmptyBatch", func(t *testing.T) { testEmpty(t, h) })
	t.Run("DoesNotRetainBatch", func(t *testing.T) { testNoRetain(t, h) })
	t.Run("LargeRecord", func(t *testing.T) { testLarge(t, h) })
	t.Run("CanceledContext", func(t *testing.T) { testCanceled(t, h) })
	t.Run("Close", func(t *testing.T) { testClose(t, h) })
}

func records(prefix string, n int) []sinks.Record {
	out := make([]sinks.Record, n)
	for i := range out {
		out[i] = sinks.Record{
			Key:   []byte("user" + fmt.Sprint(i%3)),
			Value: []byte(fmt.Sprintf(`{"event":"MessageNew","vnd.test.seq":"%s-%d"}`, prefix, i)),
			Time:  time.Unix(1700000000+int64(i), 0),
		}
	}
	return out
}

func values(rs []sinks.Record) [][]byte {
	out := make([][]byte, len(rs))
	for i, r := range rs {
		out[i] = bytes.Clone(r.Value)
	}
	return out
}

func mustWrite(t *testing.T, s sinks.Sink, batch []sinks.Record) {
	t.Helper()
	if err := s.Write(context.Background(), batch); err != nil {
		t.Fatalf("%s: Write: %v", s.Name(), err)
	}
}

func mustClose(t *testing.T, s sinks.Sink) {
	t.Helper()
	if err := s.Close(context.Background()); err != nil {
		t.Fatalf("%s: Close: %v", s.Name(), err)
	}
}

func equalValues(t *testing.T, got, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("read back %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("record %d: got %q, want %q", i, got[i], want[i])
		}
	}
}

func testOrder(t *testing.T, h Harness) {
	s := h.New(t)
	if s.Name() == "" {
		t.Error("Name() is empty; metrics and logs need it")
	}
	var want [][]byte
	for b := range 5 {
		batch := records(fmt.Sprint("b", b), 1+b*7)
		mustWrite(t, s, batch)
		want = append(want, values(batch)...)
		// Write returned, so the batch must be durable before Close.
		equalValues(t, h.ReadBack(t), want)
	}
	mustClose(t, s)
	equalValues(t, h.ReadBack(t), want)
}

func testEmpty(t *testing.T, h Harness) {
	s := h.New(t)
	mustWrite(t, s, nil)
	mustWrite(t, s, []sinks.Record{})
	mustClose(t, s)
	equalValues(t, h.ReadBack(t), nil)
}

func testNoRetain(t *testing.T, h Harness) {
	s := h.New(t)
	batch := records("keep", 4)
	want := values(batch)
	mustWrite(t, s, batch)
	for i := range batch {
		for j := range batch[i].Value {
			batch[i].Value[j] = 'X'
		}
	}
	mustClose(t, s)
	equalValues(t, h.ReadBack(t), want)
}

func testLarge(t *testing.T, h Harness) {
	s := h.New(t)
	big := []byte(`{"event":"MessageNew","messageContent":"` + strings.Repeat("a", 1<<20) + `"}`)
	batch := []sinks.Record{{Value: big}, {Value: []byte(`{"event":"Login"}`)}}
	mustWrite(t, s, batch)
	mustClose(t, s)
	equalValues(t, h.ReadBack(t), values(batch))
}

// testCanceled checks the all-or-error rule under cancellation: a sink may
// refuse a batch when its context is done, but if it reports success every
// record must be there.
func testCanceled(t *testing.T, h Harness) {
	s := h.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	batch := records("canceled", 3)
	err := s.Write(ctx, batch)
	mustClose(t, s)
	got := h.ReadBack(t)
	if err == nil {
		equalValues(t, got, values(batch))
	}
}

func testClose(t *testing.T, h Harness) {
	s := h.New(t)
	mustWrite(t, s, records("c", 2))
	mustClose(t, s)
	if err := s.Close(context.Background()); err != nil {
		t.Errorf("second Close: %v, want nil (Close is idempotent)", err)
	}
	if err := s.Write(context.Background(), records("late", 1)); err == nil {
		t.Error("Write after Close succeeded; it must return an error")
	}
	equalValues(t, h.ReadBack(t), values(records("c", 2)))
}
