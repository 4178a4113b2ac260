package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/mailevents/mailevents/internal/daemontest"
)

// Follow-mode latency: lines are appended to an empty log one write(2) at a
// time at a moderate rate, and each line's latency runs from its write
// returning to its event being seen in the output file. The output is
// watched by polling, so the same measurement is first taken of a trivial
// forwarder (inotify on the log, copy to the output), once without and once
// with an fsync per write as the file sink does per batch: the daemon's
// figures read against that floor rather than as absolutes on a noisy
// machine. Targets: p99 <= 50 ms.
const (
	latencyRate   = 500 // lines/s
	latencyLines  = 2000
	latencyWarmup = 100 // lines per contender left out of the figures: first page faults, first checkpoint save
	tailPoll      = time.Millisecond
)

func BenchmarkRunLatency(b *testing.B) {
	bin := daemontest.Binary(b)
	var floor, floorSync, run []time.Duration
	for b.Loop() {
		floor = append(floor, latencyForwarder(b, false)...)
		floorSync = append(floorSync, latencyForwarder(b, true)...)
		run = append(run, latencyDaemon(b, bin)...)
	}
	for _, lat := range [][]time.Duration{run, floor, floorSync} {
		slices.Sort(lat)
	}
	b.ReportMetric(ms(percentile(run, 0.50)), "p50-ms")
	b.ReportMetric(ms(percentile(run, 0.90)), "p90-ms")
	b.ReportMetric(ms(percentile(run, 0.99)), "p99-ms")
	b.ReportMetric(ms(percentile(run, 1)), "max-ms")
	// The floors' level matters, not their shape.
	b.ReportMetric(ms(percentile(floor, 0.50)), "floor-p50-ms")
	b.ReportMetric(ms(percentile(floor, 0.99)), "floor-p99-ms")
	b.ReportMetric(ms(percentile(floorSync, 0.50)), "fsync-floor-p50-ms")
	b.ReportMetric(ms(percentile(floorSync, 0.99)), "fsync-floor-p99-ms")
	b.ReportMetric(ms(percentile(run, 0.99))/ms(percentile(floor, 0.99)), "p99-x-floor")
	b.ReportMetric(0, "ns/op") // spans process starts and pacing: meaningless
}

// latencyDaemon measures `mailevents run` with a file sink on an empty log.
func latencyDaemon(b *testing.B, bin string) []time.Duration {
	dir := b.TempDir()
	log, out := filepath.Join(dir, "mail.log"), filepath.Join(dir, "events.jsonl")
	w := daemontest.NewLogWriter(b, log)
	d := daemontest.Start(b, "run", "--state-dir", filepath.Join(dir, "state"), "--output", "file:"+out, log)
	d.WaitLog("msg=running", 30*time.Second)
	lat := measureLatency(b, w, out, []byte(";UID="))
	if err := d.Stop(30 * time.Second); err != nil {
		b.Fatalf("daemon stop: %v\n%s", err, d.Stderr())
	}
	return lat
}

// latencyForwarder measures the floor: the same pacing and watching around
// a copy that does nothing but read the log on inotify and append to the
// output (fsyncing each write if sync).
func latencyForwarder(b *testing.B, sync bool) []time.Duration {
	dir := b.TempDir()
	log, out := filepath.Join(dir, "mail.log"), filepath.Join(dir, "copy.log")
	w := daemontest.NewLogWriter(b, log)
	stop := make(chan struct{})
	errc := make(chan error, 1)
	ready := make(chan struct{})
	go func() { errc <- forward(log, out, sync, ready, stop) }()
	select {
	case <-ready:
	case err := <-errc:
		b.Fatalf("forwarder: %v", err)
	}
	lat := measureLatency(b, w, out, []byte(", uid="))
	close(stop)
	if err := <-errc; err != nil {
		b.Fatalf("forwarder: %v", err)
	}
	return lat
}

// forward copies what is appended to log onto out, woken by inotify as the
// daemon is by default.
func forward(log, out string, sync bool, ready chan<- struct{}, stop <-chan struct{}) error {
	wt, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer wt.Close()
	if err := wt.Add(log); err != nil {
		return err
	}
	in, err := os.Open(log)
	if err != nil {
		return err
	}
	defer in.Close()
	o, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer o.Close()
	close(ready)
	buf := make([]byte, 64<<10)
	for {
		select {
		case <-stop:
			return nil
		case err := <-wt.Errors:
			return err
		case ev := <-wt.Events:
			if !ev.Has(fsnotify.Write) {
				continue
			}
		}
		for {
			n, err := in.Read(buf)
			if n > 0 {
				if _, err := o.Write(buf[:n]); err != nil {
					return err
				}
				if sync {
					if err := o.Sync(); err != nil {
						return err
					}
				}
			}
			if errors.Is(err, io.EOF) || n == 0 {
				break
			}
			if err != nil {
				return err
			}
		}
	}
}

