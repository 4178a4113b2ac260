package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mailevents/mailevents/checkpoint"
	"github.com/mailevents/mailevents/internal/daemontest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	daemontest.Cleanup()
	os.Exit(code)
}

// runDir is a daemon's world: the followed log, the output, the state.
type runDir struct {
	dir, log, out, state string
}

func newRunDir(t *testing.T) runDir {
	dir := t.TempDir()
	return runDir{dir: dir, log: filepath.Join(dir, "mail.log"), out: filepath.Join(dir, "events.jsonl"), state: filepath.Join(dir, "state")}
}

// start runs the daemon on the log with a file sink; extra args go first.
func (r runDir) start(t *testing.T, extra ...string) *daemontest.Daemon {
	args := append([]string{"run", "--state-dir", r.state, "--from-start", "--output", "file:" + r.out}, extra...)
	d := daemontest.Start(t, append(args, r.log)...)
	d.WaitLog("msg=running", 30*time.Second)
	return d
}

// startCaughtUp starts the daemon and waits until every line written so far
// has its event.
func (r runDir) startCaughtUp(t *testing.T, w *daemontest.LogWriter, extra ...string) *daemontest.Daemon {
	d := r.start(t, extra...)
	r.waitDelivered(t, w)
	return d
}

// stopDaemon stops d with SIGTERM and fails the test unless it exits cleanly.
func stopDaemon(t *testing.T, d *daemontest.Daemon) {
	t.Helper()
	if err := d.Stop(60 * time.Second); err != nil {
		t.Fatalf("stop: %v\n%s", err, d.Stderr())
	}
}

// waitDelivered waits until every written line has its event.
func (r runDir) waitDelivered(t *testing.T, w *daemontest.LogWriter) daemontest.Delivery {
	t.Helper()
	var d daemontest.Delivery
	deadline := time.Now().Add(60 * time.Second)
	for {
		if daemontest.CountLines(r.out) >= w.Written() {
			d = daemontest.Check(daemontest.ReadEvents(t, r.out), w.Written())
			if d.Complete() {
				return d
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for every line's event: %s", daemontest.Check(daemontest.ReadEvents(t, r.out), w.Written()))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func assertExact(t *testing.T, d daemontest.Delivery) {
	t.Helper()
	if !d.Complete() || len(d.Unexpected) > 0 || d.Duplicates > 0 || len(d.IDMismatch) > 0 {
		t.Fatalf("delivery not exact: %s", d)
	}
}

// Each rotation style, with the daemon running through it and with the
// daemon stopped across it: every line's event arrives exactly once.
func TestRunRotation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		rotate func(w *daemontest.LogWriter)
		// gone: the file is deleted, so what was written to it while the
		// daemon was stopped is beyond reach.
		gone bool
	}{
		{"rename and create", (*daemontest.LogWriter).RotateRename, false},
		{"copytruncate", (*daemontest.LogWriter).RotateCopyTruncate, false},
		{"delaycompress", func(w *daemontest.LogWriter) {
			w.RotateDelayCompress()
			w.Append(20)
			w.RotateDelayCompress() // .1 becomes .2.gz
		}, false},
		{"delete and recreate", (*daemontest.LogWriter).DeleteRecreate, true},
	} {
		t.Run(tc.name+"/running", func(t *testing.T) {
			t.Parallel()
			r := newRunDir(t)
			w := daemontest.NewLogWriter(t, r.log)
			w.Append(50)
			d := r.startCaughtUp(t, w)
			for range 3 {
				w.Append(30)
				tc.rotate(w)
				w.Append(30)
				r.waitDelivered(t, w)
			}
			stopDaemon(t, d)
			assertExact(t, daemontest.Check(daemontest.ReadEvents(t, r.out), w.Written()))
		})
		t.Run(tc.name+"/stopped", func(t *testing.T) {
			t.Parallel()
			r := newRunDir(t)
			w := daemontest.NewLogWriter(t, r.log)
			w.Append(50)
			d := r.startCaughtUp(t, w)
			stopDaemon(t, d)
			if !tc.gone {
				w.Append(25) // the rotated file's tail, written while stopped
			}
			tc.rotate(w)
			w.Append(25)
			r.start(t)
			assertExact(t, r.waitDelivered(t, w))
		})
	}
}

// Two rotations while the daemon is stopped: the file it was reading is now
// path.2, and its tail, all of path.1 and the new file must all be read.
func TestRunTwoRotationsWhileStopped(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		rotate func(w *daemontest.LogWriter)
	}{
		{"rename", (*daemontest.LogWriter).RotateRename},
		{"delaycompress", (*daemontest.LogWriter).RotateDelayCompress},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRunDir(t)
			w := daemontest.NewLogWriter(t, r.log)
			w.Append(40)
			d := r.startCaughtUp(t, w)
			stopDaemon(t, d)
			for range 2 {
				w.Append(15)
				tc.rotate(w)
			}
			w.Append(15)
			r.start(t)
			assertExact(t, r.waitDelivered(t, w))
		})
	}
}

