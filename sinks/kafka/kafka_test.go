package kafka

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mailevents/mailevents/internal/kafkatest"
	"github.com/mailevents/mailevents/sinks"
	"github.com/mailevents/mailevents/sinks/sinktest"
)

func TestConformance(t *testing.T) {
	b := kafkatest.StartBroker(t, kafkatest.Options{})
	var topic string
	sinktest.Run(t, sinktest.Harness{
		New: func(t *testing.T) sinks.Sink {
			// One partition: the suite reads back in write order, which Kafka
			// keeps only within a partition. The suite's large record is 1 MiB,
			// over the broker's default message.max.bytes, so the topic and
			// the sink both allow more.
			topic = kafkatest.TopicName(t)
			b.CreateTopic(t, topic, 1, map[string]string{"max.message.bytes": "4000000"})
			cfg := baseConfig(b, topic)
			cfg.MaxMessageBytes = 2 << 20
			w, err := Open(cfg, Options{})
			if err != nil {
				t.Fatal(err)
			}
			return w
		},
		ReadBack: func(t *testing.T) [][]byte {
			var out [][]byte
			for _, m := range b.Consume(t, topic) {
				out = append(out, m.Value)
			}
			return out
		},
	})
}

// TestKeys checks where each key mode puts records: the key kcat reads,
// the partition Java's partitioner would choose for it, and per-key order.
func TestKeys(t *testing.T) {
	const partitions = 3
	b := kafkatest.StartBroker(t, kafkatest.Options{Partitions: partitions})
	users := []string{"alice", "bob", "carol", "dave", "erin"}
	mailboxes := []string{"INBOX", "Sent", "Archive/2024"}
	// Interleaved users and mailboxes, as a busy server logs them.
	var events []sinks.Record
	for i := range 300 {
		typ := "MessageNew"
		mbox := mailboxes[i%len(mailboxes)]
		if i%10 == 0 {
			typ, mbox = "Login", ""
		}
		events = append(events, testEvent(users[i%len(users)], typ, mbox, i))
	}
	tests := []struct {
		mode string
		key  func(rec sinks.Record) string // "": no key
	}{
		{KeyUser, func(rec sinks.Record) string { return rec.User }},
		{KeyMailbox, func(rec sinks.Record) string {
			if rec.Type == "Login" {
				return rec.User
			}
			return "imap://" + rec.User + "@mail.example.org/" + mailboxes[seqOf(t, rec.Value)%len(mailboxes)]
		}},
		{KeyID, func(rec sinks.Record) string { return rec.ID }},
		{KeyNone, func(sinks.Record) string { return "" }},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			topic := kafkatest.TopicName(t)
			b.CreateTopic(t, topic, partitions, nil)
			cfg := baseConfig(b, topic)
			cfg.Key = tt.mode
			w := mustOpen(t, cfg, Options{})
			for batch := range slices.Chunk(events, 64) {
				mustWrite(t, w, batch)
			}
			msgs := b.Consume(t, topic)
			if len(msgs) != len(events) {
				t.Fatalf("read %d messages, want %d", len(msgs), len(events))
			}
			lastSeq := map[string]int{}
			used := map[int32]bool{}
			for _, m := range msgs {
				seq := seqOf(t, m.Value)
				want := tt.key(events[seq])
				used[m.Partition] = true
				if want == "" {
					if m.Key != nil {
						t.Errorf("seq %d: key %q, want none", seq, m.Key)
					}
					continue
				}
				if string(m.Key) != want {
					t.Errorf("seq %d: key %q, want %q", seq, m.Key, want)
				}
				if p := javaPartition(javaMurmur2(m.Key), partitions); m.Partition != p {
					t.Errorf("key %q on partition %d; Java's partitioner puts it on %d", m.Key, m.Partition, p)
				}
				// Consume returns each partition in offset order, so a key's
				// records must come in the order they were written.
				if prev, ok := lastSeq[want]; ok && seq <= prev {
					t.Errorf("key %q: seq %d after %d", want, seq, prev)
				}
				lastSeq[want] = seq
			}
			if len(used) < 2 {
				t.Errorf("all %d records on partitions %v: keys are not spread", len(msgs), used)
			}
		})
	}
}

