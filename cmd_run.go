package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	sddaemon "github.com/coreos/go-systemd/v22/daemon"

	"github.com/mailevents/mailevents/checkpoint"
	"github.com/mailevents/mailevents/config"
	"github.com/mailevents/mailevents/dedup"
	"github.com/mailevents/mailevents/enrich"
	"github.com/mailevents/mailevents/pipeline"
)

type runCmd struct {
	Config          string        `help:"The configuration file (TOML); see mailevents.toml(5)." placeholder:"FILE" type:"path"`
	StateDir        string        `name:"state-dir" help:"Directory of the checkpoint; overrides state_dir (default /var/lib/mailevents)." placeholder:"DIR" type:"path"`
	Output          []string      `sep:"none" help:"Where events go: -, file:PATH or kafka://HOST:PORT[,HOST:PORT]/TOPIC; repeatable (default -). Without --config only." placeholder:"URL"`
	DeadLetter      string        `name:"dead-letter" help:"Write each line that yields no event to URL (file:PATH or -), with its source and offset. Without --config only." placeholder:"URL"`
	FromStart       bool          `name:"from-start" help:"Read files that have no checkpoint from their beginning (backfill) instead of their end."`
	ResetCheckpoint bool          `name:"reset-checkpoint" help:"Discard the checkpoint instead of stopping on one that cannot be read; files are then read as on a first start."`
	Server          string        `help:"Grammar of the files given on the command line." enum:"auto,dovecot,cyrus,dovecot-push,cyrus-json" default:"auto"`
	Host            string        `help:"Server name for IMAP URLs when a line names none; default: this machine's name." placeholder:"NAME"`
	Poll            bool          `help:"Poll files instead of using inotify."`
	MetricsListen   string        `name:"metrics-listen" help:"Serve Prometheus metrics (/metrics) and /healthz on HOST:PORT, e.g. 127.0.0.1:9154; overrides metrics_listen (default: off)." placeholder:"ADDR"`
	CheckpointEvery time.Duration `name:"checkpoint-interval" help:"How often acknowledged positions are saved; after a crash at most this much is read again. Overrides checkpoint_interval (default 2s)." placeholder:"DURATION"`
	SealKey         string        `name:"seal-key" help:"Seal every output with this Ed25519 private key (mailevents keygen), as [sink.seal] key_file does; the streams go on across restarts. Without --config only." placeholder:"FILE" type:"path"`
	Files           []string      `arg:"" optional:"" help:"Log files or globs to follow; '-' reads stdin to its end. Without --config only." placeholder:"LOGFILE|GLOB"`
}

func (c *runCmd) Help() string {
	return `Follows log files across rotation and writes their RFC 5423 events, like
parse, but without end: a line's position is saved in the checkpoint only
after every output has acknowledged its events, so a restart, a crash or an
output that is down for a while loses nothing (a crash can repeat events, with
the same vnd.mailevents.id).

Signals: SIGTERM or SIGINT writes what is pending, saves the checkpoint and
exits (a second one exits at once); SIGHUP reloads the configuration if it is
valid (keeping the running one if not) and reopens output files.

Examples:
  mailevents run --state-dir /var/lib/mailevents /var/log/mail.log
  mailevents run --output file:/var/log/mailevents/events.jsonl '/var/log/dovecot/*.log'
  mailevents run --config /etc/mailevents/mailevents.toml`
}

// checkpointFile is the checkpoint's name inside the state directory.
const checkpointFile = "checkpoint.json"

