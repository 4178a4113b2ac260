package cyrustest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// devLog is where glibc's syslog(3) always sends, with no way to choose
// another socket. Cyrus logs only through syslog(3), so to capture it a
// private rsyslogd has to own /dev/log itself while a server runs. That
// makes /dev/log a machine-wide resource: a lock file serializes the servers
// across test processes (go test runs packages in parallel). It is the very
// file internal/dovecottest locks, so a Cyrus and a syslog-mode Dovecot never
// fight over the socket. A live syslog daemon on the machine (journald, a
// system rsyslogd) makes Start fail with an explanation instead of stealing
// its socket.
const (
	devLog      = "/dev/log"
	devLogLock  = "/tmp/mailevents-dovecottest-devlog.lock"
	lockTimeout = 2 * time.Minute
)

// rsyslogConf writes every line but rsyslogd's own (Cyrus's are facility local6, set by
// imapd.conf's syslog_facility, but master logs its configuration errors
// before it has read that; no other program logs while the lock is held,
// except what a machine's cron or the like may send) in RSYSLOG_FileFormat:
// RFC 3339 timestamps with microseconds and zone, as modern distributions
// configure rsyslog. Rate limiting is off so a
// burst of test traffic is never thinned.
const rsyslogConf = `global(workDirectory=%q)
module(load="imuxsock" SysSock.Name=%q SysSock.Unlink="on" SysSock.RateLimit.Interval="0")
*.*;syslog.none action(type="omfile" file=%q template="RSYSLOG_FileFormat")
`

// syslogd is a private rsyslogd. A nil *syslogd is valid and does nothing.
type syslogd struct {
	cmd    *exec.Cmd
	lock   *os.File
	exited chan struct{}
	out    bytes.Buffer // read only after exited is closed
}

// startSyslogd takes the /dev/log lock, starts rsyslogd on /dev/log writing
// to logPath, and waits until the socket accepts messages.
func startSyslogd(t testing.TB, root, logPath string) (*syslogd, error) {
	bin, err := exec.LookPath("rsyslogd")
	if err != nil {
		if os.Getenv("MAILEVENTS_SKIP_CYRUS") == "1" {
			t.Skipf("rsyslogd not installed (MAILEVENTS_SKIP_CYRUS=1): %v", err)
		}
		return nil, fmt.Errorf("rsyslogd not installed (scripts/install-test-deps installs it): %w", err)
	}
	lock, err := lockFile(devLogLock, lockTimeout)
	if err != nil {
		return nil, err
	}
	d := &syslogd{lock: lock, exited: make(chan struct{})}
	if err := d.start(bin, root, logPath); err != nil {
		d.stop()
		return nil, err
	}
	return d, nil
}

func (d *syslogd) start(bin, root, logPath string) error {
	if c, err := net.Dial("unixgram", devLog); err == nil {
		c.Close()
		return fmt.Errorf("cyrustest needs %s for a private rsyslogd, but a syslog daemon "+
			"already listens on it; stop it (scripts/install-test-deps stops the Debian "+
			"package's)", devLog)
	}
	work := filepath.Join(root, "rsyslog")
	if err := os.Mkdir(work, 0o700); err != nil {
		return fmt.Errorf("create rsyslog work dir: %w", err)
	}
	conf := filepath.Join(root, "rsyslog.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, rsyslogConf, work, devLog, logPath), 0o644); err != nil {
		return fmt.Errorf("write rsyslog.conf: %w", err)
	}
	// -n: stay in the foreground as our child; -i: a pid file of our own
	// so the system one (/run/rsyslogd.pid) is neither read nor clobbered.
	d.cmd = exec.Command(bin, "-n", "-f", conf, "-i", filepath.Join(root, "rsyslogd.pid"))
	d.cmd.Stdout = &d.out
	d.cmd.Stderr = &d.out
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := d.cmd.Start(); err != nil {
		return fmt.Errorf("start rsyslogd: %w", err)
	}
	go func() {
		_ = d.cmd.Wait() // its output says why it failed
		close(d.exited)
	}()

	// Ready when the socket accepts a datagram: rsyslogd creates it only
	// after parsing its configuration.
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-d.exited:
			return fmt.Errorf("rsyslogd exited during startup: %s", d.out.String())
		default:
		}
		if c, err := net.Dial("unixgram", devLog); err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("rsyslogd did not open " + devLog + " within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop stops rsyslogd (SIGTERM makes it write out its queue, close the file
// and unlink /dev/log) and releases the lock.
func (d *syslogd) stop() {
	if d == nil {
		return
	}
	if d.cmd != nil && d.cmd.Process != nil {
		_ = d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
			<-d.exited
			// A killed rsyslogd leaves its socket behind.
			os.Remove(devLog)
		}
		d.cmd = nil
	}
	if d.lock != nil {
		_ = syscall.Flock(int(d.lock.Fd()), syscall.LOCK_UN)
		d.lock.Close()
		d.lock = nil
	}
}

// lockFile takes an exclusive flock on path, polling until timeout. The
// kernel drops the lock if the process dies, so a crashed test cannot leave
// it held.
func lockFile(path string, timeout time.Duration) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	deadline := time.Now().Add(timeout)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("lock %s (another test holds %s): %w", path, devLog, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