// TestKafkaMurmur2Vectors writes with the keys of Kafka's own murmur2 test
// and checks kcat finds each on the partition its published hash gives.
func TestKafkaMurmur2Vectors(t *testing.T) {
	const partitions = 7
	b := kafkatest.StartBroker(t, kafkatest.Options{})
	topic := kafkatest.TopicName(t)
	b.CreateTopic(t, topic, partitions, nil)
	w := mustOpen(t, baseConfig(b, topic), Options{})
	var batch []sinks.Record
	for i, v := range kafkaMurmur2Vectors {
		rec := testEvent("u", "Login", "", i)
		rec.Key = []byte(v.key)
		batch = append(batch, rec)
	}
	mustWrite(t, w, batch)
	got := map[string]int32{}
	for _, m := range b.Consume(t, topic) {
		got[string(m.Key)] = m.Partition
	}
	for _, v := range kafkaMurmur2Vectors {
		if p, want := got[v.key], javaPartition(v.hash, partitions); p != want {
			t.Errorf("key %q on partition %d, want %d", v.key, p, want)
		}
	}
}

func TestCompression(t *testing.T) {
	b := kafkatest.StartBroker(t, kafkatest.Options{})
	for _, codec := range compressions {
		t.Run(codec, func(t *testing.T) {
			topic := kafkatest.TopicName(t)
			b.CreateTopic(t, topic, 3, nil)
			cfg := baseConfig(b, topic)
			cfg.Compression = codec
			w := mustOpen(t, cfg, Options{})
			var want []string
			for batch := range 3 {
				var recs []sinks.Record
				for i := range 100 {
					rec := testEvent(fmt.Sprint("user", i%7), "MessageNew", "INBOX", batch*100+i)
					recs = append(recs, rec)
					want = append(want, string(rec.Value))
				}
				mustWrite(t, w, recs)
			}
			var got []string
			for _, m := range b.Consume(t, topic) {
				got = append(got, string(m.Value))
			}
			slices.Sort(want)
			slices.Sort(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("values read back (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	b := kafkatest.StartBroker(t, kafkatest.Options{})
	unparsable := testEvent("bob", "FlagsSet", "INBOX", 1)
	unparsable.URI = "imap://bob@[bad"
	batch := []sinks.Record{testEvent("alice", "MessageNew", "INBOX", 0), unparsable, deadLetter(2)}
	want := [][]kafkatest.Header{
		{{Key: HeaderType, Value: "MessageNew"}, {Key: HeaderID, Value: batch[0].ID}, {Key: HeaderHost, Value: "mail.example.org"}},
		{{Key: HeaderType, Value: "FlagsSet"}, {Key: HeaderID, Value: batch[1].ID}},
		{{Key: HeaderType, Value: DeadLetterType}},
	}
	for _, on := range []bool{true, false} {
		t.Run(fmt.Sprint("headers=", on), func(t *testing.T) {
			topic := kafkatest.TopicName(t)
			b.CreateTopic(t, topic, 1, nil)
			cfg := baseConfig(b, topic)
			cfg.Headers = &on
			w := mustOpen(t, cfg, Options{})
			mustWrite(t, w, batch)
			msgs := b.Consume(t, topic)
			if len(msgs) != len(batch) {
				t.Fatalf("read %d messages, want %d", len(msgs), len(batch))
			}
			for i, m := range msgs {
				var w []kafkatest.Header
				if on {
					w = want[i]
				}
				if diff := cmp.Diff(w, m.Headers); diff != "" {
					t.Errorf("message %d headers (-want +got):\n%s", i, diff)
				}
				// A dead letter has no time of its own; kafka-go stamps it.
				if rt := batch[i].Time; !rt.IsZero() && !m.Time.Equal(rt) || rt.IsZero() && m.Time.Year() < 2000 {
					t.Errorf("message %d timestamp %v, want the record's %v", i, m.Time, rt)
				}
			}
		})
	}
}

func TestTopicByGroup(t *testing.T) {
	b := kafkatest.StartBroker(t, kafkatest.Options{})
	base, message, access := kafkatest.TopicName(t), kafkatest.TopicName(t), kafkatest.TopicName(t)
	for _, topic := range []string{base, message, access} {
		b.CreateTopic(t, topic, 3, nil)
	}
	cfg := baseConfig(b, base)
	cfg.TopicByGroup = map[string]string{"message": message, "access": access}
	w := mustOpen(t, cfg, Options{})
	vendor := testEvent("dave", "vnd.example.Thing", "", 5)
	mustWrite(t, w, []sinks.Record{
		testEvent("alice", "MessageNew", "INBOX", 0),
		testEvent("alice", "MessageExpunge", "INBOX", 1),
		testEvent("bob", "Login", "", 2),
		testEvent("bob", "vnd.mailevents.LoginFailed", "", 3),
		testEvent("carol", "FlagsSet", "INBOX", 4), // flags: no entry
		vendor,        // no group
		deadLetter(6), // dead letters: always the base topic
	})
	got := map[string][]string{}
	for _, topic := range []string{base, message, access} {
		for _, m := range b.Consume(t, topic) {
			typ, _ := m.Header(HeaderType)
			got[topic] = append(got[topic], typ)
		}
		slices.Sort(got[topic])
	}
	want := map[string][]string{
		message: {"MessageExpunge", "MessageNew"},
		access:  {"Login", "vnd.mailevents.LoginFailed"},
		base:    {"FlagsSet", DeadLetterType, "vnd.example.Thing"},
	}
	slices.Sort(want[base])
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("types per topic (-want +got):\n%s", diff)
	}
}

// seqOf returns a test event's vnd.mailevents.seq.
func seqOf(t testing.TB, value []byte) int {
	t.Helper()
	var v struct {
		Seq *int `json:"vnd.mailevents.seq"`
	}
	if err := json.Unmarshal(value, &v); err != nil || v.Seq == nil {
		t.Fatalf("no vnd.mailevents.seq in %s (%v)", value, err)
	}
	return *v.Seq
}

// TestSplitRequests makes each partition's share of a batch take several
// produce requests, by count and by bytes, and checks that every record
// arrives once and each key's records in order.
func TestSplitRequests(t *testing.T) {
	b := kafkatest.StartBroker(t, kafkatest.Options{})
	users := []string{"alice", "bob", "carol", "dave", "erin"}
	var events []sinks.Record
	for i := range 400 {
		events = append(events, testEvent(users[i%len(users)], "MessageNew", "INBOX", i))
	}
	for _, tt := range []struct {
		name     string
		size     int
		maxBytes int
	}{
		{"batch_size", 7, 0},
		{"batch_bytes", 0, 2000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			topic := kafkatest.TopicName(t)
			b.CreateTopic(t, topic, 3, nil)
			cfg := baseConfig(b, topic)
			cfg.BatchSize = tt.size
			cfg.MaxMessageBytes, cfg.BatchBytes = tt.maxBytes, int64(tt.maxBytes)
			w := mustOpen(t, cfg, Options{})
			for batch := range slices.Chunk(events, 200) {
				mustWrite(t, w, batch)
			}
			msgs := b.Consume(t, topic)
			seen := ids(t, msgs)
			if len(msgs) != len(events) || len(seen) != len(events) {
				t.Fatalf("read %d messages with %d distinct ids, want %d", len(msgs), len(seen), len(events))
			}
			last := map[string]int{}
			for _, m := range msgs {
				seq := seqOf(t, m.Value)
				if prev, ok := last[string(m.Key)]; ok && seq <= prev {
					t.Errorf("key %q: seq %d after %d", m.Key, seq, prev)
				}
				last[string(m.Key)] = seq
			}
			if st := w.Stats(); st.Delivered != uint64(len(events)) || st.Errors != 0 {
				t.Errorf("Stats = %+v, want %d delivered and no errors", st, len(events))
			}
		})
	}
}
