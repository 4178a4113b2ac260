// Package cyrustest runs a private, real Cyrus IMAP (Debian's packages,
// unpacked by scripts/install-cyrus into a private prefix, since they
// conflict with Dovecot's in apt) for tests, and drives it with real IMAP
// and LMTP clients, so that the Cyrus log grammar is tested against lines
// Cyrus actually writes.
//
// Cyrus logs only through syslog, so every server comes with a private
// rsyslogd that owns /dev/log while it runs (mailtest.StartSyslogd); the
// lock that serializes that is shared with internal/dovecottest.
//
// The tests must run as root: master binds as root and then switches to the
// cyrus_user (the system user "mail"; Debian's "cyrus" user exists only when
// its postinst has run). When the unpacked Cyrus is missing the tests fail,
// unless MAILEVENTS_SKIP_CYRUS=1 is set, in which case they skip.
package cyrustest

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

// DefaultPrefix is where scripts/install-cyrus unpacks Cyrus;
// MAILEVENTS_CYRUS_PREFIX overrides it for both.
const DefaultPrefix = "/opt/mailevents-cyrus"

// Password is every test user's password, the admin's included.
const Password = "secret"

// cyrusUser is the unix user master and its services run as.
const cyrusUser = "mail"

// Options configures Start. The zero value has users alice, bob and carol,
// "/" as hierarchy separator and immediate mailbox deletion.
type Options struct {
	// Users get a sasldb password (Password) and a mailbox user/<name>.
	// Default: alice, bob, carol.
	Users []string
	// DotSeparator sets unixhierarchysep: no ("." separates levels, as in
	// Debian's imapd.conf) instead of yes.
	DotSeparator bool
	// DelayedDelete sets delete_mode: delayed (Cyrus's default): DELETE
	// renames the mailbox to DELETED.* instead of removing it.
	DelayedDelete bool
	// NotifyListen, when set, replaces the harness's own notify listener:
	// it is called with a private directory (short enough for a socket
	// path, traversable by the Cyrus user) and the uid and gid the Cyrus
	// services run as; it binds a socket there that they can write to and
	// returns imapd.conf's notifysocket value (a path, or "dlist:" and a
	// path for the stream form). Server.Notifications is then empty.
	NotifyListen func(dir string, uid, gid int) (notifysocket string, err error)
	// ExtraConf is imapd.conf text merged into the generated one (e.g. a
	// packaged fragment): an option it sets replaces the harness's line
	// for that option (Cyrus refuses an option given twice), the others are
	// appended. Paths the harness owns (configdirectory, notifysocket, …)
	// should be left out of it.
	ExtraConf string
}

// Server is a running private Cyrus.
type Server struct {
	IMAPAddr, POP3Addr, LMTPAddr string
	NotifySocket                 string // notifysocket: the harness's datagram socket, or Options.NotifyListen's
	IMAPDConf, CyrusConf         string // paths of the generated configuration
	Version                      string // `cyr_info version`, e.g. "cyrus-imapd 3.6.1-Debian-3.6.1-4+deb12u5"
	Prefix                       string
	mailtest.LogFile             // LogPath: the syslog capture file

	root     string
	env      []string
	master   *mailtest.Process
	syslog   *mailtest.Syslogd
	notify   *notifyListener
	stopOnce sync.Once
}

// Start starts a private Cyrus for t, creates the users' mailboxes, and
// registers its Stop with t.Cleanup. It fails t if Cyrus cannot be started.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	prefix := os.Getenv("MAILEVENTS_CYRUS_PREFIX")
	if prefix == "" {
		prefix = DefaultPrefix
	}
	master := filepath.Join(prefix, "usr/sbin/cyrmaster")
	if _, err := os.Stat(master); err != nil {
		mailtest.Missing(t, err, "Cyrus not unpacked", "MAILEVENTS_SKIP_CYRUS",
			"scripts/install-cyrus (or scripts/install-test-deps)")
	}
	if os.Geteuid() != 0 {
		t.Fatalf("cyrustest: Cyrus's master must start as root (euid %d)", os.Geteuid())
	}
	s, err := start(t, prefix, opts)
	if err != nil {
		t.Fatalf("cyrustest: %v", err)
	}
	return s
}

