package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/mailevents/mailevents/checkpoint"
	"github.com/mailevents/mailevents/config"
	"github.com/mailevents/mailevents/pipeline"
	"github.com/mailevents/mailevents/source"
	"github.com/mailevents/mailevents/source/cyrusnotify"
	"github.com/mailevents/mailevents/source/follow"
	"github.com/mailevents/mailevents/source/journald"
)

// openInputs opens every configured input; what was opened before a failure
// is closed again.
func openInputs(ctx context.Context, e env, cfgs []config.Input, store *checkpoint.Store) ([]pipeline.DaemonInput, error) {
	var ins []pipeline.DaemonInput
	for _, ic := range cfgs {
		in, err := openInput(ctx, e, ic, store)
		if err != nil {
			for _, o := range ins {
				_ = o.Close()
			}
			return nil, fmt.Errorf("input %s: %w", ic.Name, err)
		}
		ps, err := e.grammars.forName(ic.Grammar)
		if err != nil {
			_ = in.Close()
			for _, o := range ins {
				_ = o.Close()
			}
			return nil, fmt.Errorf("input %s: %w", ic.Name, err)
		}
		ins = append(ins, pipeline.DaemonInput{Input: in, Parsers: ps})
	}
	return ins, nil
}

func openInput(ctx context.Context, e env, ic config.Input, store *checkpoint.Store) (pipeline.Input, error) {
	log := e.log.With("input", ic.Name)
	switch ic.Type {
	case config.InputFile:
		return openFileInput(ic, store, log)
	case config.InputJournald:
		return openJournalInput(ic, store, log)
	case config.InputStdin:
		r, err := source.Open("-", source.Options{Stdin: e.stdin})
		if err != nil {
			return nil, err
		}
		return &stdinInput{name: ic.Name, r: r}, nil
	case config.InputCyrusNotify:
		return openNotifyInput(ctx, ic, log)
	}
	return nil, fmt.Errorf("unknown input type %q", ic.Type)
}

// stdinInput reads stdin to its end; its lines cannot be read again, so
// they carry no checkpoint key.
type stdinInput struct {
	name string
	r    source.Reader
}

func (s *stdinInput) Name() string { return s.name }
func (s *stdinInput) Next(ctx context.Context) (pipeline.FollowedLine, error) {
	l, err := s.r.Next(ctx)
	return pipeline.FollowedLine{Line: l}, err
}
func (s *stdinInput) Buffered() bool { return s.r.Buffered() }
func (s *stdinInput) Close() error   { return s.r.Close() }

// notifyInput receives Cyrus's native notifications. Cyrus sends each one
// once and never again, so there is nothing to checkpoint: a notification is
// safe once the pipeline has written it, and one received just before a
// crash is lost with the process (in stream mode, Cyrus was told "OK" once
// it was queued here). The queue is small so that, in stream mode, a stalled
// sink makes Cyrus wait rather than this process buffer without bound.
type notifyInput struct {
	name   string
	l      *cyrusnotify.Listener
	lines  chan pipeline.FollowedLine
	cancel context.CancelFunc
	done   chan error
}

const notifyQueue = 256

func openNotifyInput(ctx context.Context, ic config.Input, log *slog.Logger) (*notifyInput, error) {
	var l *cyrusnotify.Listener
	var err error
	if ic.SocketMode == "stream" {
		l, err = cyrusnotify.ListenStream(ic.Socket)
	} else {
		l, err = cyrusnotify.Listen(ic.Socket)
	}
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	n := &notifyInput{name: ic.Name, l: l, lines: make(chan pipeline.FollowedLine, notifyQueue), cancel: cancel, done: make(chan error, 1)}
	go func() {
		n.done <- l.Serve(sctx, func(ctx context.Context, nt cyrusnotify.Notification) error {
			line := pipeline.FollowedLine{Line: nt.Line}
			line.Text = append([]byte(nil), nt.Line.Text...) // the listener reuses its buffer
			select {
			case n.lines <- line:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	log.Info("listening for Cyrus notifications", "socket", ic.Socket, "mode", ic.SocketMode)
	return n, nil
}

func (n *notifyInput) Name() string { return n.name }
func (n *notifyInput) Next(ctx context.Context) (pipeline.FollowedLine, error) {
	select {
	case l := <-n.lines:
		return l, nil
	case err := <-n.done:
		if err == nil || errors.Is(err, context.Canceled) {
			err = io.EOF
		}
		return pipeline.FollowedLine{}, err
	case <-ctx.Done():
		return pipeline.FollowedLine{}, ctx.Err()
	}
}
func (n *notifyInput) Buffered() bool { return len(n.lines) > 0 }
func (n *notifyInput) Close() error {
	n.cancel()
	return n.l.Close()
}

// fileInput follows files and globs; each line carries its file's key.
type fileInput struct {
	name string
	m    *follow.Multi
}

func openFileInput(ic config.Input, store *checkpoint.Store, log *slog.Logger) (*fileInput, error) {
	m, err := follow.OpenGlob(ic.Paths, follow.GlobOptions{
		Resume:       follow.StoreResume(store),
		FromStart:    ic.FromStart,
		Poll:         ic.Poll,
		PollInterval: ic.PollInterval.Std(),
		Logger:       log,
	})
	if err != nil {
		return nil, err
	}
	return &fileInput{name: ic.Name, m: m}, nil
}

func (f *fileInput) Name() string { return f.name }
func (f *fileInput) Next(ctx context.Context) (pipeline.FollowedLine, error) {
	l, err := f.m.NextLine(ctx)
	return pipeline.FollowedLine{Line: l.Line, Key: l.File}, err
}
func (f *fileInput) Buffered() bool { return f.m.Buffered() }
func (f *fileInput) Close() error   { return f.m.Close() }

// journalInput follows journalctl; its lines are committed by cursor.
type journalInput struct {
	name string
	key  checkpoint.FileKey
	r    *journald.Reader
}

func openJournalInput(ic config.Input, store *checkpoint.Store, log *slog.Logger) (*journalInput, error) {
	key := journald.Key(ic.Name)
	opts := journald.Options{
		Name: ic.Name, Units: ic.Units, Identifiers: ic.Identifiers,
		FromStart: ic.FromStart, Journalctl: ic.Journalctl, Logger: log,
	}
	if p, ok := store.Position(key); ok {
		opts.After, opts.Offset = p.Cursor, p.Offset
	}
	r, err := journald.Open(opts)
	if err != nil {
		return nil, err
	}
	return &journalInput{name: ic.Name, key: key, r: r}, nil
}

func (j *journalInput) Name() string { return j.name }
func (j *journalInput) Next(ctx context.Context) (pipeline.FollowedLine, error) {
	l, err := j.r.NextLine(ctx)
	if err != nil {
		return pipeline.FollowedLine{}, err
	}
	return pipeline.FollowedLine{Line: l.Line, Key: j.key, Cursor: l.Cursor}, nil
}
func (j *journalInput) Buffered() bool { return j.r.Buffered() }
func (j *journalInput) Close() error   { return j.r.Close() }
