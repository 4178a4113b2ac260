package kafkatest

import (
	"context"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mailevents/mailevents/internal/mailtest"
)

func TestParseKcat(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Message
		err  string
	}{
		{name: "empty", in: "", want: nil},
		{
			name: "keyed with headers",
			in: `{"topic":"t","partition":2,"offset":7,"tstype":"create","ts":1700000000123,"broker":1,` +
				`"headers":["mailevents-type","Login","x","a\tb"],"key":"alice","payload":"{\"event\":\"Login\"}"}` + "\n",
			want: []Message{{
				Topic: "t", Partition: 2, Offset: 7, Time: time.UnixMilli(1700000000123),
				Key: []byte("alice"), Value: []byte(`{"event":"Login"}`),
				Headers: []Header{{"mailevents-type", "Login"}, {"x", "a\tb"}},
			}},
		},
		{
			name: "null key, blank line",
			in:   `{"topic":"t","partition":0,"offset":0,"ts":1000,"key":null,"payload":"v"}` + "\n\n",
			want: []Message{{Topic: "t", Time: time.UnixMilli(1000), Value: []byte("v")}},
		},
		{name: "odd headers", in: `{"topic":"t","headers":["k"],"payload":"v"}`, err: "odd header list"},
		{name: "not JSON", in: "% Reached end of topic\n", err: "parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseKcat([]byte(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("parseKcat: %v, want an error with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseKcat (-want +got):\n%s", diff)
			}
		})
	}
}

// produce writes key:value lines with kcat, so this package's own test
// needs no producer from the code it serves.
func produce(t *testing.T, b *Broker, topic string, lines ...string) {
	t.Helper()
	bin, err := exec.LookPath("kcat")
	if err != nil {
		mailtest.Missing(t, err, "kcat not installed", EnvSkip, install)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-P", "-b", strings.Join(b.Addrs(), ","), "-t", topic, "-K", ":", "-H", "h=v",
		"-X", "acks=all")
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kcat -P: %v\n%s", err, out)
	}
}

func TestBrokerSurvivesKill(t *testing.T) {
	topic := TopicName(t)
	b := StartBroker(t, Options{Local: true, Topics: []string{topic}, Partitions: 1})
	if len(b.Addrs()) != 3 {
		t.Fatalf("Addrs() = %v, want 3 brokers", b.Addrs())
	}
	produce(t, b, topic, "k1:v1", "k2:v2")
	b.Kill(t)
	// Nothing listens between Kill and Restart.
	if conn, err := net.DialTimeout("tcp", b.Addrs()[0], time.Second); err == nil {
		conn.Close()
		t.Fatalf("%s still accepts connections after Kill", b.Addrs()[0])
	}
	b.Restart(t)
	produce(t, b, topic, "k3:v3")

	var got []string
	for _, m := range b.Consume(t, topic) {
		h, _ := m.Header("h")
		got = append(got, string(m.Key)+":"+string(m.Value)+":"+h)
	}
	if diff := cmp.Diff([]string{"k1:v1:v", "k2:v2:v", "k3:v3:v"}, got); diff != "" {
		t.Errorf("records after kill and restart (-want +got):\n%s", diff)
	}
}

func TestTopicName(t *testing.T) {
	a, b := TopicName(t), TopicName(t)
	if a == b {
		t.Errorf("TopicName returned %q twice", a)
	}
	if !strings.HasPrefix(a, "TestTopicName-") {
		t.Errorf("TopicName = %q, want it to start with the test's name", a)
	}
	for _, r := range a {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
			t.Errorf("TopicName = %q has %q, not allowed in a topic", a, r)
		}
	}
}
