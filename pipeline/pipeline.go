// Package pipeline moves lines from a source through a grammar and a mapper
// to sinks: source -> parse -> map -> validate -> encode -> batch -> sink.
// Lines that yield no event go to the dead-letter sink with their position.
package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/mailevents/mailevents/dedup"
	"github.com/mailevents/mailevents/event"
	"github.com/mailevents/mailevents/mapping"
	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/sinks"
	"github.com/mailevents/mailevents/source"
)

// DefaultBatchSize bounds a batch when input arrives faster than it is
// written; smaller batches are flushed whenever the input has nothing more
// buffered, so a pipe sees its events at once.
const DefaultBatchSize = 512

// BlankLine is the Ignored key of lines with nothing but white space: they
// carry no evidence, so they are counted, not dead-lettered.
const BlankLine = "(blank)"

// Config is what one pipeline run needs. Parsers, Mappers and at least one
// of Events and Outputs are required.
type Config struct {
	Parsers []parsers.Parser // tried in order on each line
	Mappers *mapping.Registry
	Events  sinks.Sink // shorthand for an Output that takes every event
	// Outputs are further destinations, each with its own subscription.
	Outputs []Output
	Rejects sinks.Sink // nil: rejected lines are counted only
	// Enrichers add facts the evidence lacks (a mailbox's UIDVALIDITY) to
	// each mapped event, in order, before it is validated.
	Enrichers []Enricher
	Stats     *Stats // nil: not counted
	// Dedup, when set, drops an event that repeats one another grammar
	// reported for the same action (dedup.Set); each drop is counted in
	// Stats.Deduplicated. nil: every event is written.
	Dedup     *dedup.Set
	BatchSize int
	Logger    *slog.Logger
	Metrics   *Metrics // nil: none
	// Explain, when set, receives for each line what every grammar made of
	// it and what it became (parse --explain).
	Explain io.Writer
}

// Enricher adds to a mapped event what its evidence lacks. It must not fail
// the event: what it cannot find, it leaves out.
type Enricher interface {
	Enrich(ctx context.Context, e *event.Event)
}

// Run processes every line of r, in order, until r is exhausted or ctx is
// done. A read error of one input is logged, counted and returned at the end
// (joined with any others) while reading goes on with the next input, since a
// missing file must not hide the others. A sink error ends the run: without
// the daemon's retry loop, going on would lose events.
func Run(ctx context.Context, r source.Reader, cfg Config) error {
	p, err := newProcessor(cfg)
	if err != nil {
		return err
	}
	var readErrs []error
	for {
		line, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if ctx.Err() != nil {
				p.seal(time.Now(), true)
				return errors.Join(append(readErrs, p.flush(context.WithoutCancel(ctx)), ctx.Err())...)
			}
			p.stats.ReadErrors++
			p.log.Error("reading input", "err", err)
			readErrs = append(readErrs, err)
			continue
		}
		p.line(ctx, line)
		if p.pending() >= p.batchSize || !r.Buffered() {
			if err := p.flush(ctx); err != nil {
				return err
			}
			// Everything stamped is written: a seal now covers it all.
			if p.seal(time.Now(), false) {
				if err := p.flush(ctx); err != nil {
					return err
				}
			}
		}
	}
	// A run is its own stream, sealed when it ends.
	p.seal(time.Now(), true)
	if err := p.flush(ctx); err != nil {
		return err
	}
	return errors.Join(readErrs...)
}

// processor holds the per-run state: the detector that remembers the last
// grammar, the reusable event slice, and the two batches being filled.
type processor struct {
	detector  *parsers.Detector
	mappers   *mapping.Registry
	outputs   []*output
	rejSink   sinks.Sink
	enrichers []Enricher
	dedup     *dedup.Set
	stats     *Stats
	metrics   *Metrics
	explain   *explainer
	log       *slog.Logger
	batchSize int

	rec     parsers.Record
	events  []event.Event
	rejects batch
}

