package main

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/mailevents/mailevents/internal/daemontest"
)

// The torture test: a writer appends Dovecot lines with random rotations of
// both styles while the daemon, writing to a file sink, is killed with
// SIGKILL at random moments and restarted. Every line's event must be in
// the output at least once, no event may lack a line, and every duplicate
// must carry its original's id. MAILEVENTS_TORTURE_SEED replays a run.
func TestRunTortureKill(t *testing.T) {
	t.Parallel()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("MAILEVENTS_TORTURE_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (MAILEVENTS_TORTURE_SEED replays it)", seed)
	rng := rand.New(rand.NewPCG(seed, seed>>1))
	const lines = 20000
	r := newRunDir(t)
	w := daemontest.NewLogWriter(t, r.log)
	args := []string{"run", "--state-dir", r.state, "--from-start", "--checkpoint-interval", "100ms", "--output", "file:" + r.out}
	d := r.start(t, "--poll", "--checkpoint-interval", "100ms") // polling as well as inotify gets its share of kills
	// On a first start, positions exist from the first commit on; the
	// torture begins once there is one.
	w.Append(10)
	daemontest.Eventually(t, 30*time.Second, "the first checkpoint", func() bool {
		_, err := os.Stat(filepath.Join(r.state, "checkpoint.json"))
		return err == nil
	})
	kills, renames, truncations := 0, 0, 0
	start := time.Now()
	for w.Written() < lines {
		w.Append(1 + rng.IntN(300))
		switch rng.IntN(12) {
		case 0:
			w.RotateRename()
			renames++
		case 1:
			w.RotateCopyTruncate()
			truncations++
		}
		if rng.IntN(4) == 0 {
			time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond)
			d.Kill()
			kills++
			w.Append(rng.IntN(100)) // written while the daemon is down
			if rng.IntN(3) == 0 {
				w.RotateRename()
				renames++
			}
			d = daemontest.Start(t, append(args, r.log)...)
		}
	}
	got := r.waitDelivered(t, w)
	stopDaemon(t, d)
	got = daemontest.Check(daemontest.ReadEvents(t, r.out), w.Written())
	t.Logf("torture: %d kills survived, %d rename and %d copytruncate rotations, %d lines written, %d events lost, %d duplicates (all with their original's id: %v), %s",
		kills, renames, truncations, got.Written, len(got.Missing), got.Duplicates, len(got.IDMismatch) == 0, time.Since(start).Round(time.Millisecond))
	if !got.Complete() || len(got.Unexpected) > 0 || len(got.IDMismatch) > 0 {
		t.Fatalf("delivery broken: %s", got)
	}
	if kills < 10 {
		t.Fatalf("only %d kills: the test did not torture", kills)
	}
}
