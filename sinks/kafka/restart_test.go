package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/mailevents/mailevents/internal/kafkatest"
	"github.com/mailevents/mailevents/sinks"
)

// waitFor polls cond until it holds, failing t after timeout.
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after %v", what, timeout)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestBrokerKilledMidStream kills the whole cluster with SIGKILL while a
// goroutine writes a stream of events the way the pipeline does (retrying
// a failed Write), restarts it on the same data, and checks with kcat that
// every event arrived, duplicates only as copies of the same id, and each
// key's last copies in order.
func TestBrokerKilledMidStream(t *testing.T) {
	const (
		total     = 20000
		batchSize = 200
	)
	b := kafkatest.StartBroker(t, kafkatest.Options{Local: true})
	topic := kafkatest.TopicName(t)
	b.CreateTopic(t, topic, 3, nil)
	cfg := baseConfig(b, topic)
	cfg.WriteTimeout = Duration(5 * time.Second)
	w := mustOpen(t, cfg, Options{Logger: testLogger(t)})

	users := []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace"}
	var events []sinks.Record
	for i := range total {
		events = append(events, testEvent(users[i%len(users)], "MessageNew", "INBOX", i))
	}

	type result struct {
		pipelineRetries int
		err             error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() { done <- r }()
		for batch := range slices.Chunk(events, batchSize) {
			for attempt := 1; ; attempt++ {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				err := w.Write(ctx, batch)
				cancel()
				if err == nil {
					break
				}
				if attempt == 5 {
					r.err = fmt.Errorf("batch failed %d times: %w", attempt, err)
					return
				}
				r.pipelineRetries++
			}
		}
	}()

	waitFor(t, "delivery of a quarter of the stream", 60*time.Second, func() bool { return w.Stats().Delivered >= total/4 })
	b.Kill(t)
	// A failed send proves the kill hit the stream rather than its end.
	waitFor(t, "failed send after the kill", 60*time.Second, func() bool { return w.Stats().Errors > 0 })
	b.Restart(t)

	var r result
	select {
	case r = <-done:
	case <-time.After(120 * time.Second):
		t.Fatal("the stream did not finish within 2 minutes of the restart")
	}
	if r.err != nil {
		t.Fatalf("writer: %v", r.err)
	}
	st := w.Stats()
	t.Logf("stats %+v, whole-batch retries %d", st, r.pipelineRetries)
	if st.Resent == 0 {
		t.Errorf("Stats().Resent = 0 after %d failed sends: nothing was sent again", st.Errors)
	}

	msgs := b.Consume(t, topic)
	seen := ids(t, msgs)
	var missing []string
	for _, ev := range events {
		if seen[ev.ID] == 0 {
			missing = append(missing, ev.ID)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("%d of %d events lost, e.g. %v", len(missing), total, missing[:min(5, len(missing))])
	}
	if len(seen) != total {
		t.Errorf("read %d distinct ids, want %d", len(seen), total)
	}
	t.Logf("read %d messages for %d events (%d duplicates)", len(msgs), total, len(msgs)-total)

	// Per key, keep each seq's last copy: those must be in write order.
	lastAt := map[int]int{}
	for i, m := range msgs {
		lastAt[seqOf(t, m.Value)] = i
	}
	prev := map[string]int{}
	for i, m := range msgs {
		seq := seqOf(t, m.Value)
		if lastAt[seq] != i {
			continue
		}
		if p, ok := prev[string(m.Key)]; ok && seq < p {
			t.Fatalf("key %s: last copy of seq %d comes after that of %d", m.Key, seq, p)
		}
		prev[string(m.Key)] = seq
	}
}

// TestCloseEndsRetries checks that Close does not wait for a Write that is
// retrying against a dead cluster until its (long) context ends.
func TestCloseEndsRetries(t *testing.T) {
	b := kafkatest.StartBroker(t, kafkatest.Options{Local: true})
	topic := kafkatest.TopicName(t)
	b.CreateTopic(t, topic, 3, nil)
	w, err := Open(baseConfig(b, topic), Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, w, []sinks.Record{testEvent("alice", "Login", "", 0)})
	b.Kill(t)

	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	written := make(chan error, 1)
	go func() { written <- w.Write(ctx, []sinks.Record{testEvent("alice", "Logout", "", 1)}) }()
	waitFor(t, "failed send", 60*time.Second, func() bool { return w.Stats().Errors > 0 })

	closeCtx, closeCancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer closeCancel()
	if err := w.Close(closeCtx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-written:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("Write ended with %v, want ErrClosed", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("Write still running after Close returned")
	}
}

// TestPartitionsAdded grows a topic while a writer runs and checks that
// keyed records follow the new partition count once the metadata is
// refreshed, as a Java producer's would, and never land elsewhere.
func TestPartitionsAdded(t *testing.T) {
	const before, after = 2, 6
	b := kafkatest.StartBroker(t, kafkatest.Options{})
	topic := kafkatest.TopicName(t)
	b.CreateTopic(t, topic, before, nil)
	w := mustOpen(t, baseConfig(b, topic), Options{Logger: testLogger(t)})

	seq := 0
	writeBatch := func() {
		var batch []sinks.Record
		for u := range 24 {
			batch = append(batch, testEvent(fmt.Sprint("user", u), "MessageNew", "INBOX", seq))
			seq++
		}
		mustWrite(t, w, batch)
	}
	writeBatch()

	transport := &kafkago.Transport{}
	defer transport.CloseIdleConnections()
	client := &kafkago.Client{Addr: kafkago.TCP(b.Addrs()...), Timeout: 30 * time.Second, Transport: transport}
	res, err := client.CreatePartitions(writeCtx(t), &kafkago.CreatePartitionsRequest{
		Topics: []kafkago.TopicPartitionsConfig{{Name: topic, Count: after}},
	})
	if err == nil {
		err = res.Errors[topic]
	}
	if err != nil {
		t.Fatalf("create partitions: %v", err)
	}
	// The transport refreshes its metadata at random within 6s.
	for deadline := time.Now().Add(7 * time.Second); time.Now().Before(deadline); {
		writeBatch()
		time.Sleep(250 * time.Millisecond)
	}
	lastFrom := seq
	writeBatch()

	msgs := b.Consume(t, topic)
	if len(msgs) != seq {
		t.Fatalf("read %d messages, want %d", len(msgs), seq)
	}
	grown := false
	for _, m := range msgs {
		h := javaMurmur2(m.Key)
		old, now := javaPartition(h, before), javaPartition(h, after)
		switch {
		case m.Partition == now && now != old:
			grown = true
		case seqOf(t, m.Value) >= lastFrom && m.Partition != now:
			t.Errorf("key %q on partition %d %v after the growth; Java's partitioner puts it on %d", m.Key, m.Partition, 7*time.Second, now)
		case m.Partition != old && m.Partition != now:
			t.Errorf("key %q on partition %d; Java's partitioner puts it on %d, or %d before the growth", m.Key, m.Partition, now, old)
		}
	}
	if !grown {
		t.Errorf("no record on a partition it moved to after the growth")
	}
}
