// Package kafkatest runs a Kafka cluster for tests and reads it back with
// kcat, so that a producer is checked by a consumer it shares no code with.
// A broker that requires SASL is read with franz-go's client instead,
// which shares no code with kafka-go either: Debian's librdkafka cannot
// authenticate to kfake (see consumeKgo).
//
// The cluster is franz-go's kfake, run by cmd/kfakebroker as a process of
// its own so that a test can kill it with SIGKILL and start it again on the
// same ports and data directory. The program is built once per test binary.
// When MAILEVENTS_KAFKA_BROKERS lists host:port addresses, tests use that
// cluster instead and skip what needs a broker of their own (kill, restart,
// SASL, TLS, broker configs).
//
// kcat (scripts/install-test-deps) and the Go toolchain are required: when
// one is missing the tests fail, unless MAILEVENTS_SKIP_KAFKA=1 is set, in
// which case they skip.
package kafkatest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/mailevents/mailevents/internal/mailtest"
)

// Environment variables.
const (
	// EnvBrokers points the tests at an external cluster.
	EnvBrokers = "MAILEVENTS_KAFKA_BROKERS"
	// EnvSkip, when "1", lets the tests skip when kcat or go is missing.
	EnvSkip = "MAILEVENTS_SKIP_KAFKA"
)

const install = "scripts/install-test-deps"

// readyTimeout bounds a broker's start, reloading its data dir included.
const readyTimeout = 60 * time.Second

// Options configures StartBroker. The zero value is a 3-broker cluster whose
// topics get 3 partitions.
type Options struct {
	Brokers    int      // brokers in the cluster, each on its own port (default 3)
	Partitions int      // partitions of Topics and auto-created topics (default 3)
	Topics     []string // topics to create at start
	// SASL users; when set, the brokers require SASL. Consume
	// authenticates as the first.
	SASL []SASLUser
	// TLS, when set, makes the brokers serve TLS with this key pair.
	TLS *TLSFiles
	// Configs are broker configs, e.g. "message.max.bytes".
	Configs map[string]string
	// Local says the test needs a cluster of its own (it kills or restarts
	// it, or uses SASL, TLS or Configs): it is skipped on an external one.
	Local bool
}

// SASLUser is a SASL superuser of the cluster.
type SASLUser struct {
	Mechanism string // PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512
	User      string
	Password  string
}

// TLSFiles are PEM files for a TLS broker.
type TLSFiles struct {
	CertFile, KeyFile string
	CAFile            string // what clients such as kcat verify the broker with
}

// Broker is a running cluster.
type Broker struct {
	addrs    []string
	external bool
	opts     Options
	bin      string
	args     []string

	mu   sync.Mutex
	proc *process // nil when killed or external
}

// StartBroker starts a cluster for t, or returns the external one named by
// MAILEVENTS_KAFKA_BROKERS, and stops it when t ends.
func StartBroker(t testing.TB, opts Options) *Broker {
	t.Helper()
	if opts.Brokers == 0 {
		opts.Brokers = 3
	}
	if opts.Partitions == 0 {
		opts.Partitions = 3
	}
	if ext := os.Getenv(EnvBrokers); ext != "" {
		if opts.Local || len(opts.SASL) > 0 || opts.TLS != nil || len(opts.Configs) > 0 {
			t.Skipf("needs a cluster of its own (kill, restart, SASL, TLS or broker configs); %s points at an external one", EnvBrokers)
		}
		b := &Broker{addrs: strings.Split(ext, ","), external: true, opts: opts}
		for _, topic := range opts.Topics {
			b.CreateTopic(t, topic, opts.Partitions, nil)
		}
		return b
	}
	bin := brokerBinary(t)
	b := &Broker{opts: opts, bin: bin}
	dataDir := t.TempDir()
	var lastErr error
	// The free ports are released before the broker binds them; another
	// process can take one in between, so try again with new ones.
	for range 3 {
		ports, err := mailtest.FreePorts(opts.Brokers)
		if err != nil {
			t.Fatalf("kafkatest: %v", err)
		}
		b.addrs = make([]string, len(ports))
		for i, p := range ports {
			b.addrs[i] = net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
		}
		b.args = b.brokerArgs(dataDir)
		if lastErr = b.start(); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		t.Fatalf("kafkatest: %v", lastErr)
	}
	t.Cleanup(b.stop)
	return b
}

func (b *Broker) brokerArgs(dataDir string) []string {
	o := b.opts
	args := []string{
		"-listen", strings.Join(b.addrs, ","),
		"-data-dir", dataDir,
		"-partitions", strconv.Itoa(o.Partitions),
	}
	for _, topic := range o.Topics {
		args = append(args, "-topic", topic)
	}
	for _, u := range o.SASL {
		args = append(args, "-sasl", u.Mechanism+":"+u.User+":"+u.Password)
	}
	if o.TLS != nil {
		args = append(args, "-tls-cert", o.TLS.CertFile, "-tls-key", o.TLS.KeyFile)
	}
	for k, v := range o.Configs {
		args = append(args, "-config", k+"="+v)
	}
	return args
}

// Addrs are the brokers' host:port addresses.
func (b *Broker) Addrs() []string { return b.addrs }

