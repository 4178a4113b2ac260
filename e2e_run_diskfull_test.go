package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailevents/mailevents/checkpoint"
	"github.com/mailevents/mailevents/internal/daemontest"
)

// mountTmpfs mounts a tmpfs of size at dir, to fill a disk for real. It
// needs root (CI runs as root); elsewhere the test is skipped only when
// MAILEVENTS_SKIP_TMPFS says so.
func mountTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput()
	if err != nil {
		if os.Getenv("MAILEVENTS_SKIP_TMPFS") != "" && os.Getenv("CI") == "" {
			t.Skipf("cannot mount a tmpfs (%v: %s); MAILEVENTS_SKIP_TMPFS is set", err, out)
		}
		t.Fatalf("mounting a tmpfs to fill (needs root; set MAILEVENTS_SKIP_TMPFS to skip on a laptop): %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
}

func committedOffset(t *testing.T, state string) int64 {
	t.Helper()
	s, err := checkpoint.Open(filepath.Join(state, "checkpoint.json"))
	if err != nil {
		t.Fatal(err)
	}
	var off int64
	for _, k := range s.Keys() {
		p, _ := s.Position(k)
		off = max(off, p.Offset)
	}
	return off
}

// The output's disk fills up: the daemon retries with the input paused and
// the checkpoint does not move; once there is room again every event
// arrives, once, with no torn line.
func TestRunDiskFull(t *testing.T) {
	t.Parallel()
	r := newRunDir(t)
	outDir := filepath.Join(r.dir, "out")
	mountTmpfs(t, outDir, "256k")
	r.out = filepath.Join(outDir, "events.jsonl")
	w := daemontest.NewLogWriter(t, r.log)
	w.Append(100)
	d := r.start(t, "--checkpoint-interval", "100ms")
	r.waitDelivered(t, w)
	w.Append(2000) // ~1 MB of events: far more than the disk holds
	d.WaitLog("write failed; retrying", 60*time.Second)
	if !strings.Contains(d.Stderr(), "no space left on device") {
		t.Errorf("the retry log does not say why:\n%s", d.Stderr())
	}
	stuck := committedOffset(t, r.state)
	time.Sleep(time.Second) // several retries and checkpoint ticks
	if now := committedOffset(t, r.state); now != stuck {
		t.Fatalf("checkpoint moved from %d to %d while the sink could not write", stuck, now)
	}
	fi, err := os.Stat(r.log)
	if err != nil {
		t.Fatal(err)
	}
	if stuck >= fi.Size() {
		t.Fatalf("checkpoint at %d covers the whole log (%d bytes) although events could not be written", stuck, fi.Size())
	}
	if out, err := exec.Command("mount", "-o", "remount,size=64m", outDir).CombinedOutput(); err != nil {
		t.Fatalf("growing the tmpfs: %v: %s", err, out)
	}
	r.waitDelivered(t, w)
	stopDaemon(t, d)
	got := daemontest.Check(daemontest.ReadEvents(t, r.out), w.Written())
	assertExact(t, got)
}
