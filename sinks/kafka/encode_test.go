package kafka

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	kafkago "github.com/segmentio/kafka-go"

	"github.com/mailevents/mailevents/sinks"
)

// javaMurmur2 is Kafka's Utils.murmur2, written from the Java source
// independently of kafka-go's port, to check where keys must land.
func javaMurmur2(data []byte) int32 {
	const seed, m, r = int32(-1756908916), int32(0x5bd1e995), 24
	n := len(data)
	h := seed ^ int32(n)
	for i := 0; i+4 <= n; i += 4 {
		k := int32(data[i]) | int32(data[i+1])<<8 | int32(data[i+2])<<16 | int32(data[i+3])<<24
		k *= m
		k ^= int32(uint32(k) >> r)
		k *= m
		h *= m
		h ^= k
	}
	rest := n &^ 3
	switch n % 4 {
	case 3:
		h ^= int32(data[rest+2]) << 16
		fallthrough
	case 2:
		h ^= int32(data[rest+1]) << 8
		fallthrough
	case 1:
		h ^= int32(data[rest])
		h *= m
	}
	h ^= int32(uint32(h) >> 13)
	h *= m
	h ^= int32(uint32(h) >> 15)
	return h
}

// javaPartition is the Java default partitioner's choice for a non-null key.
func javaPartition(hash int32, partitions int) int32 {
	return (hash & 0x7fffffff) % int32(partitions)
}

