package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mailevents/mailevents/internal/daemontest"
)

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

// The session a line belongs to was logged in before the restart: the event
// after it still carries the session's client address, because the mapping
// state is saved with the checkpoint.
func TestRunSessionSurvivesRestart(t *testing.T) {
	t.Parallel()
	sample, err := os.ReadFile("testdata/dovecot/mail.log")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(sample), "\n")
	login, save := lines[0], lines[2] // one session: Login, then a save
	if !strings.Contains(login, "Login:") || !strings.Contains(save, "save:") {
		t.Fatalf("testdata/dovecot/mail.log changed: %q %q", login, save)
	}
	r := newRunDir(t)
	appendFile(t, r.log, login)
	d := r.start(t)
	daemontest.Eventually(t, 30*time.Second, "the Login event", func() bool { return daemontest.CountLines(r.out) == 1 })
	stopDaemon(t, d)
	appendFile(t, r.log, save)
	d = r.start(t)
	daemontest.Eventually(t, 30*time.Second, "the save's event", func() bool { return daemontest.CountLines(r.out) == 2 })
	stopDaemon(t, d)
	events := daemontest.ReadEvents(t, r.out)
	if events[1].Type != "MessageAppend" || !strings.Contains(events[1].Raw, `"clientIP":"192.0.2.43"`) {
		t.Fatalf("the event after the restart lost its session: %s", events[1].Raw)
	}
}

// systemd's notify protocol: READY=1 once running, WATCHDOG=1 while the
// pipeline makes progress, STOPPING=1 on SIGTERM.
func TestRunSystemdNotify(t *testing.T) {
	t.Parallel()
	r := newRunDir(t)
	sock := filepath.Join(r.dir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	got := make(chan string, 100)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(got)
				return
			}
			got <- string(buf[:n])
		}
	}()
	expect := func(state string) {
		t.Helper()
		timeout := time.After(30 * time.Second)
		for {
			select {
			case s := <-got:
				if strings.Contains(s, state) {
					return
				}
			case <-timeout:
				t.Fatalf("no %s from the daemon", state)
			}
		}
	}
	appendFile(t, r.log, daemontest.Line(1))
	d := daemontest.StartEnv(t, []string{"NOTIFY_SOCKET=" + sock, "WATCHDOG_USEC=1000000"},
		"run", "--state-dir", r.state, "--checkpoint-interval", "100ms", "--output", "file:"+r.out, r.log)
	expect("READY=1")
	expect("WATCHDOG=1")
	expect("WATCHDOG=1")
	d.Signal(syscall.SIGTERM)
	expect("STOPPING=1")
	if err := d.Wait(30 * time.Second); err != nil {
		t.Fatal(err)
	}
}

// Cyrus's native notifications reach the daemon on its notify socket, as
// notifyd's would: each becomes its event.
func TestRunCyrusNotifySocket(t *testing.T) {
	t.Parallel()
	r := newRunDir(t)
	sock := filepath.Join(r.dir, "notify")
	conf := filepath.Join(r.dir, "mailevents.toml")
	cfg := "state_dir = \"" + r.state + "\"\n[[input]]\ntype = \"cyrus-notify\"\nsocket = \"" + sock + "\"\ngrammar = \"cyrus-json\"\n[[sink]]\npath = \"" + r.out + "\"\n"
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	d := daemontest.Start(t, "run", "--config", conf)
	d.WaitLog("msg=running", 30*time.Second)
	sample, err := os.ReadFile("parsers/cyrusjson/testdata/cyrus-3.6.1-notify.log")
	if err != nil {
		t.Fatal(err)
	}
	events := strings.Split(strings.TrimSpace(string(sample)), "\n")[:5]
	c, err := net.Dial("unixgram", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, js := range events {
		// notify(): method, class, priority, user, mailbox, option count, message.
		if _, err := c.Write([]byte(strings.Join([]string{"log", "EVENT", "", "", "", "0", js}, "\x00") + "\x00")); err != nil {
			t.Fatal(err)
		}
	}
	daemontest.Eventually(t, 30*time.Second, "5 events", func() bool { return daemontest.CountLines(r.out) == 5 })
	stopDaemon(t, d)
	out := daemontest.ReadEvents(t, r.out)
	for i, js := range events {
		if want := js[len(`{"event":"`):strings.Index(js, `","`)]; out[i].Type != want {
			t.Errorf("event %d is %s, want %s", i, out[i].Type, want)
		}
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Prometheus metrics and /healthz on the opt-in listen address.
func TestRunMetrics(t *testing.T) {
	t.Parallel()
	r := newRunDir(t)
	w := daemontest.NewLogWriter(t, r.log)
	w.Append(25)
	addr := freePort(t)
	d := r.start(t, "--metrics-listen", addr, "--checkpoint-interval", "100ms")
	r.waitDelivered(t, w)
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get("/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz: %d %s", code, body)
	}
	var body string
	daemontest.Eventually(t, 30*time.Second, "metrics after a save", func() bool {
		_, body = get("/metrics")
		return strings.Contains(body, "mailevents_checkpoint_saves_total")
	})
	for _, want := range []string{
		`mailevents_lines_read_total{input="files"} 25`,
		`mailevents_events_written_total{sink="file:` + r.out + `",type="MessageAppend"} 25`,
		`mailevents_checkpoint_lag_bytes{path="` + r.log + `"} 0`,
		`mailevents_state_entries{table="dovecot.sessions"}`,
		`mailevents_oldest_unacknowledged_seconds 0`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	stopDaemon(t, d)
}

// A second SIGTERM while the first is still draining (here: the only output
// is a Kafka cluster that is not there) exits at once; the lines that were
// not written stay unacknowledged for the next start.
func TestRunSecondSignalForces(t *testing.T) {
	t.Parallel()
	r := newRunDir(t)
	conf := filepath.Join(r.dir, "mailevents.toml")
	cfg := "state_dir = \"" + r.state + "\"\nshutdown_timeout = \"1m\"\n" +
		"[[input]]\npaths = [\"" + r.log + "\"]\nfrom_start = true\n" +
		"[[sink]]\ntype = \"kafka\"\n[sink.kafka]\nbrokers = [\"" + freePort(t) + "\"]\ntopic = \"nowhere\"\n"
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	appendFile(t, r.log, daemontest.Line(1))
	d := daemontest.Start(t, "run", "--config", conf)
	d.WaitLog("send failed", 30*time.Second)
	d.Signal(syscall.SIGTERM)
	d.WaitLog("stopping", 30*time.Second)
	start := time.Now()
	d.Signal(syscall.SIGTERM)
	err := d.Wait(30 * time.Second)
	if err == nil {
		t.Fatal("a forced exit reported success")
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the second signal took %s to end the process (shutdown_timeout is 1m)", took)
	}
	if !strings.Contains(d.Stderr(), "second signal") {
		t.Errorf("no word of the forced exit:\n%s", d.Stderr())
	}
	if _, err := os.Stat(filepath.Join(r.state, "checkpoint.json")); err == nil {
		if off := committedOffset(t, r.state); off != 0 {
			t.Errorf("checkpoint at %d, although nothing was written", off)
		}
	}
}