func start(t testing.TB, prefix string, opts Options) (*Server, error) {
	s := &Server{Prefix: prefix}
	s.env = append(os.Environ(), "LD_LIBRARY_PATH="+
		filepath.Join(prefix, "usr/lib/x86_64-linux-gnu")+":"+filepath.Join(prefix, "lib/x86_64-linux-gnu"))

	// Short enough for the unix sockets Cyrus creates under
	// configdirectory, and traversable by the Cyrus user.
	root, err := mailtest.ShortDir("cyt")
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	s.root = root

	u, err := user.Lookup(cyrusUser)
	if err != nil {
		return nil, fmt.Errorf("look up the %s user: %w", cyrusUser, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)

	d := confData{
		Prefix: prefix, Conf: filepath.Join(root, "imapd.conf"),
		ConfigDir: filepath.Join(root, "conf"), Partition: filepath.Join(root, "spool"),
		Sieve: filepath.Join(root, "sieve"), NotifySocket: filepath.Join(root, "notify"),
		CyrusUser: cyrusUser, DotSeparator: opts.DotSeparator, DelayedDelete: opts.DelayedDelete,
	}
	d.SASLDB = filepath.Join(d.ConfigDir, "sasldb2")
	// What mkimap does: the directories Cyrus expects, owned by its user.
	dirs := []string{d.ConfigDir, d.Partition, d.Sieve}
	for _, sub := range configSubdirs {
		dirs = append(dirs, filepath.Join(d.ConfigDir, sub))
	}
	for _, dir := range dirs {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create %s: %w", dir, err)
		}
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, fmt.Errorf("chown %s: %w", dir, err)
		}
	}

	users := opts.Users
	if users == nil {
		users = []string{"alice", "bob", "carol"}
	}
	// Before the private rsyslogd starts: saslpasswd2 logs harmless
	// "error deleting entry" lines that do not belong in the capture.
	if err := s.writeSASLDB(d.SASLDB, append([]string{Admin}, users...), uid, gid); err != nil {
		return nil, err
	}

	ports, err := mailtest.FreePorts(3)
	if err != nil {
		return nil, err
	}
	d.IMAPPort, d.POP3Port, d.LMTPPort = ports[0], ports[1], ports[2]
	s.IMAPAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	s.POP3Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))
	s.LMTPAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[2]))
	s.IMAPDConf, s.CyrusConf = d.Conf, filepath.Join(root, "cyrus.conf")
	if opts.NotifyListen != nil {
		// Before imapd.conf is written: it names the caller's socket.
		if d.NotifySocket, err = opts.NotifyListen(root, uid, gid); err != nil {
			return nil, fmt.Errorf("NotifyListen: %w", err)
		}
	}
	imapd, err := render(imapdTemplate, d)
	if err != nil {
		return nil, err
	}
	imapd = mergeConf(imapd, opts.ExtraConf)
	cyrus, err := render(cyrusTemplate, d)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(s.IMAPDConf, []byte(imapd), 0o644); err != nil {
		return nil, fmt.Errorf("write imapd.conf: %w", err)
	}
	if err := os.WriteFile(s.CyrusConf, []byte(cyrus), 0o644); err != nil {
		return nil, fmt.Errorf("write cyrus.conf: %w", err)
	}
	// cyr_info refuses to run without a configuration; it runs as root and
	// switches to cyrus_user, and logs nothing.
	out, err := s.command("usr/lib/cyrus/bin/cyr_info", "-C", d.Conf, "version").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("cyr_info version: %w: %s", err, out)
	}
	s.Version = strings.TrimSpace(string(out))

	if opts.NotifyListen == nil {
		if s.notify, err = listenNotify(d.NotifySocket, uid, gid); err != nil {
			return nil, err
		}
	}
	s.NotifySocket = d.NotifySocket
	s.LogPath = filepath.Join(root, "syslog.log")
	// Every line but rsyslogd's own: Cyrus's are facility local6, set by
	// imapd.conf's syslog_facility, but master logs its configuration
	// errors before it has read that; no other program logs while the lock
	// is held, except what a machine's cron or the like may send.
	syslogOpts := mailtest.SyslogOptions{Selector: "*.*;syslog.none", SkipEnv: "MAILEVENTS_SKIP_CYRUS"}
	if s.syslog, err = mailtest.StartSyslogd(t, root, s.LogPath, syslogOpts); err != nil {
		s.notify.close()
		return nil, err
	}

	// master stays in the foreground (no -d) as our child; it binds the
	// listeners as root, then runs as cyrus_user. -p keeps its pid file
	// out of /run.
	// The process group's SIGTERM on the test binary's death is cleared
	// by the kernel when master switches to cyrus_user, so it only covers
	// the start-up; Stop is what ends master.
	s.master, err = mailtest.StartProcess(s.command("usr/sbin/cyrmaster", "-C", s.IMAPDConf, "-M", s.CyrusConf,
		"-p", filepath.Join(d.ConfigDir, "master.pid")))
	if err != nil {
		s.syslog.Stop()
		s.notify.close()
		return nil, fmt.Errorf("start cyrmaster: %w", err)
	}
	t.Cleanup(s.Stop)

	fail := func(err error) (*Server, error) {
		s.Stop()
		return nil, fmt.Errorf("%w\nimapd.conf:\n%s\ncyrus.conf:\n%s\nstderr:\n%s\nlog:\n%s",
			err, imapd, cyrus, s.master.Output(), s.Log())
	}
	if err := s.waitReady(20 * time.Second); err != nil {
		return fail(err)
	}
	if err := s.createMailboxes(users, opts.DotSeparator); err != nil {
		return fail(err)
	}
	return s, nil
}

