package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailevents/mailevents/checkpoint"
	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/source"
)

// Defaults of DaemonConfig.
const (
	DefaultBatchLatency    = 100 * time.Millisecond
	DefaultSaveInterval    = 2 * time.Second
	DefaultQueueChunks     = 16
	DefaultShutdownTimeout = 10 * time.Second
	DefaultStateBudget     = 768 << 10
	minRetryWait           = 100 * time.Millisecond
	maxRetryWait           = 30 * time.Second
)

// FollowedLine is a line of a followed input with what the checkpoint needs
// to commit it once its events are acknowledged.
type FollowedLine struct {
	source.Line
	// Key names the file the line's offsets belong to. A zero Path means
	// the line cannot be checkpointed (stdin, a socket): after a crash it
	// is not read again.
	Key checkpoint.FileKey
	// Cursor is the journald cursor of the line, committed with it.
	Cursor string
}

// Input is a followed source: Next blocks until a line arrives or ctx ends,
// and returns io.EOF only for an input that ends (stdin). Any other error is
// reported and Next is called again after a pause: an input stays usable.
type Input interface {
	Name() string
	Next(ctx context.Context) (FollowedLine, error)
	Buffered() bool
	Close() error
}

// DaemonInput is an input with the grammars tried on its lines.
type DaemonInput struct {
	Input
	Parsers []parsers.Parser // nil: Config.Parsers
}

// StateSaver is the mapping's correlation state, saved with the checkpoint
// (mapping.Registry implements it).
type StateSaver interface {
	SaveState(budget int) (map[string][]byte, error)
	LoadState(blobs map[string][]byte) error
}

// DaemonConfig is what Follow needs beyond Config.
type DaemonConfig struct {
	Config
	Inputs []DaemonInput
	// Store receives the positions of acknowledged lines; nil: none kept.
	Store *checkpoint.Store
	// State is saved into Store with every save, under names prefixed
	// "mapping."; nil: none.
	State       StateSaver
	StateBudget int // bytes; DefaultStateBudget when 0
	// BatchLatency bounds how long an event waits for its batch to fill
	// while lines keep arriving; an idle input flushes at once.
	BatchLatency time.Duration
	SaveInterval time.Duration // how often acknowledged positions are saved
	QueueChunks  int           // chunks in circulation between readers and the processor
	// ShutdownTimeout bounds the final flush and save once ctx is done.
	ShutdownTimeout time.Duration
	// Heartbeat, when set, is stored the current time whenever the
	// processor is alive and making progress or retrying, for a watchdog.
	Heartbeat *atomic.Int64
}

// Follow runs the daemon's pipeline until ctx is done or every input has
// ended: readers, one per input, hand chunks of lines to a single processor
// that parses, maps, batches and writes them to every output, retrying a
// failed write with backoff for as long as it takes. Only then are the
// lines' positions committed to the store, and the store is saved, with the
// mapping's state, at moments when nothing read is unacknowledged, so that
// the saved state describes exactly the saved positions.
//
// A sink that stays down stops the processor in its retry loop; the chunks
// fill up and the readers stop reading, so memory stays bounded and nothing
// is dropped. When ctx ends, Follow flushes what it has within
// ShutdownTimeout and saves; lines still queued are not committed and are
// read again at the next start.
func Follow(ctx context.Context, cfg DaemonConfig) error {
	d, err := newDaemon(cfg)
	if err != nil {
		return err
	}
	return d.run(ctx)
}

type daemon struct {
	cfg       DaemonConfig
	p         *processor
	detectors []*parsers.Detector
	pool      chunkPool
	queue     chan *chunk
	acks      map[checkpoint.FileKey]checkpoint.Position
	// ackOrder is the order in which the keys of acks were first read, so
	// that a rotated file is committed (and forgotten) before the file that
	// replaced it, never after.
	ackOrder []checkpoint.FileKey
	// lastKey is the file each path was last committed in, so that the
	// entry of a file that rotation replaced can be forgotten.
	lastKey map[string]checkpoint.FileKey
	oldest  time.Time // when the oldest unflushed line was processed
	unsaved bool
	// saved: a save has happened in this run. The first commit is saved
	// at once: until then a file followed without a checkpoint would, after
	// a crash and a rotation, be looked for as on a first start.
	saved bool
	// saver writes the checkpoint off the processing goroutine; nil once
	// the final save has run (or without a store).
	saver    *saver
	readErrs atomic.Int64
}

