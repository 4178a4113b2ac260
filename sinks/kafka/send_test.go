package kafka

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	kafkago "github.com/segmentio/kafka-go"
)

func TestClassify(t *testing.T) {
	transient := kafkago.NotLeaderForPartition
	msg := func(topic, key string) kafkago.Message {
		m := kafkago.Message{Topic: topic}
		if key != "" {
			m.Key = []byte(key)
		}
		return m
	}
	msgs := []kafkago.Message{
		msg("t", "a"), msg("t", "b"), msg("t", "a"), msg("u", "a"), msg("t", "a"), msg("t", ""), msg("t", ""),
	}
	all := []int{0, 1, 2, 3, 4, 5, 6}
	tests := []struct {
		name     string
		errs     []error
		alone    []int
		next     []int
		tooLarge []int
		solo     []int
		logged   error // the retryable error's cause; nil: no retry
		fatal    bool
	}{
		{
			// a fails at 2: the later a (4) goes again though it succeeded,
			// the earlier a (0), a on another topic (3) and unkeyed ones do not.
			name:   "per-key order",
			errs:   []error{nil, nil, transient, nil, nil, nil, transient},
			next:   []int{2, 4, 6},
			logged: transient,
		},
		{
			name:   "too large in a shared request",
			errs:   []error{nil, kafkago.MessageSizeTooLarge, nil, nil, nil, nil, nil},
			next:   []int{1},
			solo:   []int{1},
			logged: kafkago.MessageSizeTooLarge,
		},
		{
			name:     "too large alone",
			errs:     []error{nil, kafkago.MessageSizeTooLarge, nil, nil, nil, nil, nil},
			alone:    []int{1},
			tooLarge: []int{1},
		},
		{
			// Skipped messages go again, but the error worth logging is
			// the one that stopped their partition.
			name:   "skipped after a failure",
			errs:   []error{nil, errSkipped, nil, nil, nil, transient, errSkipped},
			next:   []int{1, 5, 6},
			logged: transient,
		},
		{
			name:  "permanent",
			errs:  []error{nil, nil, kafkago.TopicAuthorizationFailed, nil, nil, nil, nil},
			fatal: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &Writer{name: "test"}
			out := newOutcome(len(msgs))
			copy(out.errs, tt.errs)
			for _, i := range tt.alone {
				out.alone[i] = true
			}
			next, tooLarge, err := w.classify(all, msgs, out)
			var r retryable
			switch {
			case tt.fatal:
				if err == nil || errors.As(err, &r) {
					t.Fatalf("err = %v, want a permanent error", err)
				}
				return
			case tt.logged == nil && err != nil:
				t.Fatalf("err = %v, want nil", err)
			case tt.logged != nil && (!errors.As(err, &r) || !errors.Is(r.err, tt.logged) || errors.Is(r.err, errSkipped)):
				t.Fatalf("err = %v, want retryable %v", err, tt.logged)
			}
			if diff := cmp.Diff(tt.next, next); diff != "" {
				t.Errorf("next (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.tooLarge, tooLarge); diff != "" {
				t.Errorf("tooLarge (-want +got):\n%s", diff)
			}
			var solo []int
			for i, s := range out.solo {
				if s {
					solo = append(solo, i)
				}
			}
			if diff := cmp.Diff(tt.solo, solo); diff != "" {
				t.Errorf("marked solo (-want +got):\n%s", diff)
			}
			var nacked uint64
			for i, e := range tt.errs {
				if e == nil {
					nacked++
					if !out.acked[i] {
						t.Errorf("message %d succeeded but is not marked acknowledged", i)
					}
				}
			}
			if got := w.Stats().Delivered; got != nacked {
				t.Errorf("Delivered = %d, want %d", got, nacked)
			}
			// A message acknowledged again, as a re-send after a later
			// failure of its key, is delivered once.
			_, _, _ = w.classify(all, msgs, out)
			if got := w.Stats().Delivered; got != nacked {
				t.Errorf("Delivered = %d after a second attempt, want %d", got, nacked)
			}
		})
	}
}

func TestRequestLen(t *testing.T) {
	msgs := make([]kafkago.Message, 10)
	for i := range msgs {
		msgs[i].Value = make([]byte, 100-messageOverhead) // 100 bytes each as counted
	}
	all := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	tests := []struct {
		name      string
		batchSize int
		bytes     int64
		solo      []int
		want      []int // request lengths, in order
	}{
		{name: "all fit", batchSize: 1000, bytes: 1 << 20, want: []int{10}},
		{name: "batch_size", batchSize: 4, bytes: 1 << 20, want: []int{4, 4, 2}},
		{name: "batch_bytes", batchSize: 1000, bytes: 350, want: []int{3, 3, 3, 1}},
		{name: "exactly batch_bytes", batchSize: 1000, bytes: 500, want: []int{5, 5}},
		{name: "solo", batchSize: 1000, bytes: 1 << 20, solo: []int{0, 4}, want: []int{1, 3, 1, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &Writer{cfg: Config{BatchSize: tt.batchSize, BatchBytes: tt.bytes}}
			solo := make([]bool, len(msgs))
			for _, i := range tt.solo {
				solo[i] = true
			}
			var got []int
			for rest := all; len(rest) > 0; {
				n := w.requestLen(msgs, rest, solo)
				if n < 1 {
					t.Fatalf("request of %d messages", n)
				}
				got = append(got, n)
				rest = rest[n:]
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("request lengths (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRecordReader(t *testing.T) {
	at := time.Unix(1700000000, 0)
	msgs := []kafkago.Message{
		{Key: []byte("k0"), Value: []byte("v0"), Time: at},
		{Value: []byte("v1"), Headers: []kafkago.Header{{Key: HeaderType, Value: []byte("Login")}}},
		{Key: []byte("k2"), Value: []byte("v2")},
	}
	r := &recordReader{msgs: msgs, idx: []int{2, 0, 1}}
	type rec struct {
		Key, Value string
		NilKey     bool
		Time       time.Time
		Headers    []kafkago.Header
	}
	var got []rec
	for {
		kr, err := r.ReadRecord()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		g := rec{NilKey: kr.Key == nil, Time: kr.Time, Headers: kr.Headers}
		if kr.Key != nil {
			b, _ := io.ReadAll(kr.Key)
			g.Key = string(b)
		}
		b, _ := io.ReadAll(kr.Value)
		g.Value = string(b)
		got = append(got, g)
	}
	want := []rec{
		{Key: "k2", Value: "v2"},
		{Key: "k0", Value: "v0", Time: at},
		{Value: "v1", NilKey: true, Headers: msgs[1].Headers},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
}
