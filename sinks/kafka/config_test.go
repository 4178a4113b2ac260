package kafka

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pelletier/go-toml/v2"
	kafkago "github.com/segmentio/kafka-go"
)

func TestValidate(t *testing.T) {
	ok := func() Config { return Config{Brokers: []string{"k1:9092"}, Topic: "events"} }
	with := func(f func(*Config)) Config {
		c := ok()
		f(&c)
		return c
	}
	tests := []struct {
		name string
		cfg  Config
		want []string // substrings of the error; none: valid
	}{
		{"minimal", ok(), nil},
		{"everything", with(func(c *Config) {
			c.TopicByGroup = map[string]string{"message": "m", "access": "a.b_c-d"}
			c.Key, c.Compression, c.RequiredAcks = "mailbox", "zstd", "one"
			c.BatchTimeout, c.BatchSize, c.BatchBytes, c.MaxMessageBytes = Duration(time.Millisecond), 10, 5000, 4000
			c.TLS = TLSConfig{Enable: true, CAFile: "ca.pem", CertFile: "c.pem", KeyFile: "k.pem"}
			c.SASL = SASLConfig{Mechanism: "SCRAM-SHA-512", Username: "u", PasswordEnv: "P"}
		}), nil},
		{"acks none accepted", with(func(c *Config) { c.RequiredAcks, c.AcceptLoss = "none", true }), nil},
		{"no brokers", with(func(c *Config) { c.Brokers = nil }), []string{"brokers: at least one"}},
		{"broker without port", with(func(c *Config) { c.Brokers = []string{"k1"} }), []string{`brokers: "k1": want host:port`}},
		{"broker bad port", with(func(c *Config) { c.Brokers = []string{"k1:0"} }), []string{"1 to 65535"}},
		{"no topic", with(func(c *Config) { c.Topic = "" }), []string{"topic: missing"}},
		{"bad topic", with(func(c *Config) { c.Topic = "a/b" }), []string{`topic: topic name "a/b" has '/'`}},
		{"unknown group", with(func(c *Config) { c.TopicByGroup = map[string]string{"mail": "x"} }), []string{`unknown group "mail"`}},
		{"bad group topic", with(func(c *Config) { c.TopicByGroup = map[string]string{"quota": ".."} }), []string{"topic_by_group.quota"}},
		{"unknown key", with(func(c *Config) { c.Key = "host" }), []string{`key: unknown key "host"`}},
		{"unknown compression", with(func(c *Config) { c.Compression = "brotli" }), []string{`compression: unknown codec "brotli"`}},
		{"unknown acks", with(func(c *Config) { c.RequiredAcks = "2" }), []string{`required_acks: unknown value "2"`}},
		{"acks none without accept_loss", with(func(c *Config) { c.RequiredAcks = "none" }), []string{"accept_loss = true"}},
		{"batch_bytes below max", with(func(c *Config) { c.BatchBytes = 1000 }), []string{"batch_bytes: 1000 is below max_message_bytes (1000000)"}},
		{"negatives", with(func(c *Config) { c.BatchSize, c.MaxMessageBytes, c.BatchTimeout = -1, -1, -1 }),
			[]string{"batch_size: negative", "max_message_bytes: negative", "batch_timeout: negative"}},
		{"tls settings without enable", with(func(c *Config) { c.TLS.CAFile = "ca.pem" }), []string{"tls.enable is false"}},
		{"tls cert without key", with(func(c *Config) { c.TLS = TLSConfig{Enable: true, CertFile: "c.pem"} }), []string{"cert_file and key_file"}},
		{"sasl unknown mechanism", with(func(c *Config) { c.SASL = SASLConfig{Mechanism: "gssapi", Username: "u", PasswordEnv: "P"} }),
			[]string{`unknown mechanism "gssapi"`}},
		{"sasl without secret", with(func(c *Config) { c.SASL = SASLConfig{Mechanism: "plain", Username: "u"} }),
			[]string{"no password source"}},
		{"sasl two secrets", with(func(c *Config) {
			c.SASL = SASLConfig{Mechanism: "plain", Username: "u", PasswordEnv: "P", PasswordFile: "f"}
		}), []string{"exclusive"}},
		{"sasl without user", with(func(c *Config) { c.SASL = SASLConfig{Mechanism: "plain", PasswordEnv: "P"} }), []string{"sasl.username: missing"}},
		{"sasl user without mechanism", with(func(c *Config) { c.SASL.Username = "u" }), []string{"without sasl.mechanism"}},
		{"several problems at once", Config{Compression: "brotli"}, []string{"brokers:", "topic:", "compression:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: nil, want an error with %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate: %v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

// TestOpenErrors covers what Validate leaves to Open: the files and the
// environment. Open does not dial, so no broker is needed.
func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	garbage := write("garbage.pem", "not a certificate\n", 0o644)
	empty := write("empty-password", "\n", 0o600)
	unreadable := write("unreadable-password", "secret\n", 0o000)
	t.Setenv("MAILEVENTS_TEST_EMPTY", "")

	base := Config{Brokers: []string{"127.0.0.1:9092"}, Topic: "events"}
	tests := []struct {
		name string
		tls  TLSConfig
		sasl SASLConfig
		want string
	}{
		{"ca file missing", TLSConfig{Enable: true, CAFile: filepath.Join(dir, "nope.pem")}, SASLConfig{}, "tls.ca_file: open "},
		{"ca file without PEM", TLSConfig{Enable: true, CAFile: garbage}, SASLConfig{}, "no PEM certificate"},
		{"bad key pair", TLSConfig{Enable: true, CertFile: garbage, KeyFile: garbage}, SASLConfig{}, "tls.cert_file/key_file"},
		{"password file missing", TLSConfig{}, SASLConfig{Mechanism: "plain", Username: "u", PasswordFile: filepath.Join(dir, "nope")}, "sasl.password_file: open "},
		{"password file empty", TLSConfig{}, SASLConfig{Mechanism: "plain", Username: "u", PasswordFile: empty}, "empty"},
		{"password env unset", TLSConfig{}, SASLConfig{Mechanism: "scram-sha-256", Username: "u", PasswordEnv: "MAILEVENTS_TEST_UNSET_VAR"}, "MAILEVENTS_TEST_UNSET_VAR is not set"},
		{"password env empty", TLSConfig{}, SASLConfig{Mechanism: "plain", Username: "u", PasswordEnv: "MAILEVENTS_TEST_EMPTY"}, "MAILEVENTS_TEST_EMPTY is empty"},
		{"password file unreadable", TLSConfig{}, SASLConfig{Mechanism: "plain", Username: "u", PasswordFile: dir}, "is a directory"},
		{"invalid config", TLSConfig{CAFile: garbage}, SASLConfig{}, "tls.enable is false"},
	}
	if os.Geteuid() != 0 { // root reads a mode-000 file anyway
		tests = append(tests, struct {
			name string
			tls  TLSConfig
			sasl SASLConfig
			want string
		}{"password file mode 000", TLSConfig{}, SASLConfig{Mechanism: "plain", Username: "u", PasswordFile: unreadable}, "permission denied"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			cfg.TLS, cfg.SASL = tt.tls, tt.sasl
			w, err := Open(cfg, Options{})
			if err == nil {
				w.Close(t.Context())
				t.Fatalf("Open succeeded, want an error with %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "kafka sink: ") {
				t.Errorf("Open: %v\nwant it to start with \"kafka sink: \" and contain %q", err, tt.want)
			}
		})
	}
}

func TestPasswordFileTrailingNewline(t *testing.T) {
	for _, content := range []string{"s3cret", "s3cret\n", "s3cret\r\n"} {
		p := filepath.Join(t.TempDir(), "pw")
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := SASLConfig{Mechanism: "plain", Username: "u", PasswordFile: p}.password()
		if err != nil || got != "s3cret" {
			t.Errorf("password from %q = %q, %v; want \"s3cret\"", content, got, err)
		}
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		raw  string
		want Config
		err  string
	}{
		{raw: "kafka://k1:9092/events", want: Config{Brokers: []string{"k1:9092"}, Topic: "events"}},
		{raw: "KAFKA://k1:9092,k2:9093,[::1]:9094/mail.events", want: Config{Brokers: []string{"k1:9092", "k2:9093", "[::1]:9094"}, Topic: "mail.events"}},
		{raw: "kafka://k1,[2001:db8::1]/events", want: Config{Brokers: []string{"k1:9092", "[2001:db8::1]:9092"}, Topic: "events"}},
		{
			raw:  "kafka://k1:9092/events?compression=zstd&key=mailbox&acks=one&client_id=mx1",
			want: Config{Brokers: []string{"k1:9092"}, Topic: "events", Compression: "zstd", Key: "mailbox", RequiredAcks: "one", ClientID: "mx1"},
		},
		{raw: "http://k1:9092/events", err: `scheme is not "kafka://"`},
		{raw: "kafka://k1:9092", err: "no topic"},
		{raw: "kafka://k1:9092/", err: "no topic"},
		{raw: "kafka:///events", err: "no broker"},
		{raw: "kafka://k1:9092,,k2:9092/events", err: "empty broker"},
		{raw: "kafka://user:pw@k1:9092/events", err: "credentials do not belong in the URL"},
		{raw: "kafka://k1:9092/a/b", err: `topic "a/b" has a '/'`},
		{raw: "kafka://k1:9092/events#x", err: "fragment"},
		{raw: "kafka://k1:9092/events?compression=brotli", err: `compression: unknown codec "brotli"`},
		{raw: "kafka://k1:9092/events?acks=none", err: "accept_loss"},
		{raw: "kafka://k1:9092/events?key=host", err: `unknown key "host"`},
		{raw: "kafka://k1:9092/events?tls=1", err: `unknown parameter "tls"`},
		{raw: "kafka://k1:9092/events?key=id&key=user", err: `parameter "key" is given 2 times`},
		{raw: "kafka://k1:9092/events?key=", err: `parameter "key" is empty`},
		{raw: "kafka://k1:99999/events", err: "1 to 65535"},
		{raw: "kafka://k1:9092/ev%20ents", err: "topic name"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := ParseURL(tt.raw)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseURL: %v, want an error with %q", err, tt.err)
				}
				if !strings.Contains(err.Error(), tt.raw) {
					t.Errorf("error %q does not quote the URL", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseURL: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseURL (-want +got):\n%s", diff)
			}
		})
	}
}

// TestConfigTOML checks the config as the daemon decodes it: snake_case
// keys, durations as text, nested tables.
func TestConfigTOML(t *testing.T) {
	const doc = `
brokers = ["k1:9092", "k2:9092"]
topic = "mail"
topic_by_group = { message = "mail.message", access = "mail.access" }
key = "mailbox"
compression = "lz4"
required_acks = "all"
batch_timeout = "2ms"
batch_size = 500
batch_bytes = 2000000
write_timeout = "3s"
max_message_bytes = 900000
client_id = "mx1"
headers = false

[tls]
enable = true
ca_file = "/etc/ssl/kafka-ca.pem"
server_name = "kafka.example.org"

[sasl]
mechanism = "scram-sha-512"
username = "mailevents"
password_file = "/etc/mailevents/kafka.password"
`
	var got Config
	dec := toml.NewDecoder(strings.NewReader(doc)).DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	off := false
	want := Config{
		Brokers: []string{"k1:9092", "k2:9092"}, Topic: "mail",
		TopicByGroup: map[string]string{"message": "mail.message", "access": "mail.access"},
		Key:          "mailbox", Compression: "lz4", RequiredAcks: "all",
		BatchTimeout: Duration(2 * time.Millisecond), BatchSize: 500, BatchBytes: 2000000,
		WriteTimeout: Duration(3 * time.Second), MaxMessageBytes: 900000, ClientID: "mx1", Headers: &off,
		TLS:  TLSConfig{Enable: true, CAFile: "/etc/ssl/kafka-ca.pem", ServerName: "kafka.example.org"},
		SASL: SASLConfig{Mechanism: "scram-sha-512", Username: "mailevents", PasswordFile: "/etc/mailevents/kafka.password"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}

	for _, bad := range []string{`batch_timeout = "5"`, `batch_timeout = "-1s"`} {
		var c Config
		if err := toml.Unmarshal([]byte(bad), &c); err == nil {
			t.Errorf("%s decoded without error", bad)
		}
	}
}

func TestDefaults(t *testing.T) {
	d := Config{}.withDefaults()
	if d.Key != "user" || d.Compression != "zstd" || d.RequiredAcks != "all" ||
		d.BatchSize != 1000 || d.MaxMessageBytes != 1000000 ||
		d.BatchBytes != 1000000 || !*d.Headers {
		t.Errorf("defaults = %+v", d)
	}
	w, err := Open(Config{Brokers: []string{"127.0.0.1:9092"}, Topic: "events"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(t.Context())
	// kafka-go's zero values would break the sink's contract (acks) or
	// waste the network (no compression).
	if w.acks != kafkago.RequireAll || w.codec != kafkago.Zstd || w.client.Timeout != 10*time.Second {
		t.Errorf("produce requests: acks %d compression %v timeout %v", w.acks, w.codec, w.client.Timeout)
	}
	if w.Name() != "kafka:events" {
		t.Errorf("Name() = %q", w.Name())
	}
}