// command returns a command for the binary at rel under the prefix, with
// the prefix's libraries on LD_LIBRARY_PATH.
func (s *Server) command(rel string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.Prefix, rel), args...)
	cmd.Env = s.env
	return cmd
}

// writeSASLDB creates the sasldb with every user's password in the realm
// ServerName, which imapd passes to SASL as the server's FQDN.
func (s *Server) writeSASLDB(path string, users []string, uid, gid int) error {
	for _, u := range users {
		cmd := s.command("usr/sbin/saslpasswd2", "-p", "-c", "-f", path, "-u", ServerName, u)
		cmd.Stdin = strings.NewReader(Password)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("saslpasswd2 %s: %w: %s", u, err, out)
		}
	}
	if err := os.Chown(path, uid, gid); err != nil {
		return fmt.Errorf("chown sasldb: %w", err)
	}
	return nil
}

// waitReady waits until the IMAP port is listening, or master exits (a
// configuration error makes it exit at once). imap is the last service in
// cyrus.conf, so the POP3 and LMTP listeners are bound by then. It looks in
// /proc/net/tcp rather than connecting: a probe connection would make imapd
// log an "auditlog: traffic" line for a session that never was.
func (s *Server) waitReady(timeout time.Duration) error {
	_, portStr, _ := net.SplitHostPort(s.IMAPAddr)
	port, _ := strconv.Atoi(portStr)
	// 127.0.0.1 in /proc/net/tcp's little-endian hex, the port big-endian;
	// state 0A is LISTEN.
	want := fmt.Sprintf("0100007F:%04X 00000000:0000 0A", port)
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-s.master.Exited():
			return errors.New("cyrmaster exited during startup")
		default:
		}
		if b, err := os.ReadFile("/proc/net/tcp"); err == nil && bytes.Contains(b, []byte(want)) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cyrmaster did not listen on %s within %v", s.IMAPAddr, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop shuts Cyrus down and returns once master has exited (on SIGTERM it
// shuts its services down and waits for them: "All children have exited,
// closing down") and rsyslogd has written everything and exited. It is
// idempotent.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		// A kill after the grace period kills the whole group: master's
		// services share it.
		s.master.Stop(15 * time.Second)
		s.syslog.Stop()
		s.notify.close()
	})
}

// Expire runs cyr_expire with this server's configuration and args (e.g.
// "-E", "1", "-X", "0"); it starts as root and switches to the Cyrus user
// itself, like the other tools. It returns the combined output.
func (s *Server) Expire(args ...string) (string, error) {
	cmd := s.command("usr/lib/cyrus/bin/cyr_expire", append([]string{"-C", s.IMAPDConf}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
