package kafkatest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mailevents/mailevents/internal/mailtest"
)

// Message is a record as kcat read it.
type Message struct {
	Topic     string
	Partition int32
	Offset    int64
	Time      time.Time
	Key       []byte // nil for a null key
	Value     []byte
	Headers   []Header
}

// Header is a record header.
type Header struct {
	Key, Value string
}

// Header returns the value of the first header named key.
func (m Message) Header(key string) (string, bool) {
	for _, h := range m.Headers {
		if h.Key == key {
			return h.Value, true
		}
	}
	return "", false
}

// kcatTimeout bounds one read of a topic to its end.
const kcatTimeout = 60 * time.Second

// Consume reads topic from the beginning to its current end with kcat and
// returns its records, partition by partition in offset order. On a broker
// with SASL users it reads with franz-go instead (see consumeKgo).
func (b *Broker) Consume(t testing.TB, topic string) []Message {
	t.Helper()
	if len(b.opts.SASL) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), kcatTimeout)
		defer cancel()
		msgs, err := b.consumeKgo(ctx, topic)
		if err != nil {
			t.Fatalf("kafkatest: %v", err)
		}
		return msgs
	}
	bin, err := exec.LookPath("kcat")
	if err != nil {
		mailtest.Missing(t, err, "kcat not installed", EnvSkip, install)
	}
	// JSON envelopes (-J) rather than a -f format: keys, values and headers
	// can hold any byte a separator could be.
	args := []string{"-C", "-b", strings.Join(b.addrs, ","), "-t", topic, "-o", "beginning", "-e", "-J", "-q",
		// End-of-partition is known only when a fetch comes back empty,
		// which by default the broker holds for 500ms.
		"-X", "fetch.wait.max.ms=5"}
	args = append(args, b.kcatSecurity()...)
	ctx, cancel := context.WithTimeout(context.Background(), kcatTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kafkatest: kcat -t %s: %v\n%s", topic, err, stderr.String())
	}
	msgs, err := parseKcat(out)
	if err != nil {
		t.Fatalf("kafkatest: kcat -t %s: %v\n%s", topic, err, stderr.String())
	}
	// kcat reports broker errors (unknown topic, failed authentication) on
	// stderr and may still exit 0 with nothing read.
	if strings.Contains(stderr.String(), "ERROR") {
		t.Fatalf("kafkatest: kcat -t %s:\n%s", topic, stderr.String())
	}
	return msgs
}

func (b *Broker) kcatSecurity() []string {
	if b.opts.TLS == nil {
		return nil
	}
	return []string{"-X", "security.protocol=ssl", "-X", "ssl.ca.location=" + b.opts.TLS.CAFile}
}

// kcatEnvelope is one line of `kcat -J`.
type kcatEnvelope struct {
	Topic     string   `json:"topic"`
	Partition int32    `json:"partition"`
	Offset    int64    `json:"offset"`
	TS        int64    `json:"ts"`
	Headers   []string `json:"headers"` // key, value, key, value…
	Key       *string  `json:"key"`
	Payload   *string  `json:"payload"`
}

func parseKcat(out []byte) ([]Message, error) {
	var msgs []Message
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var e kcatEnvelope
		if err := json.Unmarshal(line, &e); err != nil {
			return nil, fmt.Errorf("parse %.200q: %w", line, err)
		}
		if len(e.Headers)%2 != 0 {
			return nil, fmt.Errorf("odd header list in %.200q", line)
		}
		m := Message{Topic: e.Topic, Partition: e.Partition, Offset: e.Offset, Time: time.UnixMilli(e.TS)}
		if e.Key != nil {
			m.Key = []byte(*e.Key)
		}
		if e.Payload != nil {
			m.Value = []byte(*e.Payload)
		}
		for i := 0; i < len(e.Headers); i += 2 {
			m.Headers = append(m.Headers, Header{Key: e.Headers[i], Value: e.Headers[i+1]})
		}
		msgs = append(msgs, m)
	}
	return msgs, sc.Err()
}
