package kafka

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mailevents/mailevents/internal/kafkatest"
	"github.com/mailevents/mailevents/sinks"
)

// bigEvent is testEvent padded to about size bytes.
func bigEvent(user string, seq, size int) sinks.Record {
	rec := testEvent(user, "MessageNew", "INBOX", seq)
	pad := `,"vnd.test.pad":"` + strings.Repeat("p", size) + `"}`
	rec.Value = append(rec.Value[:len(rec.Value)-1:len(rec.Value)-1], pad...)
	return rec
}

// oversizeBatch is 20 events of which 3 and 11 are about big bytes.
func oversizeBatch(big int) (batch []sinks.Record, bigIDs []string) {
	for i := range 20 {
		user := fmt.Sprint("user", i%4)
		if i == 3 || i == 11 {
			rec := bigEvent(user, i, big)
			batch = append(batch, rec)
			bigIDs = append(bigIDs, rec.ID)
			continue
		}
		batch = append(batch, testEvent(user, "MessageNew", "INBOX", i))
	}
	return batch, bigIDs
}

// oversizeLog collects what Options.Oversize receives.
type oversizeLog struct {
	ids  []string
	errs []*TooLargeError
}

func (l *oversizeLog) handle(t testing.TB) func(sinks.Record, error) {
	return func(rec sinks.Record, err error) {
		var tl *TooLargeError
		if !errors.As(err, &tl) || !errors.Is(err, ErrTooLarge) {
			t.Errorf("Oversize got %v, want a *TooLargeError", err)
			return
		}
		l.ids = append(l.ids, rec.ID)
		l.errs = append(l.errs, tl)
	}
}

func TestOversize(t *testing.T) {
	b := kafkatest.StartBroker(t, kafkatest.Options{})
	batch, bigIDs := oversizeBatch(5000)
	tests := []struct {
		name string
		// broker: the topic's max.message.bytes is what is exceeded, not
		// the sink's max_message_bytes.
		broker   bool
		callback bool
	}{
		{name: "sink limit/callback", callback: true},
		{name: "sink limit/no callback"},
		{name: "broker limit/callback", broker: true, callback: true},
		{name: "broker limit/no callback", broker: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topic := kafkatest.TopicName(t)
			cfg := baseConfig(b, topic)
			// The broker counts compressed bytes, and the padding would
			// compress to almost nothing.
			cfg.Compression = "none"
			if tt.broker {
				b.CreateTopic(t, topic, 3, map[string]string{"max.message.bytes": "3000"})
			} else {
				b.CreateTopic(t, topic, 3, nil)
				cfg.MaxMessageBytes = 3000
			}
			var log oversizeLog
			opts := Options{Logger: testLogger(t)}
			if tt.callback {
				opts.Oversize = log.handle(t)
			}
			w := mustOpen(t, cfg, opts)
			err := w.Write(writeCtx(t), batch)

			// Delivered: every small record, except when the sink refuses
			// the batch up front (it would be retried whole, failing again).
			wantDelivered := map[string]int{}
			if tt.callback || tt.broker {
				for _, rec := range batch {
					if !slices.Contains(bigIDs, rec.ID) {
						wantDelivered[rec.ID] = 1
					}
				}
			}
			if diff := cmp.Diff(wantDelivered, ids(t, b.Consume(t, topic))); diff != "" {
				t.Errorf("ids read back (-want +got):\n%s", diff)
			}

			if !tt.callback {
				if err == nil {
					t.Fatal("Write succeeded without an Oversize callback; the big records would be lost")
				}
				for _, id := range bigIDs {
					if !strings.Contains(err.Error(), id) {
						t.Errorf("error %q does not name record %s", err, id)
					}
				}
				if !errors.Is(err, ErrTooLarge) {
					t.Errorf("error %v does not wrap ErrTooLarge", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Write: %v", err)
			}
			if diff := cmp.Diff(bigIDs, log.ids); diff != "" {
				t.Errorf("records given to Oversize (-want +got):\n%s", diff)
			}
			for _, e := range log.errs {
				if e.Broker != tt.broker || e.Size < 5000 || e.Max != w.cfg.MaxMessageBytes {
					t.Errorf("TooLargeError %+v: want Broker %v, Size >= 5000, Max %d", e, tt.broker, w.cfg.MaxMessageBytes)
				}
			}
			if st := w.Stats(); st.Oversize != 2 || st.Delivered != 18 {
				t.Errorf("Stats = %+v, want 2 oversize and 18 delivered", st)
			}
		})
	}
}
