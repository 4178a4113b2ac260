package kafka

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/mailevents/mailevents/internal/kafkatest"
	"github.com/mailevents/mailevents/sinks"
)

// testEvent returns an encoded event of about 300 bytes, as the pipeline
// would hand it over, numbered seq.
func testEvent(user, typ, mailbox string, seq int) sinks.Record {
	id := fmt.Sprintf("%s-%s-%06d", user, typ, seq)
	uri := "imap://" + user + "@mail.example.org"
	if mailbox != "" {
		uri += fmt.Sprintf("/%s;UIDVALIDITY=1700000000/;UID=%d", mailbox, seq+1)
	}
	value := fmt.Sprintf(`{"event":%q,"timestamp":"2024-11-14T22:13:20.000Z","service":"imap","uri":%q,"user":%q,`+
		`"serverDomain":"mail.example.org","clientIP":"192.0.2.10","vnd.mailevents.id":%q,"vnd.mailevents.seq":%d,`+
		`"vnd.mailevents.source":"dovecot","messageSize":4711}`, typ, uri, user, id, seq)
	return sinks.Record{
		Key:   []byte(user),
		Value: []byte(value),
		Time:  time.Unix(1700000000+int64(seq), 0),
		Type:  typ,
		ID:    id,
		User:  user,
		URI:   uri,
	}
}

// deadLetter returns a record as the pipeline makes one for a rejected line.
func deadLetter(seq int) sinks.Record {
	return sinks.Record{Value: []byte(fmt.Sprintf(`{"reason":"unknown","line":"garbage %d"}`, seq))}
}

// baseConfig is a Config for b and topic with the package defaults.
func baseConfig(b *kafkatest.Broker, topic string) Config {
	return Config{Brokers: b.Addrs(), Topic: topic}
}

// mustOpen opens a Writer closed at cleanup.
func mustOpen(t testing.TB, cfg Config, opts Options) *Writer {
	t.Helper()
	w, err := Open(cfg, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := w.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return w
}

// writeCtx bounds one Write in a test, so that a hang fails instead of
// stalling the suite.
func writeCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustWrite(t testing.TB, w *Writer, batch []sinks.Record) {
	t.Helper()
	if err := w.Write(writeCtx(t), batch); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

// ids maps each record's mailevents-id header to how often it was read.
func ids(t testing.TB, msgs []kafkatest.Message) map[string]int {
	t.Helper()
	seen := make(map[string]int, len(msgs))
	for _, m := range msgs {
		id, ok := m.Header(HeaderID)
		if !ok {
			t.Fatalf("message at %s/%d@%d has no %s header", m.Topic, m.Partition, m.Offset, HeaderID)
		}
		if !strings.Contains(string(m.Value), fmt.Sprintf(`"vnd.mailevents.id":%q`, id)) {
			t.Fatalf("header id %q does not match value %s", id, m.Value)
		}
		seen[id]++
	}
	return seen
}

// tlog sends the sink's log to the test's, shown when it fails or with -v.
type tlog struct{ t testing.TB }

func (l tlog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// testLogger is a logger writing to t's log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tlog{t}, nil)).With("sink", t.Name())
}
