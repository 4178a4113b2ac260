package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/mailevents/mailevents/sinks"
)

// Options are the sink's wiring, as opposed to its user-facing Config.
type Options struct {
	// Logger receives retries, and each failed produce request at debug
	// level; nil discards them. The sink adds no attribute naming itself:
	// the caller's logger is expected to carry one.
	Logger *slog.Logger
	// Oversize receives each record set aside as too large, with a
	// *TooLargeError, once the rest of its batch is acknowledged; the
	// daemon wires it to its dead-letter output. It is called from Write,
	// and like Write must not retain the record. If nil, a batch holding an
	// oversized record fails.
	Oversize func(rec sinks.Record, err error)
	// Name identifies the sink in metrics and logs; default "kafka:"+topic.
	Name string
}

// Stats are the sink's counters since Open.
type Stats struct {
	// Delivered counts messages acknowledged by the brokers, once per
	// Write that sent them (a batch the pipeline writes again counts again).
	Delivered uint64
	// Resent counts messages Write sent again after a failed attempt.
	Resent uint64
	// Oversize counts records set aside as too large.
	Oversize uint64
	// Errors counts failed send attempts.
	Errors uint64
}

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("sink closed")

// ErrTooLarge is what a *TooLargeError wraps.
var ErrTooLarge = errors.New("record too large for Kafka")

// TooLargeError describes a record that was not sent because of its size.
type TooLargeError struct {
	ID   string // the record's vnd.mailevents.id, "" for a dead letter
	Type string // the record's event type, "" for a dead letter
	Size int    // bytes counted against the limit, before compression
	Max  int    // max_message_bytes
	// Broker is true when the broker refused the record (MESSAGE_TOO_LARGE:
	// the topic's max.message.bytes is below max_message_bytes).
	Broker bool
}

func (e *TooLargeError) Error() string {
	what := "dead letter"
	if e.ID != "" {
		what = fmt.Sprintf("record id %q (%s)", e.ID, e.Type)
	}
	if e.Broker {
		return fmt.Sprintf("%s of %d bytes: the broker refused it as too large (topic max.message.bytes is below max_message_bytes %d)", what, e.Size, e.Max)
	}
	return fmt.Sprintf("%s is %d bytes, over max_message_bytes %d", what, e.Size, e.Max)
}

func (e *TooLargeError) Unwrap() error { return ErrTooLarge }

// Write's own backoff between attempts, doubling from the first to the cap.
const (
	retryBackoffMin = 100 * time.Millisecond
	retryBackoffMax = 5 * time.Second
)

// Writer is a Kafka sink. Write and Close may be called from different
// goroutines; Write is not called concurrently with itself.
type Writer struct {
	name     string
	cfg      Config // with defaults applied
	log      *slog.Logger
	oversize func(sinks.Record, error)
	headers  bool
	routed   bool // cfg.TopicByGroup is in use: every message names its topic

	transport *kafkago.Transport
	client    *kafkago.Client
	balancer  kafkago.Balancer
	acks      kafkago.RequiredAcks
	codec     kafkago.Compression

	// sem serialises Write and Close; a channel rather than a mutex so that
	// both can give up when their context ends.
	sem       chan struct{}
	done      chan struct{} // closed by Close, ending a Write's retry wait
	closeOnce sync.Once
	closed    bool // guarded by sem

	// Guarded by sem.
	enc   encoder
	parts []int // 0, 1, 2...: the balancer's partition list

	delivered, resent, oversized, errs atomic.Uint64
}