// measureLatency appends latencyWarmup+latencyLines lines to w at
// latencyRate and returns, for each line after the warm-up, the time from
// its write returning to a line naming its uid (after key) appearing in out.
func measureLatency(b *testing.B, w *daemontest.LogWriter, out string, key []byte) []time.Duration {
	total := latencyWarmup + latencyLines
	first := w.Written() + 1
	sent := make([]time.Time, total)
	seen := make([]time.Time, total)
	stop := make(chan struct{})
	errc := make(chan error, 1)
	var got int
	go func() {
		errc <- tailLines(out, tailPoll, stop, func(line []byte, at time.Time) bool {
			i := uidAfter(line, key) - first
			if i < 0 || i >= total || !seen[i].IsZero() {
				return true // not this run's, or a repeat: the first copy counts
			}
			seen[i] = at
			got++
			return got < total
		})
	}()
	tick := time.NewTicker(time.Second / latencyRate)
	for i := range total {
		<-tick.C
		w.Append(1)
		sent[i] = time.Now()
	}
	tick.Stop()
	select {
	case err := <-errc:
		if err != nil {
			b.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		close(stop)
		<-errc
		b.Fatalf("%s: only %d of %d lines' events arrived within 30s of the last write", out, got, total)
	}
	lat := make([]time.Duration, 0, latencyLines)
	for i := latencyWarmup; i < total; i++ {
		lat = append(lat, seen[i].Sub(sent[i]))
	}
	return lat
}

var errStopped = errors.New("stopped")

// tailLines follows path from its start (waiting for it to exist), calling
// fn with each complete line and the time it was first read, until fn
// returns false or stop is closed. It polls: a poll every interval bounds
// the measuring error by the interval whatever the writer does, where
// inotify's wake-up would add a scheduling delay of its own.
func tailLines(path string, interval time.Duration, stop <-chan struct{}, fn func(line []byte, at time.Time) bool) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	wait := func() bool {
		select {
		case <-stop:
			return false
		case <-tick.C:
			return true
		}
	}
	var f *os.File
	for {
		var err error
		f, err = os.Open(path)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if !wait() {
			return errStopped
		}
	}
	defer f.Close()
	chunk := make([]byte, 256<<10)
	var pending []byte
	for {
		n, err := f.Read(chunk)
		if n > 0 {
			now := time.Now()
			pending = append(pending, chunk[:n]...)
			rest := pending
			for {
				i := bytes.IndexByte(rest, '\n')
				if i < 0 {
					break
				}
				if !fn(rest[:i], now) {
					return nil
				}
				rest = rest[i+1:]
			}
			pending = append(pending[:0], rest...)
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if !wait() {
			return errStopped
		}
	}
}

// uidAfter returns the decimal number that follows key in line, or 0.
func uidAfter(line, key []byte) int {
	i := bytes.Index(line, key)
	if i < 0 {
		return 0
	}
	n := 0
	for _, c := range line[i+len(key):] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Follow-mode throughput and memory: a log written beforehand is backfilled
// with --from-start, and the time runs from the daemon's start to its last
// event in the output file. Baselines in the same iteration, on the same
// file in the page cache: reading it, and the one-shot `mailevents parse`
// to a file, so that what following costs reads as a ratio to parsing. The
// daemon's RSS is sampled throughout; at two input sizes, a peak that does
// not grow with the input shows memory bounded by design rather than by the
// input. Target: peak RSS <= 64 MiB.
func BenchmarkRunThroughput(b *testing.B) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		b.Skip("needs /proc to sample the daemon's memory")
	}
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) { benchThroughput(b, n) })
	}
}

const rssEvery = 50 * time.Millisecond

func benchThroughput(b *testing.B, lines int) {
	bin := daemontest.Binary(b)
	var tRead, tParse, tRun time.Duration
	var rssParse, rssRun int64 // KiB
	runs := 0
	for b.Loop() {
		dir := b.TempDir()
		log := filepath.Join(dir, "mail.log")
		writeLog(b, log, lines)
		tRead += readAll(b, log)

		out := filepath.Join(dir, "parse.jsonl")
		t, rss := timeParse(b, bin, log, out, lines)
		tParse += t
		rssParse = max(rssParse, rss)
		os.Remove(out)

		out = filepath.Join(dir, "run.jsonl")
		t, rss = timeRun(b, bin, log, out, filepath.Join(dir, "state"), lines)
		tRun += t
		rssRun = max(rssRun, rss)
		os.Remove(out)
		os.Remove(log) // a long -benchtime must not fill the disk
		runs++
	}
	total := float64(lines * runs)
	b.ReportMetric(total/tRun.Seconds(), "lines/s")
	b.ReportMetric(total/tParse.Seconds(), "parse-lines/s")
	b.ReportMetric(total/tRead.Seconds(), "read-lines/s")
	b.ReportMetric(tRun.Seconds()/tParse.Seconds(), "x-parse-time")
	b.ReportMetric(float64(rssRun)/1024, "MiB-peak-rss")
	b.ReportMetric(float64(rssParse)/1024, "parse-MiB-peak-rss")
	b.ReportMetric(0, "ns/op") // includes writing the log: meaningless
}

