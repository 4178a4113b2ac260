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
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/mailevents/mailevents/internal/daemontest"
)

// Follow-mode latency: lines are appended to an empty log one write(2) at a
// time at a moderate rate, and each line's latency runs from its write
// returning to its event being read from the output file, which is watched
// with inotify. Two trivial forwarders (inotify on a log, copy to an
// output; one of them fsyncs each copy, as the file sink does each batch)
// run beside the daemon, each following a log of its own, and every tick
// appends the same line to all three logs. Whatever the machine does in
// those seconds (a build on the other core, writeback) thus reaches the
// floors as it reaches the daemon, and the daemon's figures read against
// the measuring method's own floor rather than as absolutes.
// Target: p99 <= 50 ms.
const (
	latencyRate   = 500 // lines/s
	latencyLines  = 2000
	latencyWarmup = 100 // lines left out of the figures: first page faults, first checkpoint save
)

func BenchmarkRunLatency(b *testing.B) {
	daemontest.Binary(b) // built before anything is timed
	lat := map[string][]time.Duration{}
	for b.Loop() {
		dir := b.TempDir()
		targets := []*latencyTarget{
			startForwarder(b, filepath.Join(dir, "floor"), "floor", false),
			startForwarder(b, filepath.Join(dir, "fsync-floor"), "fsync-floor", true),
			startDaemon(b, filepath.Join(dir, "run")),
		}
		measureLatency(b, targets)
		for _, t := range targets {
			t.stop()
			lat[t.name] = append(lat[t.name], t.latencies()...)
		}
	}
	for _, l := range lat {
		slices.Sort(l)
	}
	run := lat["run"]
	b.ReportMetric(ms(percentile(run, 0.50)), "p50-ms")
	b.ReportMetric(ms(percentile(run, 0.90)), "p90-ms")
	b.ReportMetric(ms(percentile(run, 0.99)), "p99-ms")
	b.ReportMetric(ms(percentile(run, 1)), "max-ms")
	// The floors' level matters, not their shape.
	for _, name := range []string{"floor", "fsync-floor"} {
		b.ReportMetric(ms(percentile(lat[name], 0.50)), name+"-p50-ms")
		b.ReportMetric(ms(percentile(lat[name], 0.99)), name+"-p99-ms")
	}
	b.ReportMetric(ms(percentile(run, 0.99))/ms(percentile(lat["fsync-floor"], 0.99)), "p99-x-fsync-floor")
	b.ReportMetric(0, "ns/op") // spans process starts and pacing: meaningless
}

// latencyTarget is one log-to-output path under measurement.
type latencyTarget struct {
	name string
	w    *daemontest.LogWriter
	out  string
	key  []byte // what precedes the uid in a line of out
	stop func()
	// By line index: when its write returned, when its uid was read in out.
	sent, seen []time.Time
}

// latencies are those of the lines after the warm-up.
func (t *latencyTarget) latencies() []time.Duration {
	lat := make([]time.Duration, 0, len(t.sent))
	for i := latencyWarmup; i < len(t.sent); i++ {
		// On two cores the line can be read back before the writer gets to
		// read the clock: below the method's resolution, so it counts as 0.
		lat = append(lat, max(t.seen[i].Sub(t.sent[i]), 0))
	}
	return lat
}

// startDaemon runs `mailevents run` with a file sink on an empty log in dir.
func startDaemon(b *testing.B, dir string) *latencyTarget {
	log, out := filepath.Join(dir, "mail.log"), filepath.Join(dir, "events.jsonl")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	w := daemontest.NewLogWriter(b, log)
	d := daemontest.Start(b, "run", "--state-dir", filepath.Join(dir, "state"), "--output", "file:"+out, log)
	d.WaitLog("msg=running", 30*time.Second)
	return &latencyTarget{name: "run", w: w, out: out, key: []byte(";UID="), stop: func() {
		if err := d.Stop(30 * time.Second); err != nil {
			b.Fatalf("daemon stop: %v\n%s", err, d.Stderr())
		}
	}}
}

