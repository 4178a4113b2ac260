package loggen

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"
)

// Cyrus writes n lines of a Cyrus IMAP 3.6 syslog (auditlog: yes, Debian's
// syslog_prefix "cyrus", rsyslog's RFC 3339 format) with the mix a busy
// IMAP/LMTP host shows: IMAP sessions (login, auditlog append, touched and
// expunge with their modseq lines, mailbox create and rename, USAGE and
// traffic at logout), LMTP deliveries (auditlog append, modseq, Delivered:,
// USAGE), POP3 sessions, failed logins, and the master/ctl_cyrusdb chatter
// that carries no event. The line shapes are those of the real Cyrus 3.6.1
// capture in internal/cyrustest/testdata/sample-syslog.log.
func Cyrus(w io.Writer, n int, seed uint64) error {
	g := &cyrusGen{
		w:   bufio.NewWriterSize(w, 256<<10),
		rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		t:   time.Date(2026, 3, 2, 0, 0, 0, 0, time.FixedZone("", 3600)),
		pid: 30000,
	}
	for g.lines < n {
		switch r := g.rnd.IntN(100); {
		case r < 45:
			g.imapSession(n)
		case r < 78:
			g.delivery(n)
		case r < 86:
			g.pop3Session(n)
		case r < 94:
			g.badLogin()
		default:
			g.chatter()
		}
	}
	return g.w.Flush()
}

type cyrusGen struct {
	w     *bufio.Writer
	rnd   *rand.Rand
	t     time.Time
	lines int
	pid   int
	sess  int
}

// cyrusUser is a login name and the internal name of its INBOX.
type cyrusUser struct{ login, inbox string }

var (
	cyrusUsers = []cyrusUser{
		{"alice", "user.alice"}, {"bob", "user.bob"}, {"carol", "user.carol"},
		{"dave", "user.dave"}, {"erin@example.com", "example.com!user.erin"}, {"frank.oneil", "user.frank^oneil"},
	}
	// Sub-mailboxes in internal form (hierarchy ".", "^" for a dot in a
	// name, modified UTF-7).
	cyrusSub   = []string{"", "", "", ".Sent", ".Archive.2025", ".Drafts", ".Trash", ".Entw&APw-rfe", ".Projects.Q1 Reports"}
	cyrusFlags = [][2]string{{"", "SE"}, {"SE", "SE|FL"}, {"SE", "AN|SE"}, {"SE|FL", "SE"}, {"", "DR"}, {"SE", "SE|FL|AN"}}
)

const cyrusIDChars = "abcdefghijklmnopqrstuvwxyz0123456789"

func (g *cyrusGen) line(tag string, pid int, format string, args ...any) {
	g.t = g.t.Add(time.Duration(g.rnd.IntN(20000)) * time.Microsecond)
	fmt.Fprintf(g.w, "%s mail cyrus/%s[%d]: ", g.t.Format("2006-01-02T15:04:05.000000-07:00"), tag, pid)
	fmt.Fprintf(g.w, format, args...)
	g.w.WriteByte('\n')
	g.lines++
}

func (g *cyrusGen) newPid() int {
	g.pid++
	if g.pid > 4000000 {
		g.pid = 30000
	}
	return g.pid
}

// sessionID is Cyrus's SESSIONID: servername-time-pid-counter-random.
func (g *cyrusGen) sessionID(pid int) string {
	g.sess++
	return fmt.Sprintf("mail.example.org-%d-%d-%d-%d", g.t.Unix(), pid, 1+g.sess%4, g.rnd.Uint64()>>1)
}

func (g *cyrusGen) token(n int) string {
	var b strings.Builder
	for range n {
		b.WriteByte(cyrusIDChars[g.rnd.IntN(len(cyrusIDChars))])
	}
	return b.String()
}

func (g *cyrusGen) guid() string {
	return fmt.Sprintf("%016x%016x%08x", g.rnd.Uint64(), g.rnd.Uint64(), g.rnd.Uint32())
}

func (g *cyrusGen) ip() string {
	return fmt.Sprintf("198.51.%d.%d", g.rnd.IntN(256), 1+g.rnd.IntN(254))
}

// mailbox is a mailbox of u with its uniqueid (stable per name within a run
// is not needed for parsing; it only has to look real).
func (g *cyrusGen) mailbox(u cyrusUser) (name, uniqueid string) {
	return u.inbox + cyrusSub[g.rnd.IntN(len(cyrusSub))], g.token(24)
}