// kafkaMurmur2Vectors are UtilsTest.testMurmur2's cases in Apache Kafka's
// Java client (clients/src/test/java/org/apache/kafka/common/utils).
var kafkaMurmur2Vectors = []struct {
	key  string
	hash int32
}{
	{"21", -973932308},
	{"foobar", -790332482},
	{"a-little-bit-long-string", -985981536},
	{"a-little-bit-longer-string", -1486304829},
	{"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
	{"abc", 479470107},
}

func TestJavaMurmur2Vectors(t *testing.T) {
	for _, v := range kafkaMurmur2Vectors {
		if got := javaMurmur2([]byte(v.key)); got != v.hash {
			t.Errorf("javaMurmur2(%q) = %d, want %d", v.key, got, v.hash)
		}
	}
}

func TestBalancerMatchesJava(t *testing.T) {
	keys := []string{"alice", "bob@example.org", "imap://carol@mail.example.org/INBOX", "x", ""}
	for _, v := range kafkaMurmur2Vectors {
		keys = append(keys, v.key)
	}
	parts := []int{0, 1, 2, 3, 4, 5, 6}
	for _, k := range keys {
		for _, n := range []int{1, 3, 7} {
			got := kafkago.Murmur2Balancer{}.Balance(kafkago.Message{Key: []byte(k)}, parts[:n]...)
			if want := javaPartition(javaMurmur2([]byte(k)), n); int32(got) != want {
				t.Errorf("key %q, %d partitions: kafka-go chose %d, Java %d", k, n, got, want)
			}
		}
	}
}

func TestEncodeKeys(t *testing.T) {
	ev := testEvent("alice", "MessageNew", "Archive/2024", 7)
	login := testEvent("alice", "Login", "", 8)
	noKey := ev
	noKey.Key = nil
	tests := []struct {
		mode string
		rec  sinks.Record
		want []byte // nil: no key
	}{
		{KeyUser, ev, []byte("alice")},
		{KeyUser, noKey, []byte("alice")}, // falls back to User
		{KeyUser, deadLetter(1), nil},
		{KeyMailbox, ev, []byte("imap://alice@mail.example.org/Archive/2024")},
		{KeyMailbox, login, []byte("alice")},
		{KeyMailbox, deadLetter(1), nil},
		{KeyID, ev, []byte(ev.ID)},
		{KeyID, deadLetter(1), nil},
		{KeyNone, ev, nil},
	}
	for _, tt := range tests {
		t.Run(tt.mode+"/"+tt.rec.Type, func(t *testing.T) {
			cfg := Config{Topic: "t", Key: tt.mode}.withDefaults()
			e := encoder{cfg: &cfg}
			msgs, _, _ := e.encode([]sinks.Record{tt.rec})
			got := msgs[0].Key
			if (got == nil) != (tt.want == nil) || string(got) != string(tt.want) {
				t.Errorf("key %q (nil %v), want %q (nil %v)", got, got == nil, tt.want, tt.want == nil)
			}
		})
	}
}

func TestEncodeHeadersAndRouting(t *testing.T) {
	cfg := Config{Topic: "all", TopicByGroup: map[string]string{"message": "msgs", "access": "logins"}}.withDefaults()
	e := encoder{cfg: &cfg, headers: true, routed: true}
	bad := testEvent("bob", "FlagsSet", "INBOX", 2)
	bad.URI = "not a url"
	batch := []sinks.Record{
		testEvent("alice", "MessageNew", "INBOX", 1),
		bad,
		testEvent("carol", "vnd.mailevents.LoginFailed", "", 3),
		{Value: []byte(`{"event":"vnd.other.Thing"}`), Type: "vnd.other.Thing", ID: "x1"},
		deadLetter(4),
	}
	msgs, recs, over := e.encode(batch)
	if len(over) != 0 || len(msgs) != len(batch) {
		t.Fatalf("encode: %d messages, %d oversized; want %d, 0", len(msgs), len(over), len(batch))
	}
	type got struct {
		Topic   string
		Headers []kafkago.Header
	}
	h := func(kv ...string) []kafkago.Header {
		var out []kafkago.Header
		for i := 0; i < len(kv); i += 2 {
			out = append(out, kafkago.Header{Key: kv[i], Value: []byte(kv[i+1])})
		}
		return out
	}
	want := []got{
		{"msgs", h(HeaderType, "MessageNew", HeaderID, batch[0].ID, HeaderHost, "mail.example.org")},
		{"all", h(HeaderType, "FlagsSet", HeaderID, batch[1].ID)}, // no group entry; no parsable host
		{"logins", h(HeaderType, "vnd.mailevents.LoginFailed", HeaderID, batch[2].ID, HeaderHost, "mail.example.org")},
		{"all", h(HeaderType, "vnd.other.Thing", HeaderID, "x1")}, // vendor type without group
		{"all", h(HeaderType, DeadLetterType)},
	}
	for i, m := range msgs {
		if recs[i] != i {
			t.Errorf("message %d comes from record %d", i, recs[i])
		}
		if diff := cmp.Diff(want[i], got{m.Topic, m.Headers}); diff != "" {
			t.Errorf("message %d (-want +got):\n%s", i, diff)
		}
		if string(m.Value) != string(batch[i].Value) || !m.Time.Equal(batch[i].Time) {
			t.Errorf("message %d: value/time not the record's", i)
		}
	}
}

func TestEncodeCopiesAndOversize(t *testing.T) {
	cfg := Config{Topic: "t", MaxMessageBytes: 1000}.withDefaults()
	e := encoder{cfg: &cfg, headers: true}
	small := testEvent("alice", "MessageNew", "INBOX", 1)
	big := testEvent("bob", "MessageNew", "INBOX", 2)
	big.Value = []byte(`{"pad":"` + strings.Repeat("x", 1000) + `"}`)
	batch := []sinks.Record{small, big, testEvent("carol", "Login", "", 3)}
	msgs, recs, over := e.encode(batch)
	if diff := cmp.Diff([]int{0, 2}, recs); diff != "" {
		t.Errorf("records sent (-want +got):\n%s", diff)
	}
	if len(over) != 1 || over[0].rec != 1 {
		t.Fatalf("oversized = %+v, want record 1", over)
	}
	var tl *TooLargeError
	if !errors.As(over[0].err, &tl) || !errors.Is(over[0].err, ErrTooLarge) {
		t.Fatalf("oversize error %v is not a *TooLargeError wrapping ErrTooLarge", over[0].err)
	}
	if tl.ID != big.ID || tl.Size <= 1000 || tl.Max != 1000 || tl.Broker {
		t.Errorf("TooLargeError = %+v", tl)
	}
	if msg := tl.Error(); !strings.Contains(msg, big.ID) || !strings.Contains(msg, fmt.Sprint(tl.Size)) {
		t.Errorf("error %q does not name the record id and size", msg)
	}
	// The messages must not alias the caller's memory, which it reuses.
	want := string(batch[0].Value)
	for i := range batch[0].Value {
		batch[0].Value[i] = 'X'
	}
	batch[0].Key[0] = 'X'
	if string(msgs[0].Value) != want || string(msgs[0].Key) != "alice" {
		t.Errorf("message changed with the caller's buffers: key %q value %q", msgs[0].Key, msgs[0].Value)
	}
}