// SIGTERM writes what is pending and saves the checkpoint: a restart reads
// nothing twice.
func TestRunGracefulShutdown(t *testing.T) {
	t.Parallel()
	r := newRunDir(t)
	w := daemontest.NewLogWriter(t, r.log)
	w.Append(200)
	d := r.startCaughtUp(t, w)
	stopDaemon(t, d)
	store, err := checkpoint.Open(filepath.Join(r.state, "checkpoint.json"))
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(r.log)
	var saved int64
	for _, k := range store.Keys() {
		p, _ := store.Position(k)
		saved = max(saved, p.Offset)
	}
	if saved != fi.Size() {
		t.Fatalf("checkpoint at offset %d, want the end of the file, %d", saved, fi.Size())
	}
	w.Append(10)
	d = r.start(t)
	r.waitDelivered(t, w)
	stopDaemon(t, d)
	assertExact(t, daemontest.Check(daemontest.ReadEvents(t, r.out), w.Written()))
}

// A corrupt checkpoint stops the start with a message naming the file; the
// operator's --reset-checkpoint starts anyway.
func TestRunCorruptCheckpoint(t *testing.T) {
	t.Parallel()
	r := newRunDir(t)
	w := daemontest.NewLogWriter(t, r.log)
	w.Append(5)
	if err := os.MkdirAll(r.state, 0o750); err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(r.state, "checkpoint.json")
	if err := os.WriteFile(cp, []byte(`{"version": 1, "files": [{"path": 7}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	d := daemontest.Start(t, "run", "--state-dir", r.state, "--output", "file:"+r.out, r.log)
	err := d.Wait(30 * time.Second)
	if err == nil {
		t.Fatal("the daemon started with a corrupt checkpoint")
	}
	for _, want := range []string{cp, "--reset-checkpoint"} {
		if !strings.Contains(d.Stderr(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, d.Stderr())
		}
	}
	d = r.start(t, "--reset-checkpoint")
	r.waitDelivered(t, w)
	stopDaemon(t, d)
}

// SIGHUP reopens the output file: logrotate moves it away, and the events
// after the signal land in a new file at the path, none lost.
func TestRunSIGHUPReopensOutput(t *testing.T) {
	t.Parallel()
	r := newRunDir(t)
	w := daemontest.NewLogWriter(t, r.log)
	w.Append(30)
	d := r.startCaughtUp(t, w)
	moved := r.out + ".1"
	if err := os.Rename(r.out, moved); err != nil {
		t.Fatal(err)
	}
	d.Signal(syscall.SIGHUP)
	d.WaitLog("SIGHUP", 30*time.Second)
	daemontest.Eventually(t, 30*time.Second, "the daemon running again", func() bool {
		return strings.Count(d.Stderr(), "msg=running") == 2
	})
	w.Append(30)
	daemontest.Eventually(t, 60*time.Second, "events in the new file", func() bool {
		return daemontest.CountLines(r.out) == 30
	})
	stopDaemon(t, d)
	all := append(daemontest.ReadEvents(t, moved), daemontest.ReadEvents(t, r.out)...)
	assertExact(t, daemontest.Check(all, w.Written()))
}

// SIGHUP with a config that became invalid keeps the running one.
func TestRunSIGHUPKeepsConfigWhenInvalid(t *testing.T) {
	t.Parallel()
	r := newRunDir(t)
	w := daemontest.NewLogWriter(t, r.log)
	w.Append(10)
	conf := filepath.Join(r.dir, "mailevents.toml")
	valid := "state_dir = \"" + r.state + "\"\n[[input]]\npaths = [\"" + r.log + "\"]\nfrom_start = true\n[[sink]]\npath = \"" + r.out + "\"\n"
	if err := os.WriteFile(conf, []byte(valid), 0o644); err != nil {
		t.Fatal(err)
	}
	d := daemontest.Start(t, "run", "--config", conf)
	d.WaitLog("msg=running", 30*time.Second)
	r.waitDelivered(t, w)
	if err := os.WriteFile(conf, []byte(valid+"bogus_key = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d.Signal(syscall.SIGHUP)
	d.WaitLog("keeping the running configuration", 30*time.Second)
	if !strings.Contains(d.Stderr(), "bogus_key: unknown key") {
		t.Errorf("the reload error does not name the key:\n%s", d.Stderr())
	}
	w.Append(10)
	r.waitDelivered(t, w)
	stopDaemon(t, d)
	assertExact(t, daemontest.Check(daemontest.ReadEvents(t, r.out), w.Written()))
}
