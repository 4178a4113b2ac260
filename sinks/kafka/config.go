package kafka

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mailevents/mailevents/event"
)

// Config is the user-facing configuration of a Kafka sink, as it appears in
// the daemon's TOML file (a [sink.kafka] table) or, in part, in a kafka://
// URL. Zero values mean the documented defaults.
type Config struct {
	// Brokers are the bootstrap "host:port" addresses; the cluster's metadata
	// names the rest.
	Brokers []string `toml:"brokers"`
	// Topic receives every record that TopicByGroup does not route
	// elsewhere, including dead letters and vendor events without a group.
	Topic string `toml:"topic"`
	// TopicByGroup routes events by their Cyrus-style group (message, quota,
	// flags, access, mailbox, subscription) to topics of their own.
	TopicByGroup map[string]string `toml:"topic_by_group"`

	// Key chooses the message key, and so the partition and the unit of
	// ordering: "user" (default), "mailbox", "id" or "none"; see the package
	// documentation.
	Key string `toml:"key"`
	// Compression is the codec of record batches: "zstd" (default), "lz4",
	// "snappy", "gzip" or "none". Batches of JSON events share most of their
	// bytes, so zstd makes them several times smaller on the wire and on
	// the brokers' disks for little CPU. Every client since Kafka 2.1
	// (2018) reads it, Debian's kcat included; a broker older than that
	// refuses it, and Write then fails at once: set "none".
	Compression string `toml:"compression"`
	// RequiredAcks is "all" (default: every in-sync replica), "one" (the
	// leader only) or "none".
	RequiredAcks string `toml:"required_acks"`
	// AcceptLoss must be true for RequiredAcks "none": with no
	// acknowledgement a Write cannot know that anything arrived.
	AcceptLoss bool `toml:"accept_loss"`

	// BatchTimeout is accepted, and must not be negative, so that configs
	// that set it keep loading, but nothing reads it: Write holds its whole
	// batch and sends each partition's share at once, with no timer
	// waiting for more records.
	BatchTimeout Duration `toml:"batch_timeout"`
	// BatchSize is the most records in one produce request, which holds
	// one partition's records (default 1000). A partition's share of a
	// batch beyond it or BatchBytes goes in several requests, sent one
	// after the other.
	BatchSize int `toml:"batch_size"`
	// BatchBytes is the most bytes, before compression, in one produce
	// request (default MaxMessageBytes); it may not be below
	// MaxMessageBytes. The broker refuses a record batch over the topic's
	// max.message.bytes, so neither should exceed that: Write copes,
	// record by record, but slowly.
	BatchBytes int64 `toml:"batch_bytes"`
	// WriteTimeout bounds one produce request (default 10s).
	WriteTimeout Duration `toml:"write_timeout"`
	// MaxMessageBytes is the largest record sent (default 1000000, the
	// broker's default message.max.bytes less batch framing), counted
	// before compression. Larger records go to Options.Oversize.
	MaxMessageBytes int `toml:"max_message_bytes"`

	// ClientID names this producer in the brokers' logs and quotas
	// (default "mailevents").
	ClientID string `toml:"client_id"`
	// Headers adds mailevents-type, mailevents-id and mailevents-host to
	// every message (default true).
	Headers *bool `toml:"headers"`

	TLS  TLSConfig  `toml:"tls"`
	SASL SASLConfig `toml:"sasl"`
}

// TLSConfig configures TLS to the brokers.
type TLSConfig struct {
	Enable bool `toml:"enable"`
	// CAFile is a PEM bundle of the CAs to trust instead of the system's.
	CAFile string `toml:"ca_file"`
	// CertFile and KeyFile are a PEM client certificate and key, for
	// brokers that authenticate clients by certificate.
	CertFile string `toml:"cert_file"`
	KeyFile  string `toml:"key_file"`
	// ServerName overrides the name checked in the brokers' certificates.
	ServerName string `toml:"server_name"`
	// InsecureSkipVerify turns off certificate checks; for tests only.
	InsecureSkipVerify bool `toml:"insecure_skip_verify"`
}

