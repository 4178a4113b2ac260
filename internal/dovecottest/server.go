// Package dovecottest runs a private, real Dovecot (as packaged by Debian)
// for tests, and drives it with real IMAP, POP3 and LMTP clients, so that the
// Dovecot log grammar is tested against lines Dovecot actually writes.
//
// The tests must run as root: Dovecot's master needs it to bind, to switch
// to the mail user and to run its unprivileged services. Install the
// packages with scripts/install-test-deps. When the dovecot binary is
// missing the tests fail, unless MAILEVENTS_SKIP_DOVECOT=1 is set, in which
// case they skip.
package dovecottest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailevents/mailevents/internal/mailtest"
)

// Password is every test user's password.
const Password = "secret"

// ISOTimestamp is a log_timestamp in ISO 8601 style, for Options.LogTimestamp.
const ISOTimestamp = "%Y-%m-%d %H:%M:%S "

// LogMode selects where Dovecot logs.
type LogMode int

const (
	// LogFile makes Dovecot write its own log file (log_path).
	LogFile LogMode = iota
	// LogSyslog makes Dovecot log through syslog(3) to a private rsyslogd
	// that owns /dev/log while the server runs (see syslog.go).
	LogSyslog
)

// String names the mode as the testdata sample files do.
func (m LogMode) String() string {
	if m == LogSyslog {
		return "syslog"
	}
	return "file"
}

// Options configures Start. The zero value is a file-logging server with
// users alice, bob and carol, no quota and no autoexpunge.
type Options struct {
	Log LogMode
	// LogTimestamp is Dovecot's log_timestamp (file mode only), for example
	// ISOTimestamp; empty keeps Dovecot's default "%b %d %H:%M:%S ".
	LogTimestamp string
	// Users are the passwd-file users, all with Password. Default: alice,
	// bob, carol.
	Users []string
	// QuotaUsers gives users a storage quota in bytes; a user named here
	// and not in Users is added.
	QuotaUsers map[string]int64
	// Autoexpunge, if positive, sets "autoexpunge" on the Trash mailbox.
	// Dovecot compares it with each mail's save date (not INTERNALDATE) at
	// the end of an IMAP or POP3 session; it has a resolution of 1s.
	Autoexpunge time.Duration
	// Include are configuration files (absolute paths) that dovecot.conf
	// !includes at its end, such as packaging/dovecot/95-mailevents.conf.
	// When set, the harness leaves out its own mail_log plugin, mail_log
	// settings and login_log_format_elements, so that the included files'
	// are the ones in force: a test then proves what they configure.
	Include []string
	// PushLua, if set, is a push_notification Lua driver script (such as
	// packaging/dovecot/mailevents-push.lua) that Dovecot runs; it is told
	// to write to Server.PushLog through the mailevents_push_file setting.
	PushLua string
}

// Server is a running private Dovecot.
type Server struct {
	IMAPAddr, POP3Addr, LMTPAddr string
	PushLog                      string // the file Options.PushLua writes, or ""
	Conf                         string // path of the generated dovecot.conf
	Version                      string // `dovecot --version`, e.g. "2.3.19.1 (9b53102964)"
	mailtest.LogFile                    // LogPath: the file Dovecot's lines end up in

	root     string
	master   *mailtest.Process
	syslog   *mailtest.Syslogd
	stopOnce sync.Once
}

// Start starts a private Dovecot for t and registers its Stop with
// t.Cleanup. It fails t if Dovecot cannot be started.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	bin, err := exec.LookPath("dovecot")
	if err != nil {
		mailtest.Missing(t, err, "dovecot not installed", "MAILEVENTS_SKIP_DOVECOT", "scripts/install-test-deps")
	}
	if os.Geteuid() != 0 {
		t.Fatalf("dovecottest: Dovecot's master must run as root (euid %d)", os.Geteuid())
	}
	s, err := start(t, bin, opts)
	if err != nil {
		t.Fatalf("dovecottest: %v", err)
	}
	return s
}