func (c *runCmd) Run(ctx context.Context, e env) error {
	cfg, err := c.load()
	if err != nil {
		return err
	}
	// Signals, not the caller's context, stop the daemon: the first SIGTERM
	// drains and the second forces, which needs one place that counts them.
	sigs := e.signals
	if sigs == nil {
		ch := make(chan os.Signal, 4)
		signal.Notify(ch, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
		defer signal.Stop(ch)
		sigs = ch
	}
	if ctx.Err() != nil {
		return nil // stopped before it started
	}
	ctx = context.WithoutCancel(ctx)
	obs := newObservability()
	if c.MetricsListen != "" {
		cfg.MetricsListen = c.MetricsListen
	}
	if cfg.MetricsListen != "" {
		stop, err := obs.serve(ctx, cfg.MetricsListen, e.log)
		if err != nil {
			return err
		}
		defer stop()
		e.log.Info("serving metrics", "addr", cfg.MetricsListen)
	}
	reset := c.ResetCheckpoint
	for {
		next, err := c.serve(ctx, e, cfg, reset, sigs, obs)
		if next == nil {
			return err
		}
		cfg, reset = next, false
	}
}

// load builds the configuration from --config or from the command line.
func (c *runCmd) load() (*config.Config, error) {
	if c.CheckpointEvery != 0 && c.CheckpointEvery < 100*time.Millisecond {
		return nil, usageError{fmt.Errorf("--checkpoint-interval must be at least 100ms, got %s", c.CheckpointEvery)}
	}
	if c.Config != "" {
		if len(c.Files) > 0 || len(c.Output) > 0 || c.DeadLetter != "" || c.SealKey != "" {
			return nil, usageError{errors.New("with --config, inputs and outputs come from the file: drop the log files, --output, --dead-letter and --seal-key")}
		}
		cfg, err := config.Load(c.Config)
		if err != nil {
			return nil, err
		}
		if c.StateDir != "" {
			cfg.StateDir = c.StateDir
		}
		if c.Host != "" {
			cfg.Host = c.Host
		}
		if c.CheckpointEvery > 0 {
			cfg.CheckpointInterval = config.Duration(c.CheckpointEvery)
		}
		return cfg, nil
	}
	if len(c.Files) == 0 {
		return nil, usageError{errors.New("give log files to follow, or --config")}
	}
	cfg := &config.Config{StateDir: c.StateDir, Host: c.Host, CheckpointInterval: config.Duration(c.CheckpointEvery)}
	if cfg.StateDir == "" {
		cfg.StateDir = config.DefaultStateDir
	}
	var paths []string
	for _, f := range c.Files {
		if f == "-" {
			cfg.Inputs = append(cfg.Inputs, config.Input{Name: "stdin", Type: config.InputStdin, Grammar: c.Server})
			continue
		}
		abs, err := filepath.Abs(f)
		if err != nil {
			return nil, err
		}
		paths = append(paths, abs)
	}
	if len(paths) > 0 {
		cfg.Inputs = append(cfg.Inputs, config.Input{Name: "files", Type: config.InputFile, Grammar: c.Server,
			Paths: paths, FromStart: c.FromStart, Poll: c.Poll})
	}
	sinks, err := config.OutputSinks(c.Output, c.SealKey)
	if err != nil {
		return nil, usageError{err}
	}
	cfg.Sinks = sinks
	if c.DeadLetter != "" {
		s, err := config.SinkFromURL(c.DeadLetter)
		if err != nil {
			return nil, usageError{err}
		}
		s.Name = "dead_letter"
		cfg.DeadLetter = &s
	}
	return cfg, nil
}

// serve runs the daemon with cfg until it stops (next == nil) or SIGHUP asks
// for a reload (next is the configuration to go on with).
func (c *runCmd) serve(ctx context.Context, e env, cfg *config.Config, reset bool, sigs <-chan os.Signal, obs *observability) (next *config.Config, err error) {
	store, err := openStore(cfg.StateDir, reset)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := store.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("saving the checkpoint: %w", cerr))
		}
	}()
	host := cfg.Host
	if host == "" {
		host, _ = os.Hostname()
	}
	mappers := e.grammars.newMappers(mapperOptions{host: host})
	all, err := e.grammars.forName("auto")
	if err != nil {
		return nil, err
	}
	outs, err := openOutputs(e, cfg.Sinks, cfg.DeadLetter, sealing{host: host})
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, outs.close(context.WithoutCancel(ctx))) }()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	ins, err := openInputs(runCtx, e, cfg.Inputs, store)
	if err != nil {
		return nil, err
	}
	heartbeat := &obs.heartbeat
	heartbeat.Store(time.Now().UnixNano())
	obs.stale.Store(int64(2 * max(cfg.CheckpointInterval.Std(), pipeline.DefaultSaveInterval, 30*time.Second)))
	dcfg := pipeline.DaemonConfig{
		Config: pipeline.Config{
			Parsers: all,
			Mappers: mappers,
			Outputs: outs.events,
			Rejects: outs.deadLetter,
			Stats:   pipeline.NewStats(),
			Logger:  e.log,
			Metrics: obs.metrics,
		},
		Inputs:          ins,
		Store:           store,
		BatchLatency:    cfg.BatchLatency.Std(),
		SaveInterval:    cfg.CheckpointInterval.Std(),
		QueueChunks:     cfg.QueueChunks,
		ShutdownTimeout: cfg.ShutdownTimeout.Std(),
		Heartbeat:       heartbeat,
	}
	dcfg.BatchSize = cfg.BatchSize
	if s, ok := any(mappers).(pipeline.StateSaver); ok {
		dcfg.State = s
	}
	if cfg.Mapping.Dedup {
		dcfg.Dedup = dedup.New(0, 0)
	}
	if cfg.Mapping.UIDValidity {
		dcfg.Enrichers = append(dcfg.Enrichers, &enrich.UIDValidity{Doveadm: strings.Fields(cfg.Mapping.Doveadm)})
	}

	done := make(chan error, 1)
	go func() { done <- pipeline.Follow(runCtx, dcfg) }()
	e.log.Info("running", "inputs", len(ins), "outputs", len(outs.events), "checkpoint", store.Path())
	sdNotify(e, sddaemon.SdNotifyReady)
	stopWatchdog := startWatchdog(e, heartbeat)
	defer stopWatchdog()

	for {
		select {
		case err := <-done:
			return nil, err
		case sig := <-sigs:
			if sig != syscall.SIGHUP {
				return nil, c.stop(e, cancel, done, sigs)
			}
			next := cfg
			if c.Config != "" {
				reloaded, err := config.Load(c.Config)
				if err != nil {
					e.log.Error("reload: keeping the running configuration", "err", err)
				} else {
					if c.StateDir != "" {
						reloaded.StateDir = c.StateDir
					}
					if c.Host != "" {
						reloaded.Host = c.Host
					}
					next = reloaded
				}
			}
			e.log.Info("SIGHUP: restarting inputs and reopening outputs")
			sdNotify(e, sddaemon.SdNotifyReloading)
			cancel()
			if err := <-done; err != nil {
				return nil, err
			}
			return next, nil
		}
	}
}