// SASLConfig configures SASL authentication. The password is read from a
// file or an environment variable, never from the config itself, so that
// the config can be world-readable and the secret cannot leak through ps(1).
type SASLConfig struct {
	// Mechanism is "plain", "scram-sha-256" or "scram-sha-512"; empty
	// disables SASL.
	Mechanism string `toml:"mechanism"`
	Username  string `toml:"username"`
	// PasswordFile holds the password; one trailing newline is ignored.
	PasswordFile string `toml:"password_file"`
	// PasswordEnv names the environment variable holding the password
	// (e.g. set through systemd's LoadCredential or EnvironmentFile).
	PasswordEnv string `toml:"password_env"`
}

// Defaults.
const (
	DefaultKey             = KeyUser
	DefaultCompression     = "zstd"
	DefaultRequiredAcks    = "all"
	DefaultBatchSize       = 1000
	DefaultWriteTimeout    = 10 * time.Second
	DefaultMaxMessageBytes = 1000000
	DefaultClientID        = "mailevents"
)

// Key modes.
const (
	KeyUser    = "user"
	KeyMailbox = "mailbox"
	KeyID      = "id"
	KeyNone    = "none"
)

var (
	keyModes     = []string{KeyUser, KeyMailbox, KeyID, KeyNone}
	compressions = []string{"zstd", "lz4", "snappy", "gzip", "none"}
	ackModes     = []string{"all", "one", "none"}
	mechanisms   = []string{"plain", "scram-sha-256", "scram-sha-512"}
)

// Duration is a time.Duration written as in Go ("5ms", "10s") in TOML.
type Duration time.Duration

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("not a duration (e.g. \"5ms\", \"10s\"): %q", b)
	}
	if v < 0 {
		return fmt.Errorf("negative duration %q", b)
	}
	*d = Duration(v)
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// withDefaults returns c with every zero value replaced by its default.
func (c Config) withDefaults() Config {
	if c.Key == "" {
		c.Key = DefaultKey
	}
	if c.Compression == "" {
		c.Compression = DefaultCompression
	}
	if c.RequiredAcks == "" {
		c.RequiredAcks = DefaultRequiredAcks
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = Duration(DefaultWriteTimeout)
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if c.BatchBytes == 0 {
		c.BatchBytes = int64(c.MaxMessageBytes)
	}
	if c.ClientID == "" {
		c.ClientID = DefaultClientID
	}
	if c.Headers == nil {
		on := true
		c.Headers = &on
	}
	return c
}

// Validate checks c without touching files or the environment (Open also
// loads the TLS files and the SASL password), so that a config can be
// linted on a machine other than the one that runs the daemon. It reports
// every problem, joined, each prefixed with its key.
func (c Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	d := c.withDefaults()

	if len(c.Brokers) == 0 {
		add("brokers", "at least one host:port is needed")
	}
	for _, b := range c.Brokers {
		if err := checkHostPort(b); err != nil {
			add("brokers", "%v", err)
		}
	}
	if c.Topic == "" {
		add("topic", "missing; it receives dead letters and events no topic_by_group entry routes")
	} else if err := checkTopic(c.Topic); err != nil {
		add("topic", "%v", err)
	}
	for _, g := range sortedKeys(c.TopicByGroup) {
		if !slices.Contains(event.Groups, event.Group(g)) {
			add("topic_by_group", "unknown group %q; one of %s", g, joinGroups())
		}
		if err := checkTopic(c.TopicByGroup[g]); err != nil {
			add("topic_by_group."+g, "%v", err)
		}
	}
	if !slices.Contains(keyModes, d.Key) {
		add("key", "unknown key %q; one of %s", c.Key, strings.Join(keyModes, ", "))
	}
	if !slices.Contains(compressions, d.Compression) {
		add("compression", "unknown codec %q; one of %s", c.Compression, strings.Join(compressions, ", "))
	}
	switch {
	case !slices.Contains(ackModes, d.RequiredAcks):
		add("required_acks", "unknown value %q; one of %s", c.RequiredAcks, strings.Join(ackModes, ", "))
	case d.RequiredAcks == "none" && !c.AcceptLoss:
		add("required_acks", `"none" loses records silently whenever a broker is unavailable; set accept_loss = true to allow it`)
	}
	if c.BatchTimeout < 0 {
		add("batch_timeout", "negative")
	}
	if c.WriteTimeout < 0 {
		add("write_timeout", "negative")
	}
	if c.BatchSize < 0 {
		add("batch_size", "negative")
	}
	if c.MaxMessageBytes < 0 {
		add("max_message_bytes", "negative")
	}
	if c.BatchBytes < 0 {
		add("batch_bytes", "negative")
	} else if c.BatchBytes > 0 && c.MaxMessageBytes >= 0 && d.BatchBytes < int64(d.MaxMessageBytes) {
		// Every record the sink lets through must fit in one request.
		add("batch_bytes", "%d is below max_message_bytes (%d)", c.BatchBytes, d.MaxMessageBytes)
	}
	errs = append(errs, c.TLS.validate()...)
	errs = append(errs, c.SASL.validate()...)
	return errors.Join(errs...)
}

func (t TLSConfig) validate() []error {
	var errs []error
	if !t.Enable {
		if t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" || t.ServerName != "" || t.InsecureSkipVerify {
			// Most likely a forgotten enable: connecting in plain text instead
			// would send SASL secrets and events unprotected.
			errs = append(errs, errors.New("tls: settings are given but tls.enable is false"))
		}
		return errs
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		errs = append(errs, errors.New("tls: cert_file and key_file go together"))
	}
	return errs
}