// Open validates cfg, loads its TLS files and SASL secret, and returns a
// Writer. It does not contact the brokers: the first Write does, so a
// daemon can start while Kafka is down and catch up when it returns.
func Open(cfg Config, opts Options) (*Writer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("kafka sink: %w", err)
	}
	cfg = cfg.withDefaults()
	tlsConf, err := cfg.TLS.load()
	if err != nil {
		return nil, fmt.Errorf("kafka sink: %w", err)
	}
	mech, err := cfg.SASL.load()
	if err != nil {
		return nil, fmt.Errorf("kafka sink: %w", err)
	}
	w := &Writer{
		name:     opts.Name,
		cfg:      cfg,
		log:      opts.Logger,
		oversize: opts.Oversize,
		headers:  *cfg.Headers,
		routed:   len(cfg.TopicByGroup) > 0,
		sem:      make(chan struct{}, 1),
		done:     make(chan struct{}),
		acks:     ackValue(cfg.RequiredAcks),
		codec:    codecValue(cfg.Compression),
	}
	if w.name == "" {
		w.name = "kafka:" + cfg.Topic
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if mech != nil && strings.EqualFold(cfg.SASL.Mechanism, "plain") && tlsConf == nil {
		w.log.Warn("kafka: SASL PLAIN without TLS sends the password in clear text")
	}
	w.transport = &kafkago.Transport{ClientID: cfg.ClientID, TLS: tlsConf, SASL: mech}
	w.client = &kafkago.Client{
		Addr:      kafkago.TCP(cfg.Brokers...),
		Timeout:   time.Duration(cfg.WriteTimeout),
		Transport: w.transport,
	}
	// Consistent false: a nil key gets a random partition and any other
	// key the Java client's murmur2 partition, which is librdkafka's
	// default murmur2_random. Consistent true would send every unkeyed
	// message (dead letters, key = "none") to one hot partition.
	w.balancer = kafkago.Murmur2Balancer{}
	w.enc = encoder{cfg: &w.cfg, headers: w.headers, routed: w.routed}
	return w, nil
}

// Name implements sinks.Sink.
func (w *Writer) Name() string { return w.name }

// Stats returns the sink's counters.
func (w *Writer) Stats() Stats {
	return Stats{
		Delivered: w.delivered.Load(),
		Resent:    w.resent.Load(),
		Oversize:  w.oversized.Load(),
		Errors:    w.errs.Load(),
	}
}

// Write implements sinks.Sink: it returns nil once every record of batch is
// acknowledged or, if too large, handed to Options.Oversize.
func (w *Writer) Write(ctx context.Context, batch []sinks.Record) error {
	select {
	case w.sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("kafka sink %s: %w", w.name, ctx.Err())
	}
	defer func() { <-w.sem }()
	if w.closed {
		return fmt.Errorf("kafka sink %s: %w", w.name, ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("kafka sink %s: %w", w.name, err)
	}
	if len(batch) == 0 {
		return nil
	}

	msgs, recs, over := w.enc.encode(batch)
	if len(over) > 0 && w.oversize == nil {
		// Sending the rest would only add duplicates: the pipeline retries
		// the whole batch, which fails the same way.
		return w.unhandled(over)
	}
	refused, err := w.send(ctx, msgs)
	if err != nil {
		return err
	}
	for _, i := range refused {
		rec := &batch[recs[i]]
		over = append(over, oversized{rec: recs[i], err: &TooLargeError{
			ID: rec.ID, Type: rec.Type, Size: messageSize(&msgs[i]), Max: w.cfg.MaxMessageBytes, Broker: true,
		}})
	}
	if len(over) == 0 {
		return nil
	}
	if w.oversize == nil {
		return w.unhandled(over)
	}
	slices.SortFunc(over, func(a, b oversized) int { return a.rec - b.rec })
	for _, o := range over {
		w.oversized.Add(1)
		w.oversize(batch[o.rec], o.err)
	}
	return nil
}

// unhandled is Write's error for oversized records without Options.Oversize.
func (w *Writer) unhandled(over []oversized) error {
	errs := make([]error, len(over))
	for i, o := range over {
		errs[i] = o.err
	}
	return fmt.Errorf("kafka sink %s: no oversize handler: %w", w.name, errors.Join(errs...))
}

// Close implements sinks.Sink. It waits for a Write in progress to end,
// unless ctx ends first, and closes the connections. A Write waiting to
// send again ends at once; one waiting for the brokers' answers ends when
// they answer or write_timeout passes, so that an attempt that succeeds is
// reported as such. It is idempotent.
func (w *Writer) Close(ctx context.Context) error {
	w.closeOnce.Do(func() { close(w.done) })
	select {
	case w.sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("kafka sink %s: close: %w", w.name, ctx.Err())
	}
	defer func() { <-w.sem }()
	if w.closed {
		return nil
	}
	w.closed = true
	w.transport.CloseIdleConnections()
	return nil
}

func ackValue(s string) kafkago.RequiredAcks {
	switch s {
	case "one":
		return kafkago.RequireOne
	case "none":
		return kafkago.RequireNone
	}
	return kafkago.RequireAll
}

func codecValue(s string) kafkago.Compression {
	switch s {
	case "gzip":
		return kafkago.Gzip
	case "snappy":
		return kafkago.Snappy
	case "lz4":
		return kafkago.Lz4
	case "zstd":
		return kafkago.Zstd
	}
	return 0
}

var _ sinks.Sink = (*Writer)(nil)
