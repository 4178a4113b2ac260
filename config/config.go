// Package config is the daemon's configuration file: strict TOML (an unknown
// key is an error, not a warning), defaults filled in one place, and
// validation whose messages name the key and the line, because a daemon that
// starts with a half-understood config loses events quietly.
package config

import (
	"fmt"
	"time"

	"github.com/mailevents/mailevents/seal"
	"github.com/mailevents/mailevents/sinks/kafka"
	"github.com/mailevents/mailevents/subscription"
)

// Config is the whole file.
type Config struct {
	// StateDir holds the checkpoint (default /var/lib/mailevents, the unit's
	// StateDirectory).
	StateDir string `toml:"state_dir"`
	// Host names the server in IMAP URLs when a line names none (Dovecot's
	// own log files); default: this machine's name.
	Host               string   `toml:"host"`
	CheckpointInterval Duration `toml:"checkpoint_interval"`
	ShutdownTimeout    Duration `toml:"shutdown_timeout"`
	BatchSize          int      `toml:"batch_size"`
	BatchLatency       Duration `toml:"batch_latency"`
	// QueueChunks bounds the memory between the readers and the sinks:
	// each chunk holds up to 64 KiB of lines.
	QueueChunks int `toml:"queue_chunks"`
	// MetricsListen is where Prometheus metrics (/metrics) and /healthz are
	// served, e.g. "127.0.0.1:9154"; empty: not at all. A reload does not
	// move it.
	MetricsListen string `toml:"metrics_listen"`

	Mapping    Mapping `toml:"mapping"`
	Inputs     []Input `toml:"input"`
	Sinks      []Sink  `toml:"sink"`
	DeadLetter *Sink   `toml:"dead_letter"`
}

// Mapping tunes how lines become events.
type Mapping struct {
	// UIDValidity asks doveadm for each mailbox's UIDVALIDITY.
	UIDValidity bool   `toml:"uidvalidity"`
	Doveadm     string `toml:"doveadm"`
	// Dedup drops an event that another grammar already reported.
	Dedup bool `toml:"dedup"`
}

// Input types.
const (
	InputFile        = "file"
	InputJournald    = "journald"
	InputStdin       = "stdin"
	InputCyrusNotify = "cyrus-notify"
)

// Input is one [[input]] table.
type Input struct {
	Name string `toml:"name"`
	Type string `toml:"type"`
	// Grammar is auto, dovecot, cyrus, dovecot-push or cyrus-json.
	Grammar string `toml:"grammar"`

	// file
	Paths        []string `toml:"paths"` // files or globs
	FromStart    bool     `toml:"from_start"`
	Poll         bool     `toml:"poll"`
	PollInterval Duration `toml:"poll_interval"`

	// journald
	Units       []string `toml:"units"`
	Identifiers []string `toml:"identifiers"`
	Journalctl  string   `toml:"journalctl"`

	// cyrus-notify
	Socket string `toml:"socket"`
	// SocketMode is "datagram" (imapd.conf notifysocket: PATH) or "stream"
	// (notifysocket: dlist:PATH), which acknowledges each notification.
	SocketMode string `toml:"socket_mode"`
}

// Sink types.
const (
	SinkStdout = "stdout"
	SinkFile   = "file"
	SinkKafka  = "kafka"
)

// Sink is one [[sink]] table, or the [dead_letter] table.
type Sink struct {
	Name string `toml:"name"`
	Type string `toml:"type"`

	// file
	Path         string   `toml:"path"`
	Sync         string   `toml:"sync"` // batch (default), interval, never
	SyncInterval Duration `toml:"sync_interval"`
	MaxBytes     int64    `toml:"max_bytes"` // built-in rotation; 0: none
	Keep         int      `toml:"keep"`

	Kafka *kafka.Config `toml:"kafka"`

	Subscription subscription.Config `toml:"subscription"`

	// Seal makes the sink's events a tamper-evident stream (package seal).
	Seal *Seal `toml:"seal"`
}

// Seal is a [sink.seal] table: every event the sink takes carries a seq and
// a hash chain value, and signed seals follow at Interval and at shutdown.
type Seal struct {
	// KeyFile is the Ed25519 private key (PKCS #8 PEM, as mailevents
	// keygen writes it), readable by its owner only.
	KeyFile string `toml:"key_file"`
	// Stream is the stream id written into every event; default:
	// HOST/SINK-NAME.
	Stream   string   `toml:"stream"`
	Interval Duration `toml:"interval"` // default 1m
}

// Duration is a time.Duration written as in Go ("100ms", "5s", "1m30s").
type Duration time.Duration

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("not a duration (e.g. \"100ms\", \"5s\"): %q", b)
	}
	if v < 0 {
		return fmt.Errorf("negative duration %q", b)
	}
	*d = Duration(v)
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// Defaults.
const (
	DefaultStateDir = "/var/lib/mailevents"
	DefaultGrammar  = "auto"
)

// applyDefaults fills what the file left out.
func (c *Config) applyDefaults() {
	if c.StateDir == "" {
		c.StateDir = DefaultStateDir
	}
	if c.Mapping.Doveadm == "" {
		c.Mapping.Doveadm = "doveadm"
	}
	for i := range c.Inputs {
		in := &c.Inputs[i]
		if in.Type == "" {
			in.Type = InputFile
		}
		if in.Grammar == "" {
			in.Grammar = DefaultGrammar
		}
		if in.Name == "" {
			in.Name = fmt.Sprintf("%s%d", in.Type, i+1)
		}
		if in.Type == InputCyrusNotify && in.SocketMode == "" {
			in.SocketMode = "datagram"
		}
		if in.Type == InputJournald && in.Journalctl == "" {
			in.Journalctl = "journalctl"
		}
	}
	if len(c.Sinks) == 0 {
		c.Sinks = []Sink{{Type: SinkStdout}}
	}
	for i := range c.Sinks {
		c.Sinks[i].applyDefaults(fmt.Sprintf("sink%d", i+1))
	}
	if c.DeadLetter != nil {
		c.DeadLetter.applyDefaults("dead_letter")
	}
}

func (s *Sink) applyDefaults(name string) {
	if s.Name == "" {
		s.Name = name
	}
	if s.Type == "" && s.Path != "" {
		s.Type = SinkFile
	}
	if s.Type == SinkFile && s.Sync == "" {
		s.Sync = "batch"
	}
	if s.Seal != nil && s.Seal.Interval == 0 {
		s.Seal.Interval = Duration(seal.DefaultInterval)
	}
}