func (s SASLConfig) validate() []error {
	if s.Mechanism == "" {
		if s.Username != "" || s.PasswordFile != "" || s.PasswordEnv != "" {
			return []error{errors.New("sasl: username or password given without sasl.mechanism")}
		}
		return nil
	}
	var errs []error
	if !slices.Contains(mechanisms, strings.ToLower(s.Mechanism)) {
		errs = append(errs, fmt.Errorf("sasl.mechanism: unknown mechanism %q; one of %s", s.Mechanism, strings.Join(mechanisms, ", ")))
	}
	if s.Username == "" {
		errs = append(errs, errors.New("sasl.username: missing"))
	}
	switch {
	case s.PasswordFile == "" && s.PasswordEnv == "":
		errs = append(errs, errors.New("sasl: no password source; set password_file or password_env"))
	case s.PasswordFile != "" && s.PasswordEnv != "":
		errs = append(errs, errors.New("sasl: password_file and password_env are exclusive"))
	}
	return errs
}

func checkHostPort(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q: want host:port: %w", addr, err)
	}
	if host == "" {
		return fmt.Errorf("%q: empty host", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q: port %q is not a number from 1 to 65535", addr, port)
	}
	return nil
}

// checkTopic applies Kafka's rules for topic names, so that a typo is
// reported at start-up rather than by every produce request.
func checkTopic(name string) error {
	switch {
	case name == "":
		return errors.New("empty topic name")
	case name == "." || name == "..":
		return fmt.Errorf("topic name %q is not allowed", name)
	case len(name) > 249:
		return fmt.Errorf("topic name is %d characters long; at most 249", len(name))
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("topic name %q has %q; only ASCII letters, digits, '.', '_' and '-' are allowed", name, r)
		}
	}
	return nil
}

func joinGroups() string {
	s := make([]string, len(event.Groups))
	for i, g := range event.Groups {
		s[i] = string(g)
	}
	return strings.Join(s, ", ")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
