package mailtest

import (
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
// another socket. Cyrus logs only through syslog(3), and Dovecot's log
// process can, so to capture their syslog output a private rsyslogd has to
// own /dev/log itself while such a server runs. That makes /dev/log a
// machine-wide resource: a lock file serializes the servers across test
// processes (go test runs packages in parallel; dovecottest and cyrustest
// take the same lock, so a Cyrus and a syslog-mode Dovecot never fight over
// the socket), and a live syslog daemon on the machine (journald, a system
// rsyslogd) makes StartSyslogd fail with an explanation instead of stealing
// its socket.
const (
	devLog      = "/dev/log"
	devLogLock  = "/tmp/mailevents-dovecottest-devlog.lock"
	lockTimeout = 2 * time.Minute
)

// rsyslogConf writes the selected lines in RSYSLOG_FileFormat: RFC 3339
// timestamps with microseconds and zone, as modern distributions configure
// rsyslog. Rate limiting is off so a burst of test traffic is never thinned.
const rsyslogConf = `global(workDirectory=%q)
module(load="imuxsock" SysSock.Name=%q SysSock.Unlink="on" SysSock.RateLimit.Interval="0")
%s action(type="omfile" file=%q template="RSYSLOG_FileFormat")
`

// SyslogOptions configures StartSyslogd.
type SyslogOptions struct {
	// Selector is the rsyslog selector of the lines written to the log
	// file, e.g. "mail.*".
	Selector string
	// SkipEnv names the environment variable that, set to "1", makes a
	// missing rsyslogd skip the test instead of failing it.
	SkipEnv string
	// Hint ends the error when another syslog daemon owns /dev/log, e.g.
	// "or use LogFile".
	Hint string
}

// Syslogd is a private rsyslogd owning /dev/log. A nil *Syslogd is valid
// and Stop does nothing.
type Syslogd struct {
	proc *Process
	lock *os.File
}

// StartSyslogd takes the /dev/log lock, starts rsyslogd on /dev/log writing
// the lines opts selects to logPath (its work files go in dir), and waits
// until the socket accepts messages.
func StartSyslogd(t testing.TB, dir, logPath string, opts SyslogOptions) (*Syslogd, error) {
	bin, err := exec.LookPath("rsyslogd")
	if err != nil {
		if opts.SkipEnv != "" && os.Getenv(opts.SkipEnv) == "1" {
			t.Skipf("rsyslogd not installed (%s=1): %v", opts.SkipEnv, err)
		}
		return nil, fmt.Errorf("rsyslogd not installed (scripts/install-test-deps installs it): %w", err)
	}
	lock, err := lockFile(devLogLock, lockTimeout)
	if err != nil {
		return nil, err
	}
	d := &Syslogd{lock: lock}
	if err := d.start(bin, dir, logPath, opts); err != nil {
		d.Stop()
		return nil, err
	}
	return d, nil
}

func (d *Syslogd) start(bin, dir, logPath string, opts SyslogOptions) error {
	if c, err := net.Dial("unixgram", devLog); err == nil {
		c.Close()
		hint := ""
		if opts.Hint != "" {
			hint = " " + opts.Hint
		}
		return fmt.Errorf("a private rsyslogd needs %s, but a syslog daemon "+
			"already listens on it; stop it (scripts/install-test-deps stops the Debian "+
			"package's)%s", devLog, hint)
	}
	work := filepath.Join(dir, "rsyslog")
	if err := os.Mkdir(work, 0o700); err != nil {
		return fmt.Errorf("create rsyslog work dir: %w", err)
	}
	conf := filepath.Join(dir, "rsyslog.conf")
	text := fmt.Appendf(nil, rsyslogConf, work, devLog, opts.Selector, logPath)
	if err := os.WriteFile(conf, text, 0o644); err != nil {
		return fmt.Errorf("write rsyslog.conf: %w", err)
	}
	// -n: stay in the foreground as our child; -i: a pid file of our own
	// so the system one (/run/rsyslogd.pid) is neither read nor clobbered.
	p, err := StartProcess(exec.Command(bin, "-n", "-f", conf, "-i", filepath.Join(dir, "rsyslogd.pid")))
	if err != nil {
		return fmt.Errorf("start rsyslogd: %w", err)
	}
	d.proc = p

	// Ready when the socket accepts a datagram: rsyslogd creates it only
	// after parsing its configuration.
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-p.Exited():
			return fmt.Errorf("rsyslogd exited during startup: %s", p.Output())
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

// Stop stops rsyslogd (SIGTERM makes it write out its queue, close the file
// and unlink /dev/log) and releases the lock.
func (d *Syslogd) Stop() {
	if d == nil {
		return
	}
	if d.proc != nil {
		if d.proc.Stop(10 * time.Second) {
			// A killed rsyslogd leaves its socket behind.
			os.Remove(devLog)
		}
		d.proc = nil
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
