// Package daemontest runs the mailevents binary as a daemon for end-to-end
// tests: built once per test binary, started and stopped as its own
// process, so that SIGKILL, SIGTERM and SIGHUP reach it as they would under
// systemd.
package daemontest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// Binary returns the path of a mailevents binary built from this checkout,
// building it on first use (with -race when the tests run with it, so that
// the daemon's own races are caught too).
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "mailevents-bin-")
		if buildErr != nil {
			return
		}
		args := []string{"build", "-o", filepath.Join(buildDir, "mailevents")}
		if raceEnabled {
			args = append(args, "-race")
		}
		goBin, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("the go command is needed to build the daemon: %w", err)
			return
		}
		cmd := exec.Command(goBin, append(args, "github.com/mailevents/mailevents")...)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(buildDir, "mailevents")
}

// Cleanup removes the built binary; call it from TestMain after m.Run.
func Cleanup() {
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
}

// Daemon is one running `mailevents run`.
type Daemon struct {
	t      testing.TB
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan struct{}
	err    error
}

// Start runs the binary with args; its stderr is kept for Stderr and shown
// when the test fails.
func Start(t testing.TB, args ...string) *Daemon {
	t.Helper()
	return StartEnv(t, nil, args...)
}

// StartEnv is Start with variables added to the daemon's environment.
func StartEnv(t testing.TB, env []string, args ...string) *Daemon {
	t.Helper()
	d := &Daemon{t: t, stderr: &syncBuffer{}, done: make(chan struct{})}
	d.cmd = exec.Command(Binary(t), args...)
	d.cmd.Env = append(os.Environ(), env...)
	d.cmd.Stderr = d.stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		d.err = d.cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(func() {
		d.Kill()
		if t.Failed() {
			t.Logf("daemon stderr:\n%s", d.Stderr())
		}
	})
	return d
}

// Signal sends sig to the daemon.
func (d *Daemon) Signal(sig os.Signal) {
	if err := d.cmd.Process.Signal(sig); err != nil && !d.Exited() {
		d.t.Fatal(err)
	}
}

// Kill ends the daemon with SIGKILL and waits for it.
func (d *Daemon) Kill() {
	_ = d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.done
}

// Stop sends SIGTERM and waits (up to timeout) for a clean exit.
func (d *Daemon) Stop(timeout time.Duration) error {
	d.Signal(syscall.SIGTERM)
	return d.Wait(timeout)
}

// Wait waits for the daemon to exit and returns its exit error.
func (d *Daemon) Wait(timeout time.Duration) error {
	select {
	case <-d.done:
		return d.err
	case <-time.After(timeout):
		d.t.Fatalf("daemon still running after %s; stderr:\n%s", timeout, d.Stderr())
		return nil
	}
}

// Exited reports whether the process has ended.
func (d *Daemon) Exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// Stderr returns what the daemon logged so far.
func (d *Daemon) Stderr() string { return d.stderr.String() }

// WaitLog waits until the daemon's log contains s.
func (d *Daemon) WaitLog(s string, timeout time.Duration) {
	d.t.Helper()
	Eventually(d.t, timeout, "daemon log line "+s, func() bool { return strings.Contains(d.Stderr(), s) })
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Eventually polls cond every 10 ms until it holds, failing the test after
// timeout.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Event is what the end-to-end tests read back from an output file.
type Event struct {
	Type string `json:"event"`
	ID   string `json:"vnd.mailevents.id"`
	URI  string `json:"uri"`
	Raw  string `json:"-"`
}

// ReadEvents reads a JSON-lines output file. A line that does not parse
// (a torn write) fails the test: the file sink must never leave one.
func ReadEvents(t testing.TB, path string) []Event {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%s line %d is not an event (%v): %q", path, n, err, sc.Text())
		}
		e.Raw = sc.Text()
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// CountLines counts the newline-terminated lines of a file (0 if missing),
// cheaply enough to poll.
func CountLines(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte("\n"))
}
