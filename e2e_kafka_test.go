package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mailevents/mailevents/internal/daemontest"
	"github.com/mailevents/mailevents/internal/kafkatest"
)

// The README's backfill: rotated logs parsed straight into Kafka with
// --output kafka://HOST:PORT,HOST:PORT/TOPIC, read back with kcat.
func TestParseOutputKafka(t *testing.T) {
	t.Parallel()
	topic := kafkatest.TopicName(t)
	b := kafkatest.StartBroker(t, kafkatest.Options{Topics: []string{topic}})
	url := "kafka://" + strings.Join(b.Addrs(), ",") + "/" + topic
	out, err := exec.Command(daemontest.Binary(t), "parse", "--output", url, "--output", "-", "testdata/dovecot/mail.log").Output()
	if err != nil {
		t.Fatalf("parse --output %s: %v", url, err)
	}
	want := strings.Split(strings.TrimSpace(string(out)), "\n")
	got := b.Consume(t, topic)
	if len(got) != len(want) {
		t.Fatalf("kcat read %d messages, stdout had %d events", len(got), len(want))
	}
	seen := map[string]bool{}
	for _, m := range got {
		seen[string(m.Value)] = true
		if typ, _ := m.Header("mailevents-type"); !strings.Contains(string(m.Value), `"event":"`+typ+`"`) {
			t.Errorf("header mailevents-type %q does not match %s", typ, m.Value)
		}
	}
	for _, w := range want {
		if !seen[w] {
			t.Errorf("event on stdout but not in Kafka: %s", w)
		}
	}
}

// The daemon with a Kafka output and a file output from one config: the
// broker is killed in the middle of the stream and started again; every
// line's event reaches both, duplicates only with the same id.
func TestRunKafkaBrokerRestart(t *testing.T) {
	t.Parallel()
	topic := kafkatest.TopicName(t)
	b := kafkatest.StartBroker(t, kafkatest.Options{Topics: []string{topic}, Local: true})
	r := newRunDir(t)
	conf := filepath.Join(r.dir, "mailevents.toml")
	var brokers []string
	for _, a := range b.Addrs() {
		brokers = append(brokers, `"`+a+`"`)
	}
	cfg := "state_dir = \"" + r.state + "\"\n" +
		"[[input]]\npaths = [\"" + r.log + "\"]\nfrom_start = true\n" +
		"[[sink]]\nname = \"archive\"\npath = \"" + r.out + "\"\n" +
		"[[sink]]\nname = \"kafka\"\ntype = \"kafka\"\n[sink.kafka]\nbrokers = [" + strings.Join(brokers, ",") + "]\ntopic = \"" + topic + "\"\n"
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	w := daemontest.NewLogWriter(t, r.log)
	w.Append(500)
	d := daemontest.Start(t, "run", "--config", conf)
	d.WaitLog("msg=running", 30*time.Second)
	r.waitDelivered(t, w)
	b.Kill(t)
	w.Append(500)
	time.Sleep(500 * time.Millisecond) // the daemon retries against a dead cluster
	b.Restart(t)
	w.Append(500)
	r.waitDelivered(t, w)
	d.Signal(syscall.SIGTERM)
	if err := d.Wait(60 * time.Second); err != nil {
		t.Fatal(err)
	}
	var events []daemontest.Event
	for _, m := range b.Consume(t, topic) {
		id, _ := m.Header("mailevents-id")
		var e daemontest.Event
		e.ID, e.Raw = id, string(m.Value)
		if i := strings.Index(e.Raw, `"uri":"`); i >= 0 {
			e.URI = e.Raw[i+7 : i+7+strings.Index(e.Raw[i+7:], `"`)]
		}
		events = append(events, e)
	}
	got := daemontest.Check(events, w.Written())
	t.Logf("kafka after a broker kill: %s", got)
	if !got.Complete() || len(got.Unexpected) > 0 || len(got.IDMismatch) > 0 {
		t.Fatalf("kafka delivery: %s", got)
	}
	assertExact(t, daemontest.Check(daemontest.ReadEvents(t, r.out), w.Written()))
}
