package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/mailevents/mailevents/config"
	"github.com/mailevents/mailevents/pipeline"
	"github.com/mailevents/mailevents/seal"
	"github.com/mailevents/mailevents/sinks"
	"github.com/mailevents/mailevents/sinks/file"
	"github.com/mailevents/mailevents/sinks/kafka"
	"github.com/mailevents/mailevents/sinks/stdout"
	"github.com/mailevents/mailevents/subscription"
)

// outputs are the opened sinks of one run, with what closes them.
type outputs struct {
	events     []pipeline.Output
	deadLetter sinks.Sink
	all        []sinks.Sink
}

// sealing says how a run names the sealed streams whose configuration
// names none.
type sealing struct {
	host string
	// run is added to those names when the run is a stream of its own
	// (parse), so that two runs never continue one stream.
	run string
}

func (sl sealing) streamID(sc config.Sink) string {
	if sc.Seal.Stream != "" {
		return sc.Seal.Stream
	}
	id := seal.DefaultID(sl.host, sc.Name)
	if sl.run != "" {
		id += "@" + sl.run
	}
	return id
}

// openSeal starts the sealed stream of a sink. Its state, if saved, is
// loaded by the pipeline from the checkpoint.
func openSeal(sc config.Sink, sl sealing) (*seal.Stream, error) {
	signer, err := seal.LoadSigner(sc.Seal.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("sink %s: %w", sc.Name, err)
	}
	s, err := seal.NewStream(sl.streamID(sc), signer, sc.Seal.Interval.Std())
	if err != nil {
		return nil, fmt.Errorf("sink %s: %w", sc.Name, err)
	}
	return s, nil
}

// openOutputs opens every configured sink. What was opened before a failure
// is closed again.
func openOutputs(e env, sinkCfgs []config.Sink, deadCfg *config.Sink, sl sealing) (*outputs, error) {
	o := &outputs{}
	if deadCfg != nil {
		s, err := openSink(e, *deadCfg, nil)
		if err != nil {
			return nil, err
		}
		o.deadLetter = s
		o.all = append(o.all, s)
	}
	streams := map[string]string{}
	for _, sc := range sinkCfgs {
		s, err := openSink(e, sc, o.oversize(e, sc.Name))
		if err != nil {
			_ = o.close(context.Background())
			return nil, err
		}
		o.all = append(o.all, s)
		f, err := subscription.Compile(sc.Subscription)
		if err != nil {
			_ = o.close(context.Background())
			return nil, fmt.Errorf("sink %s: %w", sc.Name, err)
		}
		out := pipeline.Output{Sink: s, Filter: f}
		if sc.Seal != nil {
			if out.Seal, err = openSeal(sc, sl); err != nil {
				_ = o.close(context.Background())
				return nil, err
			}
			if prev, dup := streams[out.Seal.ID()]; dup {
				_ = o.close(context.Background())
				return nil, fmt.Errorf("sinks %s and %s would both write the sealed stream %q: give one a [sink.seal] stream", prev, sc.Name, out.Seal.ID())
			}
			streams[out.Seal.ID()] = sc.Name
		}
		o.events = append(o.events, out)
	}
	return o, nil
}

func openSink(e env, sc config.Sink, oversize func(sinks.Record, error)) (sinks.Sink, error) {
	switch sc.Type {
	case config.SinkStdout:
		return stdout.NewNamed(sc.Name, e.stdout), nil
	case config.SinkFile:
		opts := file.Options{Interval: sc.SyncInterval.Std(), MaxBytes: sc.MaxBytes, Keep: sc.Keep, Name: sc.Name}
		switch sc.Sync {
		case "interval":
			opts.Sync = file.SyncInterval
		case "never":
			opts.Sync = file.SyncNever
		}
		w, err := file.Open(sc.Path, opts)
		if err != nil {
			return nil, fmt.Errorf("sink %s: %w", sc.Name, err)
		}
		return w, nil
	case config.SinkKafka:
		w, err := kafka.Open(*sc.Kafka, kafka.Options{Name: sc.Name, Logger: e.log.With("sink", sc.Name), Oversize: oversize})
		if err != nil {
			return nil, fmt.Errorf("sink %s: %w", sc.Name, err)
		}
		return w, nil
	}
	return nil, fmt.Errorf("sink %s: unknown type %q", sc.Name, sc.Type)
}

// oversize routes an event a sink cannot take (larger than Kafka's message
// limit) to the dead-letter output, or reports it when there is none: never
// a silent drop. It runs inside the sink's Write, on the pipeline's
// goroutine, which is also the only writer of the dead-letter sink.
func (o *outputs) oversize(e env, sink string) func(sinks.Record, error) {
	return func(rec sinks.Record, cause error) {
		log := e.log.With("sink", sink, "id", rec.ID, "bytes", len(rec.Value))
		if o.deadLetter == nil {
			log.Error("event too large for the sink and no dead_letter output configured; it is not delivered to this sink", "err", cause)
			return
		}
		dl := []byte(`{"kind":"oversize","reason":"event larger than the sink accepts","sink":`)
		dl = strconv.AppendQuote(dl, sink)
		dl = append(dl, `,"id":`...)
		dl = strconv.AppendQuote(dl, rec.ID)
		dl = append(dl, `,"detail":`...)
		dl = strconv.AppendQuote(dl, cause.Error())
		dl = append(dl, `,"event":`...)
		dl = append(dl, rec.Value...)
		dl = append(dl, '}')
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := o.deadLetter.Write(ctx, []sinks.Record{{Value: dl, Time: rec.Time}}); err != nil {
			log.Error("event too large for the sink, and writing it to the dead-letter output failed", "err", errors.Join(cause, err))
		}
	}
}

func (o *outputs) close(ctx context.Context) error {
	var errs []error
	for _, s := range o.all {
		errs = append(errs, s.Close(ctx))
	}
	return errors.Join(errs...)
}