// startForwarder runs a floor in dir: a copy that does nothing but read the
// log on inotify and append to the output (fsyncing each write if sync).
func startForwarder(b *testing.B, dir, name string, sync bool) *latencyTarget {
	log, out := filepath.Join(dir, "mail.log"), filepath.Join(dir, "copy.log")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
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
	return &latencyTarget{name: name, w: w, out: out, key: []byte(", uid="), stop: func() {
		close(stop)
		if err := <-errc; err != nil {
			b.Fatalf("forwarder: %v", err)
		}
	}}
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

// measureLatency appends latencyWarmup+latencyLines lines at latencyRate,
// each to every target's log, and records when each write returned and
// when a line naming its uid appeared in the target's output.
func measureLatency(b *testing.B, targets []*latencyTarget) {
	total := latencyWarmup + latencyLines
	stop := make(chan struct{})
	type result struct {
		t   *latencyTarget
		got int
		err error
	}
	results := make(chan result, len(targets))
	for _, t := range targets {
		t.sent, t.seen = make([]time.Time, total), make([]time.Time, total)
		first := t.w.Written() + 1
		wake, unwatch, err := notified(t.out, stop)
		if err != nil {
			b.Fatal(err)
		}
		defer unwatch()
		go func() {
			got := 0
			err := tailLines(t.out, wake, func(line []byte, at time.Time) bool {
				i := uidAfter(line, t.key) - first
				if i < 0 || i >= total || !t.seen[i].IsZero() {
					return true // not this run's, or a repeat: the first copy counts
				}
				t.seen[i] = at
				got++
				return got < total
			})
			results <- result{t, got, err}
		}()
	}
	tick := time.NewTicker(time.Second / latencyRate)
	for i := range total {
		<-tick.C
		for j := range targets {
			// Taking turns at going first keeps the order of the writes
			// from favouring one target.
			t := targets[(i+j)%len(targets)]
			t.w.Append(1)
			t.sent[i] = time.Now()
		}
	}
	tick.Stop()
	timeout := time.After(30 * time.Second)
	for received := 0; received < len(targets); {
		select {
		case r := <-results:
			received++
			if r.err != nil {
				b.Fatalf("%s: reading %s: %v", r.t.name, r.t.out, r.err)
			}
		case <-timeout:
			close(stop)
			var short []string
			for ; received < len(targets); received++ {
				r := <-results
				short = append(short, fmt.Sprintf("%s %d of %d", r.t.name, r.got, total))
			}
			b.Fatalf("not every line's event arrived within 30s of the last write: %s", strings.Join(short, ", "))
		}
	}
}

var errStopped = errors.New("stopped")

// tailLines follows path from its start (waiting for it to exist), calling
// fn with each complete line and the time it was first read, until fn
// returns false. Between reads that find nothing new it waits for wake,
// and ends with wake's error when wake returns false.
func tailLines(path string, wake func() (bool, error), fn func(line []byte, at time.Time) bool) error {
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
		if ok, err := wake(); !ok {
			return err
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
		if ok, err := wake(); !ok {
			return err
		}
	}
}

// polling wakes a tail every interval until stop is closed. A poll is cheap
// and its delay bounded, which suits a reader that only needs to know when
// the last line has arrived.
func polling(interval time.Duration, stop <-chan struct{}) (wake func() (bool, error), done func()) {
	tick := time.NewTicker(interval)
	return func() (bool, error) {
		select {
		case <-stop:
			return false, errStopped
		case <-tick.C:
			return true, nil
		}
	}, tick.Stop
}

// notified wakes a tail on every inotify event of path until stop is
// closed. Latencies are measured this way rather than by polling: a poll
// quantizes every latency to its period, and a poll ticker falls into step
// with the pacing ticker, which would hide or inflate the sub-millisecond
// differences the floor is there to show.
func notified(path string, stop <-chan struct{}) (wake func() (bool, error), done func(), err error) {
	wt, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, nil, err
	}
	if err := wt.Add(path); err != nil {
		wt.Close()
		return nil, nil, err
	}
	return func() (bool, error) {
		select {
		case <-stop:
			return false, errStopped
		case err := <-wt.Errors:
			return false, err
		case <-wt.Events:
			return true, nil
		}
	}, func() { wt.Close() }, nil
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
	wake, unwatch := polling(5*time.Millisecond, stopTail)
	defer unwatch()
	go func() {
		// Counting lines, not parsing events: the reader must not compete
		// with the daemon for the CPU more than it has to.
		tailed <- tailLines(out, wake, func(_ []byte, at time.Time) bool {
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