func (g *cyrusGen) imapSession(limit int) {
	u := cyrusUsers[g.rnd.IntN(len(cyrusUsers))]
	pid := g.newPid()
	sid := g.sessionID(pid)
	ip := g.ip()
	g.line("imap", pid, "login: host-%s.example.net [%s] %s plaintext+TLS User logged in SESSIONID=<%s>", strings.ReplaceAll(ip, ".", "-"), ip, u.login, sid)
	modseq := 100 + g.rnd.IntN(10000)
	uid := 1 + g.rnd.IntN(50000)
	for range 1 + g.rnd.IntN(6) {
		if g.lines >= limit {
			return
		}
		box, uq := g.mailbox(u)
		modseq++
		uid++
		switch g.rnd.IntN(8) {
		case 0, 1: // APPEND (or COPY/MOVE)
			g.line("imap", pid, "auditlog: append sessionid=<%s> mailbox=<%s> uniqueid=<%s> uid=<%d> modseq=<%d> sysflags=<SE> guid=<%s> messageid=<%x@example.net> size=<%d>",
				sid, box, uq, uid, modseq, g.guid(), g.rnd.Uint64(), 1000+g.rnd.IntN(90000))
			g.line("imap", pid, "auditlog: modseq sessionid=<%s> mailbox=<%s> uniqueid=<%s> highestmodseq=<%d> deletedmodseq=<0>", sid, box, uq, modseq)
		case 2, 3, 4: // STORE
			f := cyrusFlags[g.rnd.IntN(len(cyrusFlags))]
			g.line("imap", pid, "auditlog: touched sessionid=<%s> mailbox=<%s> uniqueid=<%s> uid=<%d> guid=<%s> cid=<NIL> modseq=<%d> oldflags=<%s> sysflags=<%s>",
				sid, box, uq, uid, g.guid(), modseq, f[0], f[1])
			g.line("imap", pid, "auditlog: modseq sessionid=<%s> mailbox=<%s> uniqueid=<%s> highestmodseq=<%d> deletedmodseq=<0>", sid, box, uq, modseq)
		case 5, 6: // \Deleted and EXPUNGE
			guid, size := g.guid(), 1000+g.rnd.IntN(90000)
			g.line("imap", pid, "auditlog: touched sessionid=<%s> mailbox=<%s> uniqueid=<%s> uid=<%d> guid=<%s> cid=<NIL> modseq=<%d> oldflags=<SE> sysflags=<DE|SE>",
				sid, box, uq, uid, guid, modseq)
			modseq++
			g.line("imap", pid, "auditlog: touched sessionid=<%s> mailbox=<%s> uniqueid=<%s> uid=<%d> guid=<%s> cid=<NIL> modseq=<%d> oldflags=<DE|SE> sysflags=<DE|SE|EX>",
				sid, box, uq, uid, guid, modseq)
			g.line("imap", pid, "auditlog: expunge sessionid=<%s> mailbox=<%s> uniqueid=<%s> uid=<%d> modseq=<%d> sysflags=<DE|SE|EX> guid=<%s> size=<%d>",
				sid, box, uq, uid, modseq, guid, size)
			g.line("imap", pid, "auditlog: modseq sessionid=<%s> mailbox=<%s> uniqueid=<%s> highestmodseq=<%d> deletedmodseq=<0>", sid, box, uq, modseq)
			g.line("imap", pid, "Expunged 1 messages from %s", box)
		default: // CREATE, sometimes followed by RENAME
			box := fmt.Sprintf("%s.Folder%d", u.inbox, g.rnd.IntN(100))
			uq := g.token(24)
			g.line("imap", pid, "auditlog: create sessionid=<%s> mailbox=<%s> uniqueid=<%s> uidvalidity=<%d>", sid, box, uq, 1700000000+g.rnd.IntN(1e8))
			g.line("imap", pid, "auditlog: acl: sessionid=<%s> mailbox=<%s> uniqueid=<%s> mbtype=<e> oldacl=<NONE> acl=<%s#011lrswipkxtecdan#011> foldermodseq=<1> ",
				sid, box, uq, u.login)
			if g.rnd.IntN(2) == 0 {
				g.line("imap", pid, "Rename: %s -> %s.Renamed%d", box, u.inbox, g.rnd.IntN(100))
			}
		}
	}
	g.line("imap", pid, "USAGE %s user: 0.%06d sys: 0.%06d", u.login, g.rnd.IntN(100000), g.rnd.IntN(100000))
	g.line("imap", pid, "auditlog: traffic sessionid=<%s> bytes_in=<%d> bytes_out=<%d>", sid, 100+g.rnd.IntN(5000), 1000+g.rnd.IntN(500000))
}

