package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailevents/mailevents/internal/daemontest"
	"github.com/mailevents/mailevents/internal/kafkatest"
	"github.com/mailevents/mailevents/seal"
)

// verifyArchive runs `mailevents verify --json` and returns its exit code
// and report.
func verifyArchive(t *testing.T, args ...string) (int, seal.Report, string) {
	t.Helper()
	cmd := exec.Command(daemontest.Binary(t), append([]string{"verify", "--json"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	var rep seal.Report
	if jerr := json.Unmarshal(out, &rep); jerr != nil {
		t.Fatalf("verify %v: exit %d, not JSON (%v):\n%s\n%s", args, code, jerr, out, stderr.String())
	}
	return code, rep, string(out)
}

// The daemon writes one sealed stream to a file and one to Kafka, and is
// killed with SIGKILL and started again several times. Both archives
// verify (the events re-sent after each kill are notes), they hold every
// line's event, and a copy with one event changed does not verify.
func TestRunSealedKillRestart(t *testing.T) {
	t.Parallel()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed>>1))
	topic := kafkatest.TopicName(t)
	b := kafkatest.StartBroker(t, kafkatest.Options{Topics: []string{topic}})
	r := newRunDir(t)
	key := filepath.Join(r.dir, "seal.key")
	if out, err := exec.Command(daemontest.Binary(t), "keygen", "--out", key).CombinedOutput(); err != nil {
		t.Fatalf("keygen: %v\n%s", err, out)
	}
	var brokers []string
	for _, a := range b.Addrs() {
		brokers = append(brokers, `"`+a+`"`)
	}
	conf := filepath.Join(r.dir, "mailevents.toml")
	cfg := "state_dir = \"" + r.state + "\"\ncheckpoint_interval = \"2s\"\n" +
		"[[input]]\npaths = [\"" + r.log + "\"]\nfrom_start = true\n" +
		"[[sink]]\nname = \"archive\"\npath = \"" + r.out + "\"\n" +
		"[sink.seal]\nkey_file = \"" + key + "\"\ninterval = \"1s\"\n" +
		"[[sink]]\nname = \"kafka\"\ntype = \"kafka\"\n[sink.kafka]\nbrokers = [" + strings.Join(brokers, ",") + "]\ntopic = \"" + topic + "\"\n" +
		"[sink.seal]\nkey_file = \"" + key + "\"\nstream = \"e2e/kafka\"\ninterval = \"1s\"\n"
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	w := daemontest.NewLogWriter(t, r.log)
	w.Append(200)
	start := func() *daemontest.Daemon {
		d := daemontest.Start(t, "run", "--config", conf)
		d.WaitLog("msg=running", 30*time.Second)
		return d
	}
	d := start()
	for range 4 {
		w.Append(100 + rng.IntN(200))
		// Killed before the next checkpoint save (2s): what was written
		// since the last one is written again after the start.
		time.Sleep(time.Duration(200+rng.IntN(700)) * time.Millisecond)
		d.Kill()
		w.Append(rng.IntN(50)) // written while the daemon is down
		d = start()
	}
	w.Append(100)
	r.waitDelivered(t, w)
	stopDaemon(t, d)
	if got := daemontest.Check(daemontest.ReadEvents(t, r.out), w.Written()); !got.Complete() || len(got.IDMismatch) > 0 {
		t.Fatalf("file delivery: %s", got)
	}

	pub := key + ".pub"
	consumed := b.Consume(t, topic)
	for name, args := range map[string][]string{
		"file":  {"--key", pub, r.out},
		"kafka": {"--key", pub, "--input", "kafka://" + strings.Join(b.Addrs(), ",") + "/" + topic},
	} {
		code, rep, out := verifyArchive(t, args...)
		if code != 0 || !rep.Intact || len(rep.Streams) != 1 {
			t.Fatalf("%s archive: exit %d:\n%s", name, code, out)
		}
		s := rep.Streams[0]
		if s.LastSeq != int64(w.Written()) || s.Events != w.Written() || s.LastSeal == nil || !s.LastSeal.Final || s.LastSeal.Seq != s.LastSeq || s.Seals < 2 {
			t.Fatalf("%s archive: want %d events sealed to the end:\n%s", name, w.Written(), out)
		}
		t.Logf("%s archive: %d events, %d records, %d seals, findings %+v", name, s.Events, s.Records, s.Seals, s.Findings)
		if name == "kafka" && rep.Records != len(consumed) {
			t.Fatalf("verify read %d records of the topic, kcat %d", rep.Records, len(consumed))
		}
		if name == "file" && !strings.Contains(out, `"kind": "duplicate"`) {
			t.Fatalf("no event was written twice: the kills did not interrupt anything\n%s", out)
		}
	}

	// One event changed in a copy of the file, and in a copy of the topic
	// (a file per partition, as partitions are read).
	data, err := os.ReadFile(r.out)
	if err != nil {
		t.Fatal(err)
	}
	tampered := filepath.Join(r.dir, "tampered.jsonl")
	i := bytes.Index(data[len(data)/2:], []byte(`"vnd.mailevents.server":"dovecot"`)) + len(data)/2
	changed := replaceAt(data, i, []byte(`"vnd.mailevents.server":"cyrus"`), len(`"vnd.mailevents.server":"dovecot"`))
	if err := os.WriteFile(tampered, changed, 0o644); err != nil {
		t.Fatal(err)
	}
	var parts []string
	files := map[int32]*bytes.Buffer{}
	for _, m := range consumed {
		if files[m.Partition] == nil {
			files[m.Partition] = &bytes.Buffer{}
		}
		files[m.Partition].Write(append(m.Value, '\n'))
	}
	for p, buf := range files {
		name := filepath.Join(r.dir, fmt.Sprintf("kafka-%d.jsonl", p))
		text := buf.Bytes()
		if len(parts) == 0 {
			text = bytes.Replace(text, []byte(`"user":"user`), []byte(`"user":"xuser`), 1)
		}
		if err := os.WriteFile(name, text, 0o644); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, name)
	}
	for name, args := range map[string][]string{
		"file":  {"--key", pub, tampered},
		"kafka": append([]string{"--key", pub}, parts...),
	} {
		code, rep, out := verifyArchive(t, args...)
		if code != 1 || rep.Intact || !strings.Contains(out, `"kind": "altered"`) {
			t.Fatalf("tampered %s archive: exit %d:\n%s", name, code, out)
		}
	}
}

// replaceAt returns data with n bytes at i replaced by repl.
func replaceAt(data []byte, i int, repl []byte, n int) []byte {
	out := append([]byte(nil), data[:i]...)
	out = append(out, repl...)
	return append(out, data[i+n:]...)
}
