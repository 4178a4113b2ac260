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
	pending := make([]int, len(msgs))
	for i := range pending {
		pending[i] = i
	}
	acked := make([]bool, len(msgs))
	out := make([]kafkago.Message, 0, len(msgs))
	solo := false
	delay := retryBackoffMin
	for attempt := 1; ; attempt++ {
		kw := w.kw
		if solo {
			kw = w.soloWriter()
		}
		out = out[:0]
		for _, i := range pending {
			out = append(out, msgs[i])
		}
		err := kw.WriteMessages(ctx, out...)
		if err == nil {
			w.ack(acked, pending)
			return refused, nil
		}
		if ctx.Err() != nil {
			// kafka-go may still be sending what it was given.
			w.enc.abandon()
			return refused, fmt.Errorf("kafka sink %s: %d of %d messages not acknowledged: %w", w.name, len(pending), len(msgs), ctx.Err())
		}
		w.errs.Add(1)

		var next, tooLarge []int
		var nextSolo bool
		var werrs kafkago.WriteErrors
		if errors.As(err, &werrs) && len(werrs) == len(pending) {
			next, tooLarge, nextSolo, err = w.classify(pending, werrs, msgs, acked, solo)
			refused = append(refused, tooLarge...)
		} else {
			// Failed before anything was sent (metadata, connection): all again.
			next = pending
			if permanent(err) {
				err = fmt.Errorf("kafka sink %s: %w", w.name, err)
			} else {
				err = retryable{err}
			}
		}
		var r retryable
		switch {
		case err == nil:
			// Only refusals of single messages: everything else is acknowledged.
			return refused, nil
		case !errors.As(err, &r):
			return refused, err
		}
		// kafka-go keeps routing by its cached metadata, for up to the
		// transport's 6s MetadataTTL, even after Not Leader For Partition:
		// after a failover or a cluster restart every retry until then would
		// go to the old leader. Dropping the connection pools drops that
		// cache. A failed attempt is rare, and what can still be in flight
		// belongs to an abandoned Write, which the pipeline sends again.
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
		pending, solo = next, nextSolo
	}
}

// retryable marks an error after which send tries again.
type retryable struct{ err error }

func (r retryable) Error() string { return r.err.Error() }
func (r retryable) Unwrap() error { return r.err }

// classify sorts the outcome of one attempt. It returns the messages to
// send again, in order, and those the broker refused as too large when each
// was sent alone; whether the next attempt must send one message per
// request to find out which ones are too large; and a retryable error to
// log, or the error that ends Write.
func (w *Writer) classify(pending []int, werrs kafkago.WriteErrors, msgs []kafkago.Message, acked []bool, solo bool) (next, tooLarge []int, nextSolo bool, err error) {
	var last error
	// dirty holds the (topic, key)s that had a failure: the later messages
	// with that key go again too, so the last copy of each stays in order.
	var dirty map[string]bool
	for j, i := range pending {
		m := &msgs[i]
		var gk string
		if m.Key != nil {
			gk = m.Topic + "\x00" + string(m.Key)
		}
		e := werrs[j]
		switch {
		case e == nil:
			if !acked[i] {
				acked[i] = true
				w.delivered.Add(1)
			}
			if m.Key != nil && dirty[gk] {
				next = append(next, i)
			}
			continue
		case errors.Is(e, kafkago.MessageSizeTooLarge) && solo:
			tooLarge = append(tooLarge, i)
			continue
		case errors.Is(e, kafkago.MessageSizeTooLarge):
			// One produce request holds several messages, and the broker's
			// refusal does not say which one is too large.
			nextSolo = true
		case permanent(e):
			return nil, nil, false, fmt.Errorf("kafka sink %s: %w", w.name, e)
		}
		last = e
		if m.Key != nil {
			if dirty == nil {
				dirty = make(map[string]bool)
			}
			dirty[gk] = true
		}
		next = append(next, i)
	}
	if last == nil {
		return next, tooLarge, nextSolo, nil
	}
	return next, tooLarge, nextSolo, retryable{last}
}

func (w *Writer) ack(acked []bool, idx []int) {
	for _, i := range idx {
		if !acked[i] {
			acked[i] = true
			w.delivered.Add(1)
		}
	}
}

func (w *Writer) soloWriter() *kafkago.Writer {
	if w.solo == nil {
		w.solo = w.newKafkaWriter(1)
	}
	return w.solo
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
