package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/mailevents/mailevents/config"
)

type checkCmd struct {
	Config string `help:"The configuration file to check." placeholder:"FILE" default:"/etc/mailevents/mailevents.toml"`
}

func (c *checkCmd) Help() string {
	return `Reads the configuration as mailevents run would, strictly: an unknown key,
a value of the wrong kind or a setting that cannot work is reported with its
key and line, all problems at once. Exit status 0 when the file is valid,
1 when it is not. Check a change before reloading the daemon:

  mailevents check --config /etc/mailevents/mailevents.toml && systemctl reload mailevents`
}

// errInvalidConfig is returned after the problems were printed, so that run
// exits 1 without printing them a second time.
var errInvalidConfig = errors.New("invalid configuration")

func (c *checkCmd) Run(e env) error {
	cfg, err := config.Load(c.Config)
	var ce *config.Error
	if errors.As(err, &ce) {
		fmt.Fprintf(e.stderr, "%s: %d problem(s):\n", ce.File, len(ce.Problems))
		for _, p := range ce.Problems {
			fmt.Fprintf(e.stderr, "  %s\n", p)
		}
		return silentError{errInvalidConfig}
	}
	if err != nil {
		return err
	}
	describe(e.stdout, c.Config, cfg)
	for _, n := range notes(cfg) {
		fmt.Fprintf(e.stderr, "note: %s\n", n)
	}
	return nil
}

// describe says what the daemon will do with the configuration.
func describe(w io.Writer, file string, cfg *config.Config) {
	fmt.Fprintf(w, "%s: OK\n", file)
	fmt.Fprintf(w, "state: %s\n", filepath.Join(cfg.StateDir, checkpointFile))
	for _, in := range cfg.Inputs {
		what := in.Type
		switch in.Type {
		case config.InputFile:
			what = strings.Join(in.Paths, ", ")
		case config.InputJournald:
			what = "journald " + strings.Join(append(append([]string{}, in.Units...), in.Identifiers...), ", ")
		case config.InputCyrusNotify:
			what = in.Socket + " (" + in.SocketMode + ")"
		}
		fmt.Fprintf(w, "input %s: %s, grammar %s\n", in.Name, what, in.Grammar)
	}
	sinkLine := func(kind string, s config.Sink) {
		what := s.Type
		switch s.Type {
		case config.SinkFile:
			what = "file " + s.Path + ", sync " + s.Sync
		case config.SinkKafka:
			what = "kafka " + strings.Join(s.Kafka.Brokers, ",") + " topic " + s.Kafka.Topic
		}
		fmt.Fprintf(w, "%s %s: %s\n", kind, s.Name, what)
	}
	for _, s := range cfg.Sinks {
		sinkLine("sink", s)
	}
	if cfg.DeadLetter != nil {
		sinkLine("dead letters", *cfg.DeadLetter)
	} else {
		fmt.Fprintln(w, "dead letters: counted only (no [dead_letter])")
	}
}

// notes are facts about this machine worth knowing that do not make the
// file invalid: a log that does not exist yet is followed once it appears.
func notes(cfg *config.Config) []string {
	var out []string
	for _, in := range cfg.Inputs {
		for _, p := range in.Paths {
			if m, _ := filepath.Glob(p); len(m) == 0 {
				out = append(out, fmt.Sprintf("input %s: nothing matches %s yet; it is followed once it appears", in.Name, p))
			}
		}
	}
	for _, s := range append(append([]config.Sink{}, cfg.Sinks...), deref(cfg.DeadLetter)...) {
		if s.Type == config.SinkFile {
			if _, err := os.Stat(filepath.Dir(s.Path)); err != nil {
				out = append(out, fmt.Sprintf("sink %s: directory %s does not exist; the daemon will not start until it does", s.Name, filepath.Dir(s.Path)))
			}
		}
	}
	return out
}

func deref(s *config.Sink) []config.Sink {
	if s == nil {
		return nil
	}
	return []config.Sink{*s}
}
