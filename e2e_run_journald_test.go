package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailevents/mailevents/internal/daemontest"
)

// journalRecord is what journalctl -o json prints for the line of uid.
func journalRecord(uid int) string {
	return fmt.Sprintf(`{"__CURSOR":"s=feed;i=%x","__REALTIME_TIMESTAMP":"%d","__MONOTONIC_TIMESTAMP":"%d","_BOOT_ID":"b0","_HOSTNAME":"mail","SYSLOG_IDENTIFIER":"dovecot","_PID":"4242","PRIORITY":"6","MESSAGE":"imap(user%d@example.org)<4242><sess%d>: save: box=INBOX, uid=%d, msgid=<%d@example.org>, size=100, vsize=110"}`+"\n",
		uid, 1764324000000000+uid, uid, uid%97, uid, uid, uid)
}

// A journald input is resumed by cursor: after a graceful stop nothing is
// read twice, after SIGKILL only what was not yet saved, and nothing is lost.
// journalctl is replaced by a script serving a file as the journal, so the
// test needs no systemd journal.
func TestRunJournald(t *testing.T) {
	t.Parallel()
	r := newRunDir(t)
	journal := filepath.Join(r.dir, "journal.jsonl")
	appendRecords := func(from, to int) {
		f, err := os.OpenFile(journal, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for uid := from; uid <= to; uid++ {
			if _, err := f.WriteString(journalRecord(uid)); err != nil {
				t.Fatal(err)
			}
		}
	}
	fake, err := filepath.Abs("source/journald/testdata/fake-journalctl")
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(r.dir, "mailevents.toml")
	cfg := fmt.Sprintf(`state_dir = %q
checkpoint_interval = "100ms"
[[input]]
name = "journal"
type = "journald"
identifiers = ["dovecot"]
from_start = true
journalctl = %q
[[sink]]
path = %q
`, r.state, fake, r.out)
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"FAKE_JOURNAL=" + journal, "FAKE_ARGS=" + filepath.Join(r.dir, "args"), "FAKE_PID=" + filepath.Join(r.dir, "pid")}

	appendRecords(1, 100)
	start := func() *daemontest.Daemon {
		d := daemontest.StartEnv(t, env, "run", "--config", conf)
		d.WaitLog("msg=running", 30*time.Second)
		return d
	}
	d := start()
	waitEvents := func(n int) daemontest.Delivery {
		t.Helper()
		var got daemontest.Delivery
		daemontest.Eventually(t, 60*time.Second, fmt.Sprintf("%d events", n), func() bool {
			got = daemontest.Check(daemontest.ReadEvents(t, r.out), n)
			return got.Complete()
		})
		return got
	}
	waitEvents(100)
	stopDaemon(t, d)
	appendRecords(101, 150)
	d = start()
	if got := waitEvents(150); got.Duplicates > 0 {
		t.Fatalf("after a graceful restart: %s", got)
	}
	for kill := range 3 {
		appendRecords(151+50*kill, 200+50*kill)
		time.Sleep(time.Duration(50*kill) * time.Millisecond)
		d.Kill()
		d = start()
	}
	waitEvents(300)
	stopDaemon(t, d)
	got := daemontest.Check(daemontest.ReadEvents(t, r.out), 300)
	if !got.Complete() || len(got.Unexpected) > 0 || len(got.IDMismatch) > 0 {
		t.Fatalf("journald delivery: %s", got)
	}
	t.Logf("journald: %s", got)
}