func start(t testing.TB, bin string, opts Options) (*Server, error) {
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("dovecot --version: %w", err)
	}
	// Short enough for the unix sockets Dovecot creates in base_dir, and
	// traversable by its unprivileged users (dovecot, dovenull, the mail
	// user).
	root, err := mailtest.ShortDir("dvt")
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	s := &Server{root: root, Version: strings.TrimSpace(string(out))}

	mailUser, err := user.Lookup("mail")
	if err != nil {
		return nil, fmt.Errorf("look up the mail user: %w", err)
	}
	uid, _ := strconv.Atoi(mailUser.Uid)
	gid, _ := strconv.Atoi(mailUser.Gid)
	mailRoot := filepath.Join(root, "mail")
	if err := os.Mkdir(mailRoot, 0o755); err != nil {
		return nil, fmt.Errorf("create mail root: %w", err)
	}
	// Homes are created by Dovecot as the mail user, so it owns their parent.
	if err := os.Chown(mailRoot, uid, gid); err != nil {
		return nil, fmt.Errorf("chown mail root: %w", err)
	}
	if err := os.Mkdir(filepath.Join(root, "state"), 0o755); err != nil {
		return nil, fmt.Errorf("create state_dir: %w", err)
	}
	users := opts.Users
	if users == nil {
		users = []string{"alice", "bob", "carol"}
	}
	passwd := filepath.Join(root, "passwd")
	if err := writePasswd(passwd, users, opts.QuotaUsers); err != nil {
		return nil, err
	}

	ports, err := mailtest.FreePorts(3)
	if err != nil {
		return nil, err
	}
	d := confData{
		BaseDir: filepath.Join(root, "run"), StateDir: filepath.Join(root, "state"),
		MailRoot: mailRoot, Passwd: passwd, LogPath: filepath.Join(root, "dovecot.log"),
		LogTimestamp: opts.LogTimestamp, MailUser: mailUser.Username, MailUID: uid,
		IMAPPort: ports[0], POP3Port: ports[1], LMTPPort: ports[2],
		Autoexpunge: durationSetting(opts.Autoexpunge), Include: opts.Include,
	}
	s.LogPath = d.LogPath
	if opts.PushLua != "" {
		if d.PushLua, err = filepath.Abs(opts.PushLua); err != nil {
			return nil, fmt.Errorf("push script: %w", err)
		}
		// The mail processes append as the mail user.
		d.PushFile = filepath.Join(root, "push.jsonl")
		if err := os.WriteFile(d.PushFile, nil, 0o644); err != nil {
			return nil, fmt.Errorf("create push file: %w", err)
		}
		if err := os.Chown(d.PushFile, uid, gid); err != nil {
			return nil, fmt.Errorf("chown push file: %w", err)
		}
		s.PushLog = d.PushFile
	}
	if opts.Log == LogSyslog {
		d.LogPath = "syslog"
		s.LogPath = filepath.Join(root, "syslog.log")
		// Facility mail is syslog_facility's default.
		syslogOpts := mailtest.SyslogOptions{Selector: "mail.*", SkipEnv: "MAILEVENTS_SKIP_DOVECOT", Hint: "or use LogFile"}
		if s.syslog, err = mailtest.StartSyslogd(t, root, s.LogPath, syslogOpts); err != nil {
			return nil, err
		}
	}
	conf, err := renderConf(d)
	if err != nil {
		return nil, err
	}
	s.Conf = filepath.Join(root, "dovecot.conf")
	if err := os.WriteFile(s.Conf, []byte(conf), 0o644); err != nil {
		return nil, fmt.Errorf("write dovecot.conf: %w", err)
	}
	s.IMAPAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	s.POP3Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))
	s.LMTPAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[2]))

	// -F keeps the master in the foreground as our child, so its exit is
	// observed by Wait instead of by polling a pid file.
	if s.master, err = mailtest.StartProcess(exec.Command(bin, "-F", "-c", s.Conf)); err != nil {
		s.syslog.Stop()
		return nil, fmt.Errorf("start dovecot: %w", err)
	}
	t.Cleanup(s.Stop)

	if err := s.waitReady(20 * time.Second); err != nil {
		s.Stop()
		return nil, fmt.Errorf("%w\nconf:\n%s\nstderr:\n%s\nlog:\n%s", err, conf, s.master.Output(), s.Log())
	}
	return s, nil
}

// waitReady waits until the master logs that it is starting up, or exits
// (a configuration error makes it exit at once). The master binds every
// listener before it logs that line, so connections are queued from then on.
// Probing the ports instead would put "Disconnected ... before auth" and LMTP
// connect lines into the log that the tests use as golden input.
func (s *Server) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for !bytes.Contains(s.Log(), []byte(" starting up for ")) {
		select {
		case <-s.master.Exited():
			return errors.New("dovecot exited during startup")
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("dovecot did not log its start-up within %v", timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// Stop shuts Dovecot down gracefully and returns once the master has exited
// (it waits for its services, the log process included, so the log file is
// complete) and, in syslog mode, rsyslogd has written everything and exited.
// It is idempotent.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		s.master.Stop(15 * time.Second)
		s.syslog.Stop()
	})
}

// Doveadm runs `doveadm -c <conf> args...` and returns its standard output.
// doveadm works as root and reaches the server through the sockets in
// base_dir, so the server must be running.
func (s *Server) Doveadm(args ...string) ([]byte, error) {
	cmd := exec.Command("doveadm", append([]string{"-c", s.Conf}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("doveadm %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
