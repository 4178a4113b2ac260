package kafka

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// send produces msgs until each is acknowledged, or refused by the broker
// as too large (their indexes are returned), or ctx or Close ends it.
func (w *Writer) send(ctx context.Context, msgs []kafkago.Message) (refused []int, err error) {
	if len(msgs) == 0 { // every record set aside: no need to reach the brokers
		return nil, nil
	}
	out := newOutcome(len(msgs))
	defer func() {
		if out.unsafe.Load() {
			w.enc.abandon()
		}
	}()
	pending := make([]int, len(msgs))
	for i := range pending {
		pending[i] = i
	}
	delay := retryBackoffMin
	for attempt := 1; ; attempt++ {
		w.attempt(ctx, msgs, pending, out)
		next, tooLarge, err := w.classify(pending, msgs, out)
		refused = append(refused, tooLarge...)
		if err == nil {
			if len(tooLarge) > 0 {
				w.errs.Add(1)
			}
			return refused, nil
		}
		w.errs.Add(1)
		if ctx.Err() != nil {
			return refused, fmt.Errorf("kafka sink %s: %d of %d messages not acknowledged: %w", w.name, len(next), len(msgs), ctx.Err())
		}
		var r retryable
		if !errors.As(err, &r) {
			return refused, err
		}
		// The transport routes by its cached metadata, which it refreshes
		// only every few seconds, even after Not Leader For Partition:
		// after a failover or a cluster restart every retry until then
		// would go to the old leader. Dropping the connection pools drops
		// that cache, and the next attempt starts from fresh metadata. A
		// failed attempt is rare, and what can still be in flight belongs
		// to an abandoned Write, which the pipeline sends again.
		w.transport.CloseIdleConnections()
		w.resent.Add(uint64(len(next)))
		w.log.Warn("kafka: send failed; sending again",
			"failed", len(next), "of", len(msgs), "attempt", attempt, "backoff", delay, "err", r.err)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return refused, fmt.Errorf("kafka sink %s: %d of %d messages not acknowledged after %d attempts: %w (last error: %w)",
				w.name, len(next), len(msgs), attempt, ctx.Err(), r.err)
		case <-w.done:
			t.Stop()
			return refused, fmt.Errorf("kafka sink %s: %d of %d messages not acknowledged after %d attempts: %w (last error: %w)",
				w.name, len(next), len(msgs), attempt, ErrClosed, r.err)
		}
		delay = min(2*delay, retryBackoffMax)
		pending = next
	}
}

// retryable marks an error after which send tries again.
type retryable struct{ err error }

func (r retryable) Error() string { return r.err.Error() }
func (r retryable) Unwrap() error { return r.err }

// classify sorts the outcome of one attempt. It counts the acknowledged
// messages as delivered, marks those refused as too large in a request
// shared with others to be sent alone, and returns the messages to send
// again, in order, those the broker refused as too large when sent alone,
// and a retryable error to log, or the error that ends Write.
func (w *Writer) classify(pending []int, msgs []kafkago.Message, out *outcome) (next, tooLarge []int, err error) {
	var last error
	// dirty holds the (topic, key)s that had a failure: the later messages
	// with that key go again too, so the last copy of each stays in order.
	// A failed request stops its partition, so this matters only when a
	// key changes partition between attempts (the topic grew).
	var dirty map[string]bool
	for _, i := range pending {
		m := &msgs[i]
		var gk string
		if m.Key != nil {
			gk = m.Topic + "\x00" + string(m.Key)
		}
		e := out.errs[i]
		switch {
		case e == nil:
			if !out.acked[i] {
				out.acked[i] = true
				w.delivered.Add(1)
			}
			if m.Key != nil && dirty[gk] {
				next = append(next, i)
			}
			continue
		case errors.Is(e, kafkago.MessageSizeTooLarge) && out.alone[i]:
			tooLarge = append(tooLarge, i)
			continue
		case errors.Is(e, kafkago.MessageSizeTooLarge):
			// The broker's refusal of a request does not say which of its
			// records is too large.
			out.solo[i] = true
		case permanent(e):
			return nil, nil, fmt.Errorf("kafka sink %s: %w", w.name, e)
		}
		if last == nil || !errors.Is(e, errSkipped) {
			last = e
		}
		if m.Key != nil {
			if dirty == nil {
				dirty = make(map[string]bool)
			}
			dirty[gk] = true
		}
		next = append(next, i)
	}
	if last == nil {
		return next, tooLarge, nil
	}
	return next, tooLarge, retryable{last}
}

// permanent reports errors that another attempt will not cure: the broker
// refused on principle (authorization, an unsupported codec or acks) or the
// TLS peer is not trusted. Write returns them at once rather than retrying
// until its context ends; the pipeline still retries the batch.
func permanent(err error) bool {
	var ke kafkago.Error
	if errors.As(err, &ke) {
		return !ke.Temporary() && ke != kafkago.MessageSizeTooLarge
	}
	var ve *tls.CertificateVerificationError
	return errors.As(err, &ve)
}