func (g *cyrusGen) delivery(limit int) {
	pid := g.newPid()
	sid := g.sessionID(pid)
	msgid := fmt.Sprintf("<%x@mx.example.com>", g.rnd.Uint64())
	guid, size := g.guid(), 2000+g.rnd.IntN(90000)
	for range 1 + g.rnd.IntN(2) { // one or two recipients
		if g.lines >= limit {
			return
		}
		u := cyrusUsers[g.rnd.IntN(len(cyrusUsers))]
		uq := g.token(24)
		modseq := 100 + g.rnd.IntN(10000)
		g.line("lmtp", pid, "auditlog: append sessionid=<%s> mailbox=<%s> uniqueid=<%s> uid=<%d> modseq=<%d> sysflags=<> guid=<%s> messageid=%s size=<%d>",
			sid, u.inbox, uq, 1+g.rnd.IntN(90000), modseq, guid, msgid, size)
		g.line("lmtp", pid, "auditlog: modseq sessionid=<%s> mailbox=<%s> uniqueid=<%s> highestmodseq=<%d> deletedmodseq=<0>", sid, u.inbox, uq, modseq)
		g.line("lmtp", pid, "Delivered: %s to mailbox: %s", msgid, u.inbox)
		g.line("lmtp", pid, "USAGE %s user: 0.%06d sys: 0.%06d", u.login, g.rnd.IntN(100000), g.rnd.IntN(100000))
	}
}

func (g *cyrusGen) pop3Session(limit int) {
	u := cyrusUsers[g.rnd.IntN(len(cyrusUsers))]
	pid := g.newPid()
	sid := g.sessionID(pid)
	ip := g.ip()
	g.line("pop3", pid, "login: host-%s.example.net [%s] %s plaintext+TLS User logged in SESSIONID=<%s>", strings.ReplaceAll(ip, ".", "-"), ip, u.login, sid)
	uq := g.token(24)
	dele := g.rnd.IntN(3)
	modseq := 100 + g.rnd.IntN(10000)
	for i := range dele {
		if g.lines >= limit {
			return
		}
		uid, guid := 1+i+g.rnd.IntN(50000), g.guid()
		modseq++
		g.line("pop3", pid, "auditlog: touched sessionid=<%s> mailbox=<%s> uniqueid=<%s> uid=<%d> guid=<%s> cid=<NIL> modseq=<%d> oldflags=<> sysflags=<DE|EX>",
			sid, u.inbox, uq, uid, guid, modseq)
		g.line("pop3", pid, "Expunged 1 messages from %s", u.inbox)
		g.line("pop3", pid, "auditlog: expunge sessionid=<%s> mailbox=<%s> uniqueid=<%s> uid=<%d> modseq=<%d> sysflags=<DE|EX> guid=<%s> size=<%d>",
			sid, u.inbox, uq, uid, modseq, guid, 1000+g.rnd.IntN(90000))
		g.line("pop3", pid, "auditlog: modseq sessionid=<%s> mailbox=<%s> uniqueid=<%s> highestmodseq=<%d> deletedmodseq=<0>", sid, u.inbox, uq, modseq)
	}
	g.line("pop3", pid, "USAGE %s user: 0.%06d sys: 0.%06d", u.login, g.rnd.IntN(100000), g.rnd.IntN(100000))
	g.line("pop3", pid, "counts: retr=<%d> top=<0> dele=<%d>", dele+g.rnd.IntN(3), dele)
	g.line("pop3", pid, "auditlog: traffic sessionid=<%s> bytes_in=<%d> bytes_out=<%d>", sid, 40+g.rnd.IntN(500), 500+g.rnd.IntN(500000))
}

func (g *cyrusGen) badLogin() {
	ip := g.ip()
	g.line("imap", g.newPid(), "badlogin: host-%s.example.net [%s] plaintext (%s) [SASL(-13): authentication failure: checkpass failed]",
		strings.ReplaceAll(ip, ".", "-"), ip, cyrusUsers[g.rnd.IntN(len(cyrusUsers))].login)
}

func (g *cyrusGen) chatter() {
	switch g.rnd.IntN(4) {
	case 0:
		pid := g.newPid()
		g.line("ctl_cyrusdb", pid, "checkpointing cyrus databases")
		g.line("ctl_cyrusdb", pid, "done checkpointing cyrus databases")
	case 1:
		g.line("imap", g.newPid(), "created stage directory /var/spool/cyrus/mail/stage./")
	case 2:
		g.line("master", 1200, "process type:SERVICE name:imap path:/usr/lib/cyrus/bin/imapd age:%d.%03ds pid:%d exited, status 0", g.rnd.IntN(600), g.rnd.IntN(1000), g.pid)
	default:
		g.line("lmtp", g.newPid(), "graceful shutdown")
	}
}