func newProcessor(cfg Config) (*processor, error) {
	outs := cfg.Outputs
	if cfg.Events != nil {
		outs = append([]Output{{Sink: cfg.Events}}, outs...)
	}
	if cfg.Mappers == nil || len(outs) == 0 {
		return nil, errors.New("pipeline: Mappers and Events or Outputs are required")
	}
	p := &processor{
		detector:  parsers.NewDetector(cfg.Parsers),
		mappers:   cfg.Mappers,
		outputs:   newOutputs(outs),
		rejSink:   cfg.Rejects,
		enrichers: cfg.Enrichers,
		dedup:     cfg.Dedup,
		stats:     cfg.Stats,
		metrics:   cfg.Metrics,
		log:       cfg.Logger,
		batchSize: cfg.BatchSize,
	}
	if p.stats == nil {
		p.stats = NewStats()
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.batchSize <= 0 {
		p.batchSize = DefaultBatchSize
	}
	if cfg.Explain != nil {
		p.explain = &explainer{w: bufio.NewWriter(cfg.Explain), parsers: cfg.Parsers}
	}
	return p, nil
}

// pending is the number of records waiting in the fullest batch.
func (p *processor) pending() int {
	n := len(p.rejects.records)
	for _, o := range p.outputs {
		n = max(n, len(o.batch.records))
	}
	return n
}

// line runs one line through parse, map, validate and encode. Every line ends
// as events, as a counted ignorable line, or as exactly one dead letter.
func (p *processor) line(ctx context.Context, line source.Line) {
	p.stats.Lines++
	if p.explain != nil {
		p.explain.line(line)
	}
	if len(bytes.TrimSpace(line.Text)) == 0 {
		p.stats.Ignored[BlankLine]++
		if p.explain != nil {
			p.explain.result("blank line: counted, nothing else")
		}
		return
	}
	if line.Truncated {
		p.reject(line, "", &parsers.SyntaxError{Kind: parsers.Malformed, Reason: "line too long"})
		return
	}
	grammar, parsed, err := p.detector.Parse(line)
	name := ""
	if grammar != nil {
		name = grammar.Name()
	}
	if err != nil {
		if errors.Is(err, parsers.ErrIgnored) {
			p.stats.Ignored[name]++
			if p.explain != nil {
				p.explain.result("ignored by %s: counted, no event", name)
			}
			return
		}
		p.reject(line, name, err)
		return
	}
	p.stats.Recognised[name]++
	// The record lives in the processor: handed to a Mapper (an interface)
	// by pointer, a local would escape to the heap once per line.
	p.rec = parsed
	rec := &p.rec
	rec.Pos = line.Position
	if rec.Grammar == "" {
		rec.Grammar = name
	}
	for i := range p.events {
		p.events[i].Release() // encoded already; their storage serves this line
	}
	p.events, err = p.mappers.Map(p.events[:0], rec)
	if err != nil {
		p.reject(line, name, err)
		return
	}
	for i := range p.events {
		ev := &p.events[i]
		for _, en := range p.enrichers {
			en.Enrich(ctx, ev)
		}
		ev.SetString(event.ID, event.ComputeID(line.Text, i, ev.Type))
		ev.Set(event.Source, sourceOf(line.Position))
		ev.SetString(event.Server, rec.Server)
		if err := ev.Validate(); err != nil {
			// All or nothing: emitting the valid events of a line and not
			// the others would alter what the line said.
			p.reject(line, name, err)
			return
		}
	}
	for i := range p.events {
		ev := &p.events[i]
		if p.dedup != nil && p.dedup.Duplicate(ev, name, rec.Time) {
			p.stats.Deduplicated[ev.Type]++
			if p.explain != nil {
				p.explain.result("%s %s dropped: another grammar reported the same action", ev.Type, ev.GetString(event.ID))
			}
			continue
		}
		if p.explain != nil {
			p.explain.result("%s %s (by %s, action %q)", ev.Type, ev.GetString(event.ID), name, rec.Action)
		}
		p.stats.Events[ev.Type]++
		for _, o := range p.outputs {
			o.add(ev, rec.Time)
		}
	}
}

// seal adds a seal to the batch of each sealed output that is due one, and
// reports whether it added any. The seal covers every event stamped so
// far, which are in the sink or earlier in the batch.
func (p *processor) seal(now time.Time, final bool) bool {
	added := false
	for _, o := range p.outputs {
		if o.addSeal(now, final) {
			added = true
		}
	}
	return added
}

func (p *processor) reject(line source.Line, grammar string, err error) {
	r := Reject{Pos: line.Position, Grammar: grammar, Line: line.Text, Truncated: line.Truncated}
	var se *parsers.SyntaxError
	var ve *event.ValidationError
	switch {
	case errors.As(err, &se):
		r.Kind, r.Reason, r.Detail = se.Kind.String(), se.Reason, se.Detail
	case errors.Is(err, mapping.ErrUnmapped):
		r.Kind, r.Reason, r.Detail = KindUnmapped, "no RFC 5423 event for this action", err.Error()
	case errors.As(err, &ve):
		r.Kind, r.Reason, r.Detail = KindInvalid, "mapped event fails validation", err.Error()
	default:
		r.Kind, r.Reason, r.Detail = KindInternal, "grammar or mapper error", err.Error()
	}
	p.stats.Rejected[r.Kind+": "+r.Reason]++
	p.metrics.rejected(grammar, r.Kind, r.Reason)
	if p.explain != nil {
		by := "no grammar recognises it"
		if grammar != "" {
			by = "decided by " + grammar
		}
		detail := ""
		if r.Detail != "" {
			detail = " (" + r.Detail + ")"
		}
		p.explain.result("rejected, %s: %s: %s%s", by, r.Kind, r.Reason, detail)
	}
	if p.rejSink != nil {
		p.rejects.addReject(&r)
	}
}

// flush writes the pending events to every output, then the pending dead
// letters. After an error it can be called again: outputs that were written
// are not written twice.
func (p *processor) flush(ctx context.Context) error {
	if p.explain != nil {
		if err := p.explain.w.Flush(); err != nil {
			return fmt.Errorf("writing the explanation: %w", err)
		}
	}
	for _, o := range p.outputs {
		if err := o.write(ctx, p.metrics); err != nil {
			return fmt.Errorf("writing events: %w", err)
		}
	}
	if p.rejSink != nil {
		if err := writeMeasured(ctx, &p.rejects, p.rejSink, p.metrics); err != nil {
			return fmt.Errorf("writing rejected lines: %w", err)
		}
	}
	for _, o := range p.outputs {
		o.done = false
	}
	return nil
}