// writeLog writes the lines daemontest.LogWriter would, uids 1..n, in bulk.
func writeLog(b *testing.B, path string, n int) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	for uid := 1; uid <= n; uid++ {
		bw.WriteString(daemontest.Line(uid))
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

// readAll is the cat > /dev/null baseline: the cost of getting the bytes.
func readAll(b *testing.B, path string) time.Duration {
	start := time.Now()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := io.CopyBuffer(io.Discard, onlyReader{f}, make([]byte, 128<<10)); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// onlyReader hides WriteTo so that io.CopyBuffer really reads through the
// buffer, as cat does.
type onlyReader struct{ io.Reader }

func timeParse(b *testing.B, bin, log, out string, lines int) (time.Duration, int64) {
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "parse", "--output", "file:"+out, log)
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	mem := sampleRSS(cmd.Process.Pid)
	err := cmd.Wait()
	elapsed := time.Since(start)
	peak := mem.stop()
	if err != nil {
		b.Fatalf("mailevents parse: %v\n%s", err, stderr.Bytes())
	}
	if n := countLines(b, out); n != lines {
		b.Fatalf("mailevents parse wrote %d events for %d lines", n, lines)
	}
	return elapsed, peak
}

func timeRun(b *testing.B, bin, log, out, state string, lines int) (time.Duration, int64) {
	var stderr lockedBuffer
	cmd := exec.Command(bin, "run", "--state-dir", state, "--from-start", "--output", "file:"+out, log)
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	var exitErr error
	exited := make(chan struct{})
	go func() {
		exitErr = cmd.Wait()
		close(exited)
	}()
	fail := func(format string, args ...any) {
		_ = cmd.Process.Kill()
		<-exited
		b.Fatalf(format+"\ndaemon stderr:\n%s", append(args, stderr.String())...)
	}
	mem := sampleRSS(cmd.Process.Pid)
	stopTail := make(chan struct{})
	tailed := make(chan error, 1)
	var done time.Time
	got := 0
	go func() {
		// Counting lines, not parsing events: the reader must not compete
		// with the daemon for the CPU more than it has to.
		tailed <- tailLines(out, 5*time.Millisecond, stopTail, func(_ []byte, at time.Time) bool {
			got++
			done = at
			return got < lines
		})
	}()
	select {
	case err := <-tailed:
		if err != nil {
			fail("reading %s: %v", out, err)
		}
	case <-exited:
		close(stopTail)
		<-tailed
		fail("daemon exited (%v) after %d of %d events", exitErr, got, lines)
	case <-time.After(10 * time.Minute):
		close(stopTail)
		<-tailed
		fail("only %d of %d events after 10 minutes", got, lines)
	}
	peak := mem.stop()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		fail("SIGTERM: %v", err)
	}
	select {
	case <-exited:
		if exitErr != nil {
			b.Fatalf("daemon stop: %v\n%s", exitErr, stderr.String())
		}
	case <-time.After(time.Minute):
		fail("daemon still running a minute after SIGTERM")
	}
	if n := countLines(b, out); n != lines {
		b.Fatalf("mailevents run wrote %d events for %d lines", n, lines)
	}
	return done.Sub(start), peak
}

// rssSampler records the highest resident set size of a process, in KiB,
// from /proc/PID/status every rssEvery: VmRSS while it runs, and VmHWM,
// the kernel's own high-water mark, which also catches a peak between two
// samples.
type rssSampler struct {
	quit chan struct{}
	peak chan int64
}

func sampleRSS(pid int) *rssSampler {
	s := &rssSampler{quit: make(chan struct{}), peak: make(chan int64, 1)}
	path := fmt.Sprintf("/proc/%d/status", pid)
	go func() {
		var peak int64
		tick := time.NewTicker(rssEvery)
		defer tick.Stop()
		for {
			peak = max(peak, readRSS(path))
			select {
			case <-s.quit:
				s.peak <- max(peak, readRSS(path))
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// stop ends the sampling, with a last sample if the process still runs,
// and returns the peak.
func (s *rssSampler) stop() int64 {
	close(s.quit)
	return <-s.peak
}

// readRSS returns the larger of VmRSS and VmHWM in KiB, 0 once the process
// is gone (a zombie has neither).
func readRSS(path string) int64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	var kib int64
	for line := range bytes.Lines(data) {
		for _, key := range [][]byte{[]byte("VmRSS:"), []byte("VmHWM:")} {
			if v, ok := bytes.CutPrefix(line, key); ok {
				f := bytes.Fields(v) // "  12345 kB"
				if len(f) > 0 {
					n, _ := strconv.ParseInt(string(f[0]), 10, 64)
					kib = max(kib, n)
				}
			}
		}
	}
	return kib
}

// countLines counts newlines without holding the file in memory, which at
// a million events would inflate this process's footprint for nothing.
func countLines(b *testing.B, path string) int {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 256<<10)
	n := 0
	for {
		m, err := f.Read(buf)
		n += bytes.Count(buf[:m], []byte("\n"))
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

// lockedBuffer is a bytes.Buffer that exec's copying goroutine may write
// while a failing benchmark reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
