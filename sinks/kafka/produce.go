package kafka

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"

	kafkago "github.com/segmentio/kafka-go"
)

// maxInFlight bounds the produce requests one Write has outstanding. The
// transport gives each concurrent request a connection of its own, so
// without a bound a topic of many partitions would open as many
// connections to each broker.
const maxInFlight = 16

// errSkipped is the outcome of a message not sent in an attempt because an
// earlier request to its partition failed: sending it anyway could put it
// on the partition before a message that precedes it in the batch.
var errSkipped = errors.New("not sent: an earlier request to its partition failed")

// outcome is what the attempts of one Write did with each message; every
// slice is indexed like the Write's messages.
type outcome struct {
	errs  []error // the last attempt's result; nil is acknowledged
	alone []bool  // the last attempt sent it in a request of its own
	solo  []bool  // a request holding it was refused as too large: send it alone from now on
	acked []bool  // acknowledged at least once, and counted in Delivered

	// unsafe is set when a request ended without the broker's answer
	// (cancelled, timed out, connection lost): the transport may still be
	// encoding it from the encoder's buffers.
	unsafe atomic.Bool
}

func newOutcome(n int) *outcome {
	return &outcome{
		errs:  make([]error, n),
		alone: make([]bool, n),
		solo:  make([]bool, n),
		acked: make([]bool, n),
	}
}

// partitionJob is one partition's share of an attempt, in batch order.
type partitionJob struct {
	topic     string
	partition int
	idx       []int
}

// attempt sends the pending messages once: it partitions them, then sends
// each partition's requests in order, several partitions at once, and
// records each message's result in out.
//
// Write holds the whole batch, so unlike kafka-go's Writer it knows when a
// partition's last request is complete and need not wait for more
// messages that will not come.
func (w *Writer) attempt(ctx context.Context, msgs []kafkago.Message, pending []int, out *outcome) {
	for _, i := range pending {
		out.errs[i], out.alone[i] = nil, false
	}
	jobs := w.assign(ctx, msgs, pending, out)
	if len(jobs) == 1 {
		w.produceJob(ctx, msgs, &jobs[0], out)
		return
	}
	work := make(chan *partitionJob)
	var wg sync.WaitGroup
	for range min(len(jobs), maxInFlight) {
		wg.Go(func() {
			for j := range work {
				w.produceJob(ctx, msgs, j, out)
			}
		})
	}
	for i := range jobs {
		work <- &jobs[i]
	}
	close(work)
	wg.Wait()
}

// assign chooses each pending message's partition with the balancer, over
// the partition counts the transport's cached metadata gives. A message
// whose topic has no usable metadata gets that error as its outcome.
func (w *Writer) assign(ctx context.Context, msgs []kafkago.Message, pending []int, out *outcome) []partitionJob {
	var topics []string
	for _, i := range pending {
		if t := w.topicOf(&msgs[i]); !slices.Contains(topics, t) {
			topics = append(topics, t)
		}
	}
	counts, err := w.partitionCounts(ctx, topics)
	if err != nil {
		for _, i := range pending {
			out.errs[i] = err
		}
		return nil
	}
	type key struct {
		topic     string
		partition int
	}
	var jobs []partitionJob
	index := make(map[key]int)
	for _, i := range pending {
		m := &msgs[i]
		t := w.topicOf(m)
		ti := counts[t]
		if ti.err != nil {
			out.errs[i] = ti.err
			continue
		}
		k := key{t, w.balancer.Balance(*m, w.partitionList(ti.partitions)...)}
		j, ok := index[k]
		if !ok {
			j = len(jobs)
			index[k] = j
			jobs = append(jobs, partitionJob{topic: k.topic, partition: k.partition})
		}
		jobs[j].idx = append(jobs[j].idx, i)
	}
	return jobs
}

// topicInfo is a topic's partition count, or why it cannot be written.
type topicInfo struct {
	partitions int
	err        error
}