// External reports whether the cluster is MAILEVENTS_KAFKA_BROKERS's.
func (b *Broker) External() bool { return b.external }

// Kill kills the cluster with SIGKILL, as a crash or an OOM kill would.
// What it acknowledged is in its data directory, for Restart.
func (b *Broker) Kill(t testing.TB) {
	t.Helper()
	b.mustBeLocal(t)
	b.mu.Lock()
	p := b.proc
	b.proc = nil
	b.mu.Unlock()
	if p == nil {
		t.Fatal("kafkatest: Kill: the broker is not running")
	}
	p.kill()
}

// Restart starts the cluster again on the same ports and data directory,
// after Kill.
func (b *Broker) Restart(t testing.TB) {
	t.Helper()
	b.mustBeLocal(t)
	if err := b.start(); err != nil {
		t.Fatalf("kafkatest: restart: %v", err)
	}
}

func (b *Broker) mustBeLocal(t testing.TB) {
	t.Helper()
	if b.external {
		t.Fatal("kafkatest: an external cluster cannot be killed or restarted; start it with Options.Local")
	}
}

// CreateTopic creates topic with configs (e.g. max.message.bytes), on a
// cluster without SASL or TLS.
func (b *Broker) CreateTopic(t testing.TB, topic string, partitions int, configs map[string]string) {
	t.Helper()
	if len(b.opts.SASL) > 0 || b.opts.TLS != nil {
		t.Fatal("kafkatest: CreateTopic supports only plain brokers; use Options.Topics")
	}
	tc := kafkago.TopicConfig{Topic: topic, NumPartitions: partitions, ReplicationFactor: -1}
	for k, v := range configs {
		tc.ConfigEntries = append(tc.ConfigEntries, kafkago.ConfigEntry{ConfigName: k, ConfigValue: v})
	}
	transport := &kafkago.Transport{}
	defer transport.CloseIdleConnections()
	client := &kafkago.Client{Addr: kafkago.TCP(b.addrs...), Timeout: 30 * time.Second, Transport: transport}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := client.CreateTopics(ctx, &kafkago.CreateTopicsRequest{Topics: []kafkago.TopicConfig{tc}})
	if err == nil {
		err = res.Errors[topic]
	}
	if err != nil {
		t.Fatalf("kafkatest: create topic %s: %v", topic, err)
	}
}

// TopicName returns a topic name unique to this run, made from t's name, so
// that tests sharing an external cluster do not read each other's records.
func TopicName(t testing.TB) string {
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' {
			return r
		}
		return '_'
	}, t.Name())
	if len(name) > 200 {
		name = name[len(name)-200:]
	}
	return name + "-" + hex.EncodeToString(rnd[:])
}

func (b *Broker) start() error {
	p, addrs, err := startProcess(b.bin, b.args)
	if err != nil {
		return err
	}
	if addrs != strings.Join(b.addrs, ",") {
		p.kill()
		return fmt.Errorf("broker listens on %s, want %s", addrs, strings.Join(b.addrs, ","))
	}
	b.mu.Lock()
	b.proc = p
	b.mu.Unlock()
	return nil
}

func (b *Broker) stop() {
	b.mu.Lock()
	p := b.proc
	b.proc = nil
	b.mu.Unlock()
	if p != nil {
		p.stop(10 * time.Second)
	}
}

// process is one run of the broker program, in a process group of its own.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{}
	stderr bytes.Buffer // read only after exited is closed
}

// startProcess starts bin and waits for its "ready ADDRS" line.
func startProcess(bin string, args []string) (*process, string, error) {
	p := &process{cmd: exec.Command(bin, args...), exited: make(chan struct{})}
	p.cmd.Stderr = &p.stderr
	p.cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid: true,
		// A test binary that dies must not leave a broker on its ports.
		Pdeathsig: syscall.SIGKILL,
	}
	// An os.Pipe rather than StdoutPipe: Wait closes the latter when the
	// process exits, possibly before its last line was read.
	stdout, pw, err := os.Pipe()
	if err != nil {
		return nil, "", fmt.Errorf("broker stdout: %w", err)
	}
	p.cmd.Stdout = pw
	err = p.cmd.Start()
	pw.Close()
	if err != nil {
		stdout.Close()
		return nil, "", fmt.Errorf("start broker: %w", err)
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout) // nothing more is printed; never block the broker
		stdout.Close()
	}()
	go func() {
		_ = p.cmd.Wait() // the exit status is reported through stderr
		close(p.exited)
	}()
	timer := time.NewTimer(readyTimeout)
	defer timer.Stop()
	select {
	case line, ok := <-lines:
		if addrs, found := strings.CutPrefix(line, "ready "); ok && found {
			return p, addrs, nil
		}
		<-p.exited
		return nil, "", fmt.Errorf("broker did not start (first line %q): %s", line, p.stderr.String())
	case <-timer.C:
		p.kill()
		return nil, "", fmt.Errorf("broker not ready after %v: %s", readyTimeout, p.stderr.String())
	}
}

func (p *process) kill() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.exited
}

// stop asks the broker to exit, and kills it after grace.
func (p *process) stop(grace time.Duration) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(grace):
		p.kill()
	}
}
