package config

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mailevents/mailevents/seal"
	"github.com/mailevents/mailevents/subscription"
)

// Grammars an input may name.
var Grammars = []string{"auto", "dovecot", "cyrus", "dovecot-push", "cyrus-json"}

// validate returns every problem, each naming its key.
func (c *Config) validate() []Problem {
	var ps []Problem
	add := func(key, format string, args ...any) {
		ps = append(ps, Problem{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if !filepath.IsAbs(c.StateDir) {
		add("state_dir", "must be an absolute path, got %q", c.StateDir)
	}
	if d := c.CheckpointInterval.Std(); d != 0 && d < 100*time.Millisecond {
		add("checkpoint_interval", "must be at least 100ms, got %s", d)
	}
	if d := c.BatchLatency.Std(); d > time.Minute {
		add("batch_latency", "must be at most 1m, got %s", d)
	}
	if c.BatchSize < 0 || c.BatchSize > 100_000 {
		add("batch_size", "must be between 1 and 100000, got %d", c.BatchSize)
	}
	if c.QueueChunks < 0 || c.QueueChunks > 4096 {
		add("queue_chunks", "must be between 1 and 4096, got %d", c.QueueChunks)
	}
	if c.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
			add("metrics_listen", "want HOST:PORT, e.g. \"127.0.0.1:9154\": %v", err)
		}
	}
	if len(c.Inputs) == 0 {
		add("input", "no [[input]]: the daemon would read nothing")
	}
	names := map[string]string{}
	for i, in := range c.Inputs {
		key := fmt.Sprintf("input[%d]", i+1)
		if prev, dup := names[in.Name]; dup {
			add(key+".name", "%q is already the name of %s", in.Name, prev)
		}
		names[in.Name] = key
		ps = append(ps, in.validate(key)...)
	}
	stdouts := 0
	sinkNames := map[string]string{}
	for i := range c.Sinks {
		s := &c.Sinks[i]
		key := fmt.Sprintf("sink[%d]", i+1)
		if prev, dup := sinkNames[s.Name]; dup {
			add(key+".name", "%q is already the name of %s", s.Name, prev)
		}
		sinkNames[s.Name] = key
		if s.Type == SinkStdout {
			stdouts++
			if stdouts == 2 {
				add(key+".type", "a second stdout sink would interleave with the first")
			}
		}
		ps = append(ps, s.validate(key)...)
	}
	streams := map[string]string{}
	for i := range c.Sinks {
		if sc := c.Sinks[i].Seal; sc != nil && sc.Stream != "" {
			key := fmt.Sprintf("sink[%d].seal.stream", i+1)
			if prev, dup := streams[sc.Stream]; dup {
				add(key, "%q is already the stream of %s: two sinks cannot share a sealed stream", sc.Stream, prev)
			}
			streams[sc.Stream] = key
		}
	}
	if c.DeadLetter != nil {
		ps = append(ps, c.DeadLetter.validate("dead_letter")...)
		if c.DeadLetter.Seal != nil {
			add("dead_letter.seal", "dead letters are lines, not events: they cannot be sealed")
		}
		if f, err := subscription.Compile(c.DeadLetter.Subscription); err == nil && !f.IsZero() {
			add("dead_letter.subscription", "dead letters are lines, not events: a subscription cannot apply")
		}
	}
	return ps
}

func (in *Input) validate(key string) []Problem {
	var ps []Problem
	add := func(k, format string, args ...any) {
		ps = append(ps, Problem{Key: key + "." + k, Msg: fmt.Sprintf(format, args...)})
	}
	if !slices.Contains(Grammars, in.Grammar) {
		add("grammar", "unknown grammar %q; one of %s", in.Grammar, strings.Join(Grammars, ", "))
	}
	only := func(k string, set bool, types ...string) {
		if set && !slices.Contains(types, in.Type) {
			add(k, "only applies to inputs of type %s", strings.Join(types, " or "))
		}
	}
	only("paths", len(in.Paths) > 0, InputFile)
	only("poll", in.Poll, InputFile)
	only("poll_interval", in.PollInterval != 0, InputFile)
	only("from_start", in.FromStart, InputFile, InputJournald)
	only("units", len(in.Units) > 0, InputJournald)
	only("identifiers", len(in.Identifiers) > 0, InputJournald)
	only("journalctl", in.Journalctl != "" && in.Journalctl != "journalctl", InputJournald)
	only("socket", in.Socket != "", InputCyrusNotify)
	only("socket_mode", in.SocketMode != "" && in.SocketMode != "datagram", InputCyrusNotify)
	switch in.Type {
	case InputFile:
		if len(in.Paths) == 0 {
			add("paths", "a file input needs at least one path or glob")
		}
		for j, p := range in.Paths {
			if !filepath.IsAbs(p) {
				add(fmt.Sprintf("paths[%d]", j+1), "must be an absolute path, got %q", p)
			}
			if _, err := filepath.Match(p, ""); err != nil {
				add(fmt.Sprintf("paths[%d]", j+1), "bad glob %q: %v", p, err)
			}
		}
		if d := in.PollInterval.Std(); d != 0 && d < 10*time.Millisecond {
			add("poll_interval", "must be at least 10ms, got %s", d)
		}
	case InputJournald:
		if len(in.Units) == 0 && len(in.Identifiers) == 0 {
			add("units", "a journald input needs units or identifiers (reading the whole journal is rarely meant)")
		}
	case InputStdin:
	case InputCyrusNotify:
		if !filepath.IsAbs(in.Socket) {
			add("socket", "must be the absolute path of imapd.conf's notifysocket, got %q", in.Socket)
		}
		if in.SocketMode != "datagram" && in.SocketMode != "stream" {
			add("socket_mode", "must be datagram or stream, got %q", in.SocketMode)
		}
	default:
		add("type", "unknown input type %q; one of file, journald, stdin, cyrus-notify", in.Type)
	}
	return ps
}

func (s *Sink) validate(key string) []Problem {
	var ps []Problem
	add := func(k, format string, args ...any) {
		ps = append(ps, Problem{Key: key + "." + k, Msg: fmt.Sprintf(format, args...)})
	}
	only := func(k string, set bool, t string) {
		if set && s.Type != t {
			add(k, "only applies to sinks of type %s", t)
		}
	}
	only("path", s.Path != "", SinkFile)
	only("sync", s.Sync != "", SinkFile)
	only("sync_interval", s.SyncInterval != 0, SinkFile)
	only("max_bytes", s.MaxBytes != 0, SinkFile)
	only("keep", s.Keep != 0, SinkFile)
	only("kafka", s.Kafka != nil, SinkKafka)
	switch s.Type {
	case SinkStdout:
	case SinkFile:
		if !filepath.IsAbs(s.Path) {
			add("path", "a file sink needs an absolute path, got %q", s.Path)
		}
		switch s.Sync {
		case "batch", "never":
		case "interval":
			if s.SyncInterval == 0 {
				add("sync_interval", "sync = \"interval\" needs sync_interval")
			}
		default:
			add("sync", "must be batch, interval or never, got %q", s.Sync)
		}
		if s.MaxBytes < 0 {
			add("max_bytes", "must not be negative")
		}
		if s.Keep < 0 {
			add("keep", "must not be negative")
		}
	case SinkKafka:
		if s.Kafka == nil {
			add("kafka", "a kafka sink needs a [sink.kafka] table with brokers and topic")
		} else if err := s.Kafka.Validate(); err != nil {
			for _, e := range splitJoined(err) {
				add("kafka", "%v", e)
			}
		}
	default:
		add("type", "unknown sink type %q; one of stdout, file, kafka", s.Type)
	}
	if s.Seal != nil {
		ps = append(ps, s.Seal.validate(key+".seal")...)
	}
	if _, err := subscription.Compile(s.Subscription); err != nil {
		for _, e := range splitJoined(err) {
			var se *subscription.Error
			if errors.As(e, &se) {
				add("subscription."+se.Key, "%s", strings.TrimPrefix(se.Error(), "subscription."+se.Key+": "))
				continue
			}
			add("subscription", "%v", e)
		}
	}
	return ps
}

// splitJoined undoes errors.Join, so that each problem gets its own line.
func splitJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func (s *Seal) validate(key string) []Problem {
	var ps []Problem
	add := func(k, format string, args ...any) {
		ps = append(ps, Problem{Key: key + "." + k, Msg: fmt.Sprintf(format, args...)})
	}
	if !filepath.IsAbs(s.KeyFile) {
		add("key_file", "a sealed sink needs the absolute path of its Ed25519 private key (mailevents keygen writes one), got %q", s.KeyFile)
	}
	if s.Stream != "" {
		if err := seal.ValidateID(s.Stream); err != nil {
			add("stream", "%v", err)
		}
	}
	if d := s.Interval.Std(); d < time.Second {
		add("interval", "must be at least 1s, got %s", d)
	}
	return ps
}