func newDaemon(cfg DaemonConfig) (*daemon, error) {
	p, err := newProcessor(cfg.Config)
	if err != nil {
		return nil, err
	}
	if len(cfg.Inputs) == 0 {
		return nil, errors.New("pipeline: no inputs")
	}
	if cfg.BatchLatency <= 0 {
		cfg.BatchLatency = DefaultBatchLatency
	}
	if cfg.SaveInterval <= 0 {
		cfg.SaveInterval = DefaultSaveInterval
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	if cfg.StateBudget <= 0 {
		cfg.StateBudget = DefaultStateBudget
	}
	// Each reader may hold a chunk while it waits for a line; two more keep
	// the processor busy while the readers fill theirs.
	n := max(cfg.QueueChunks, DefaultQueueChunks/2, 2*len(cfg.Inputs)+2)
	d := &daemon{
		cfg:     cfg,
		p:       p,
		pool:    newChunkPool(n),
		queue:   make(chan *chunk, n),
		acks:    map[checkpoint.FileKey]checkpoint.Position{},
		lastKey: map[string]checkpoint.FileKey{},
	}
	for _, in := range cfg.Inputs {
		ps := in.Parsers
		if ps == nil {
			ps = cfg.Parsers
		}
		d.detectors = append(d.detectors, parsers.NewDetector(ps))
	}
	if err := d.loadState(); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *daemon) run(ctx context.Context) error {
	readCtx, stopReading := context.WithCancel(ctx)
	var readers sync.WaitGroup
	for i, in := range d.cfg.Inputs {
		readers.Add(1)
		go func() {
			defer readers.Done()
			d.read(readCtx, i, in.Input)
		}()
	}
	go func() {
		readers.Wait()
		close(d.queue)
	}()
	if d.cfg.Store != nil {
		d.saver = newSaver(d.cfg.Store)
	}
	err := d.process(ctx)
	if d.saver != nil {
		// The final save did not run (it failed before): still wait for
		// the writes in flight.
		err = errors.Join(err, d.saver.close())
	}
	stopReading()
	// The readers leave once their Next sees the cancelled context; the
	// chunks they were still handing over are not acknowledged, so they
	// are simply read again at the next start.
	for range d.queue {
	}
	var closeErrs []error
	for _, in := range d.cfg.Inputs {
		closeErrs = append(closeErrs, in.Close())
	}
	return errors.Join(append([]error{err}, closeErrs...)...)
}

// read hands the lines of one input to the processor in chunks, handing a
// chunk over as soon as the input has nothing more buffered so that a quiet
// log's line is not held back.
func (d *daemon) read(ctx context.Context, idx int, in Input) {
	log := d.p.log.With("input", in.Name())
	wait := minRetryWait
	for {
		c, err := d.pool.get(ctx, idx)
		if err != nil {
			return
		}
		for {
			l, err := in.Next(ctx)
			if errors.Is(err, io.EOF) {
				c.eof = true
				break
			}
			if err != nil {
				if ctx.Err() != nil {
					d.pool.put(c)
					return
				}
				d.readErrs.Add(1)
				log.Warn("reading input", "err", err, "retry_in", wait)
				if !sleep(ctx, wait) {
					d.pool.put(c)
					return
				}
				wait = min(2*wait, maxRetryWait)
				if len(c.lines) > 0 {
					break
				}
				continue
			}
			wait = minRetryWait
			c.add(l)
			if c.full() || !in.Buffered() {
				break
			}
		}
		select {
		case d.queue <- c:
		case <-ctx.Done():
			d.pool.put(c)
			return
		}
		if c.eof {
			return
		}
	}
}

// process is the single goroutine that owns the mapping state, the batches
// and the acknowledgements.
func (d *daemon) process(ctx context.Context) error {
	save := time.NewTicker(d.cfg.SaveInterval)
	defer save.Stop()
	for {
		d.beat()
		var c *chunk
		var ok bool
		select {
		case c, ok = <-d.queue:
		default:
			// Nothing queued: the inputs are idle, so write what is
			// pending now rather than wait for a batch to fill.
			if d.unflushed() {
				if err := d.flush(ctx); err != nil {
					return d.shutdown(ctx, err)
				}
				continue
			}
			select {
			case c, ok = <-d.queue:
			case <-save.C:
				if err := d.save(ctx, false); err != nil {
					return d.shutdown(ctx, err)
				}
				continue
			case <-ctx.Done():
				return d.shutdown(ctx, nil)
			}
		}
		if !ok {
			return d.shutdown(ctx, nil) // every input ended
		}
		d.consume(ctx, c)
		if d.p.pending() >= d.p.batchSize || (d.unflushed() && time.Since(d.oldest) >= d.cfg.BatchLatency) {
			if err := d.flush(ctx); err != nil {
				return d.shutdown(ctx, err)
			}
		}
		select {
		case <-save.C:
			if err := d.flush(ctx); err != nil {
				return d.shutdown(ctx, err)
			}
			if err := d.save(ctx, false); err != nil {
				return d.shutdown(ctx, err)
			}
		case <-ctx.Done():
			return d.shutdown(ctx, nil)
		default:
		}
	}
}

// consume runs a chunk's lines through the processor and records, per file,
// the position after the last of them, to commit once they are written.
func (d *daemon) consume(ctx context.Context, c *chunk) {
	defer d.pool.put(c)
	if !d.unflushed() {
		d.oldest = time.Now()
		d.p.metrics.setOldest(d.oldest)
	}
	d.p.metrics.read(d.cfg.Inputs[c.input].Name(), len(c.lines))
	d.p.detector = d.detectors[c.input]
	for i := range c.lines {
		d.p.line(ctx, c.line(i))
		cl := &c.lines[i]
		if cl.key.Path != "" && (i+1 == len(c.lines) || c.lines[i+1].key != cl.key) {
			if _, seen := d.acks[cl.key]; !seen {
				d.ackOrder = append(d.ackOrder, cl.key)
			}
			d.acks[cl.key] = checkpoint.Position{Offset: cl.pos.End, Cursor: cl.cursor}
		}
	}
}

func (d *daemon) unflushed() bool { return d.p.pending() > 0 || len(d.acks) > 0 }

// flush writes the pending batches to every output, retrying with backoff
// until they are written or ctx ends, then commits the positions of the lines
// they came from.
func (d *daemon) flush(ctx context.Context) error {
	if err := d.write(ctx); err != nil {
		return err
	}
	d.commit()
	d.oldest = time.Time{}
	d.p.metrics.setOldest(d.oldest)
	if !d.saved && d.unsaved {
		return d.save(ctx, false)
	}
	return nil
}

// write writes the pending batches, retrying with backoff until they are
// written or ctx ends.
func (d *daemon) write(ctx context.Context) error {
	wait := minRetryWait
	for {
		err := d.p.flush(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return err
		}
		d.p.stats.SinkErrors++
		d.p.log.Warn("write failed; retrying, input paused", "err", err, "retry_in", wait)
		d.beat()
		if !sleep(ctx, wait) {
			return err
		}
		wait = min(2*wait, maxRetryWait)
	}
	return nil
}

func (d *daemon) commit() {
	store := d.cfg.Store
	defer func() {
		clear(d.acks)
		d.ackOrder = d.ackOrder[:0]
	}()
	if store == nil {
		return
	}
	for _, key := range d.ackOrder {
		pos := d.acks[key]
		if err := store.Commit(key, pos); err != nil {
			d.p.log.Error("committing position", "err", err)
			continue
		}
		if old, ok := d.lastKey[key.Path]; ok && old != key {
			// Lines of a path's next file come after the previous file
			// was read to its end, so its entry will not be needed again.
			store.Forget(old)
		}
		d.lastKey[key.Path] = key
		d.unsaved = true
	}
}

// shutdown flushes and saves within ShutdownTimeout. cause is the error that
// ended processing, nil for a requested stop.
func (d *daemon) shutdown(ctx context.Context, cause error) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.cfg.ShutdownTimeout)
	defer cancel()
	var errs []error
	if cause != nil && !errors.Is(cause, context.Canceled) {
		errs = append(errs, cause)
	}
	if err := d.flush(sctx); err != nil {
		errs = append(errs, fmt.Errorf("final flush: %w (the unwritten lines are read again at the next start)", err))
	} else if err := d.save(sctx, true); err != nil {
		errs = append(errs, fmt.Errorf("final checkpoint save: %w", err))
	}
	return errors.Join(errs...)
}

func (d *daemon) beat() {
	if d.cfg.Heartbeat != nil {
		d.cfg.Heartbeat.Store(time.Now().UnixNano())
	}
}

// sleep waits for d or until ctx ends, and reports whether it waited.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