// partitionCounts looks topics up in the transport's metadata cache, which
// it refreshes every few seconds (so new partitions are used soon after
// they appear) and afresh after send drops it on a failed attempt.
func (w *Writer) partitionCounts(ctx context.Context, topics []string) (map[string]topicInfo, error) {
	res, err := w.client.Metadata(ctx, &kafkago.MetadataRequest{Topics: topics})
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	info := make(map[string]topicInfo, len(topics))
	for _, t := range res.Topics {
		ti := topicInfo{partitions: len(t.Partitions), err: t.Error}
		if ti.err == nil && ti.partitions == 0 {
			ti.err = kafkago.LeaderNotAvailable
		}
		if ti.err != nil {
			ti.err = fmt.Errorf("topic %s: %w", t.Name, ti.err)
		}
		info[t.Name] = ti
	}
	for _, t := range topics {
		if _, ok := info[t]; !ok {
			info[t] = topicInfo{err: fmt.Errorf("topic %s: %w", t, kafkago.UnknownTopicOrPartition)}
		}
	}
	return info, nil
}

// partitionList returns the partitions 0 to n-1, as the balancer takes them.
func (w *Writer) partitionList(n int) []int {
	for len(w.parts) < n {
		w.parts = append(w.parts, len(w.parts))
	}
	return w.parts[:n]
}

func (w *Writer) topicOf(m *kafkago.Message) string {
	if m.Topic != "" {
		return m.Topic
	}
	return w.cfg.Topic
}

// produceJob sends one partition's messages, as few requests as the size
// limits allow, one after the other so that they land in batch order.
func (w *Writer) produceJob(ctx context.Context, msgs []kafkago.Message, job *partitionJob, out *outcome) {
	rest := job.idx
	for len(rest) > 0 {
		n := w.requestLen(msgs, rest, out.solo)
		req := rest[:n]
		rest = rest[n:]
		if n == 1 {
			out.alone[req[0]] = true
		}
		err := w.produce(ctx, job.topic, job.partition, msgs, req, out)
		if err == nil {
			continue
		}
		w.log.Debug("kafka: produce request failed",
			"topic", job.topic, "partition", job.partition, "messages", n, "err", err)
		for _, i := range req {
			out.errs[i] = err
		}
		if n == 1 && errors.Is(err, kafkago.MessageSizeTooLarge) {
			// The refusal is final and the record leaves the batch for the
			// dead letters, so nothing after it can overtake it.
			continue
		}
		for _, i := range rest {
			out.errs[i] = errSkipped
		}
		return
	}
}

// requestLen is how many of idx, from the first, go in one request: at most
// batch_size records and batch_bytes bytes, and a record marked solo alone.
func (w *Writer) requestLen(msgs []kafkago.Message, idx []int, solo []bool) int {
	if solo[idx[0]] {
		return 1
	}
	var size int64
	for n, i := range idx {
		if n == w.cfg.BatchSize || solo[i] {
			return n
		}
		size += int64(messageSize(&msgs[i]))
		if n > 0 && size > w.cfg.BatchBytes {
			return n
		}
	}
	return len(idx)
}

// produce sends one request and returns its error, the broker's included.
func (w *Writer) produce(ctx context.Context, topic string, partition int, msgs []kafkago.Message, idx []int, out *outcome) error {
	res, err := w.client.Produce(ctx, &kafkago.ProduceRequest{
		Topic:        topic,
		Partition:    partition,
		RequiredAcks: w.acks,
		Compression:  w.codec,
		Records:      &recordReader{msgs: msgs, idx: idx},
	})
	if err != nil {
		out.unsafe.Store(true)
		return err
	}
	if res != nil && res.Error != nil { // res is nil with required_acks = "none"
		return res.Error
	}
	return nil
}

// recordReader hands kafka-go the messages of one request without copying
// them or allocating per record.
type recordReader struct {
	msgs       []kafkago.Message
	idx        []int
	rec        kafkago.Record
	key, value bytesReader
}

func (r *recordReader) ReadRecord() (*kafkago.Record, error) {
	if len(r.idx) == 0 {
		return nil, io.EOF
	}
	m := &r.msgs[r.idx[0]]
	r.idx = r.idx[1:]
	// kafka-go reads each record before asking for the next, so one Record
	// and one reader each for key and value serve the whole request.
	r.rec = kafkago.Record{Time: m.Time, Headers: m.Headers}
	if m.Key != nil {
		r.key.Reset(m.Key)
		r.rec.Key = &r.key
	}
	if m.Value != nil {
		r.value.Reset(m.Value)
		r.rec.Value = &r.value
	}
	return &r.rec, nil
}

type bytesReader struct{ bytes.Reader }

func (*bytesReader) Close() error { return nil }
