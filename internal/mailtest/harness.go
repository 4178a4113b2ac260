package mailtest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Missing ends t because software it needs is missing (what says which,
// err how that was found): it skips t when the environment variable skipEnv
// is "1", and otherwise fails t, naming the script that installs it.
func Missing(t testing.TB, err error, what, skipEnv, install string) {
	t.Helper()
	if os.Getenv(skipEnv) == "1" {
		t.Skipf("%s (%s=1): %v", what, skipEnv, err)
	}
	t.Fatalf("%s: run %s as root, or set %s=1 to skip these tests: %v", what, install, skipEnv, err)
}

// ShortDir creates a directory under /tmp, named after prefix, whose path
// is short enough for the unix sockets a server creates under it (sun_path
// holds ~108 bytes, and t.TempDir() paths carry the test name), and that
// the server's unprivileged users can traverse.
func ShortDir(prefix string) (string, error) {
	dir, err := os.MkdirTemp("/tmp", prefix)
	if err != nil {
		return "", fmt.Errorf("create temp dir: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", fmt.Errorf("chmod temp dir: %w", err)
	}
	return filepath.Clean(dir), nil
}

// FreePorts asks the kernel for n free loopback ports. They are released
// before the server binds them, a small window in which another process
// could take one; the server then fails to start or to listen, and the
// harness's error says so.
func FreePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		ls = append(ls, l) // held until all are chosen, so they differ
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// LogFile is the file a server's lines end up in. A harness's Server embeds
// it, so that tests read and wait on its log alike.
type LogFile struct {
	LogPath string
}

// Log returns what has been logged so far (nil if nothing yet).
func (l *LogFile) Log() []byte {
	b, _ := os.ReadFile(l.LogPath)
	return b
}

// WaitForLog polls the log until it contains substr and fails t after
// timeout. Servers log asynchronously (Dovecot through its log process,
// and through syslog(3) and rsyslogd in syslog mode; Cyrus always through
// the latter), so a test must wait for a line rather than expect it the
// moment a command returns.
func (l *LogFile) WaitForLog(t testing.TB, substr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !bytes.Contains(l.Log(), []byte(substr)) {
		if time.Now().After(deadline) {
			t.Fatalf("log has no %q after %v; log:\n%s", substr, timeout, l.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