// stop ends the run gracefully; a second SIGTERM or SIGINT while it drains
// exits at once, leaving what was not acknowledged to the next start.
func (c *runCmd) stop(e env, cancel context.CancelFunc, done <-chan error, sigs <-chan os.Signal) error {
	sdNotify(e, sddaemon.SdNotifyStopping)
	e.log.Info("stopping: writing pending events and saving the checkpoint")
	cancel()
	for {
		select {
		case err := <-done:
			return err
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				continue
			}
			e.log.Warn("second signal: exiting without waiting; unacknowledged lines are read again at the next start")
			e.exit(exitRuntime)
			return errors.New("forced exit")
		}
	}
}

// openStore opens the checkpoint in dir, creating dir if needed.
func openStore(dir string, reset bool) (*checkpoint.Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	path := filepath.Join(dir, checkpointFile)
	if reset {
		return checkpoint.OpenFresh(path)
	}
	s, err := checkpoint.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w\n(to start anyway, reading files as on a first start, use --reset-checkpoint; copy the file aside first to keep it)", err)
	}
	return s, nil
}

func sdNotify(e env, state string) {
	if _, err := sddaemon.SdNotify(false, state); err != nil {
		e.log.Warn("sd_notify", "err", err)
	}
}

// startWatchdog pets systemd's watchdog while the pipeline shows progress,
// so that a pipeline stuck somewhere it should not be is restarted.
func startWatchdog(e env, heartbeat *atomic.Int64) (stop func()) {
	interval, err := sddaemon.SdWatchdogEnabled(false)
	if err != nil || interval <= 0 {
		return func() {}
	}
	t := time.NewTicker(interval / 3)
	quit := make(chan struct{})
	go func() {
		for {
			select {
			case <-t.C:
				// The processor beats at least every checkpoint interval
				// and every retry (at most 30 s apart): WatchdogSec must
				// exceed both.
				if time.Since(time.Unix(0, heartbeat.Load())) < interval {
					sdNotify(e, sddaemon.SdNotifyWatchdog)
				}
			case <-quit:
				return
			}
		}
	}()
	return func() { t.Stop(); close(quit) }
}
