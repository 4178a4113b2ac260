package kafka

import (
	kafkago "github.com/segmentio/kafka-go"

	"github.com/mailevents/mailevents/event"
	"github.com/mailevents/mailevents/sinks"
)

// Header names.
const (
	HeaderType = "mailevents-type"
	HeaderID   = "mailevents-id"
	HeaderHost = "mailevents-host"

	// DeadLetterType is the mailevents-type of a dead letter.
	DeadLetterType = "dead-letter"
)

// messageOverhead bounds what a message costs beyond its key, value and
// header bytes: kafka-go's own size estimate (crc, magic, attributes,
// timestamp, length prefixes) plus varint lengths per header. A record in
// a v2 record batch usually takes less, so max_message_bytes and
// batch_bytes err on the safe side.
const (
	messageOverhead = 4 + 1 + 1 + 8 + 4 + 4 + 5
	headerOverhead  = 5 + 5
)

// oversized is a record set aside: its index in the batch and why.
type oversized struct {
	rec int
	err error
}

// encoder turns records into kafka-go messages, copying every byte into
// its own arena: the batch belongs to the caller once Write returns, while
// kafka-go's transport may still be encoding a request of an abandoned
// (cancelled or timed out) Write.
type encoder struct {
	cfg     *Config
	headers bool
	routed  bool

	// Reused between Writes unless abandon was called: then kafka-go may
	// still read them, so the next encode starts afresh.
	arena []byte
	msgs  []kafkago.Message
	hdrs  []kafkago.Header
	recs  []int
}

// abandon drops the buffers after a Write returned with messages possibly
// still in kafka-go's hands.
func (e *encoder) abandon() { e.arena, e.msgs, e.hdrs, e.recs = nil, nil, nil, nil }

// encode returns the messages to send and, for each, the index of its
// record in batch, plus the records over max_message_bytes, which are left
// out. The slices are valid until the next encode.
func (e *encoder) encode(batch []sinks.Record) (msgs []kafkago.Message, recs []int, over []oversized) {
	arena, msgs, hdrs, recs := e.arena[:0], e.msgs[:0], e.hdrs[:0], e.recs[:0]
	for i := range batch {
		rec := &batch[i]
		var u event.URL
		haveURL := false
		if rec.URI != "" && (e.headers || e.cfg.Key == KeyMailbox) {
			var err error
			u, err = event.ParseURL(rec.URI)
			haveURL = err == nil
		}

		m := kafkago.Message{Time: rec.Time}
		if e.routed {
			m.Topic = e.topic(rec)
		}
		start := len(arena)
		arena = e.appendKey(arena, rec, u, haveURL)
		if len(arena) > start {
			// A nil key, not an empty one: Murmur2Balancer hashes an empty
			// key to one fixed partition but spreads nil keys randomly.
			m.Key = arena[start:len(arena):len(arena)]
		}
		start = len(arena)
		arena = append(arena, rec.Value...)
		m.Value = arena[start:len(arena):len(arena)]

		if e.headers {
			hstart := len(hdrs)
			add := func(k string, v string) {
				s := len(arena)
				arena = append(arena, v...)
				hdrs = append(hdrs, kafkago.Header{Key: k, Value: arena[s:len(arena):len(arena)]})
			}
			if rec.Type == "" {
				add(HeaderType, DeadLetterType)
			} else {
				add(HeaderType, rec.Type)
			}
			if rec.ID != "" {
				add(HeaderID, rec.ID)
			}
			if haveURL && u.Host != "" {
				add(HeaderHost, u.Host)
			}
			m.Headers = hdrs[hstart:len(hdrs):len(hdrs)]
		}

		if size := messageSize(&m); size > e.cfg.MaxMessageBytes {
			over = append(over, oversized{rec: i, err: &TooLargeError{
				ID: rec.ID, Type: rec.Type, Size: size, Max: e.cfg.MaxMessageBytes,
			}})
			continue
		}
		msgs = append(msgs, m)
		recs = append(recs, i)
	}
	e.arena, e.msgs, e.hdrs, e.recs = arena, msgs, hdrs, recs
	return msgs, recs, over
}

// topic routes a record by its event's group.
func (e *encoder) topic(rec *sinks.Record) string {
	if rec.Type != "" {
		if g := event.Type(rec.Type).Group(); g != "" {
			if t, ok := e.cfg.TopicByGroup[string(g)]; ok {
				return t
			}
		}
	}
	return e.cfg.Topic
}

// appendKey appends the record's key per cfg.Key; nothing means no key.
func (e *encoder) appendKey(dst []byte, rec *sinks.Record, u event.URL, haveURL bool) []byte {
	switch e.cfg.Key {
	case KeyNone:
		return dst
	case KeyID:
		return append(dst, rec.ID...)
	case KeyMailbox:
		if haveURL && u.Mailbox != "" {
			// The mailbox as a whole: a new UIDVALIDITY or another message
			// is still the same mailbox, and its events stay in order.
			u.UIDValidity, u.UID = 0, 0
			return u.AppendTo(dst)
		}
	}
	// The pipeline sets Key to the user; User covers a caller that did not.
	if len(rec.Key) > 0 {
		return append(dst, rec.Key...)
	}
	return append(dst, rec.User...)
}

// messageSize is the size counted against max_message_bytes.
func messageSize(m *kafkago.Message) int {
	n := messageOverhead + len(m.Key) + len(m.Value)
	for _, h := range m.Headers {
		n += headerOverhead + len(h.Key) + len(h.Value)
	}
	return n
}
