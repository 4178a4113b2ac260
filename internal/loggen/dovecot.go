// Package loggen writes realistic, deterministic mail server logs for
// benchmarks: the same seed always gives the same bytes, so runs compare.
package loggen

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"
)

// Dovecot writes n lines of a Dovecot 2.3 mail.log in rsyslog's RFC 3339
// format (Debian 12's default) with the mix a busy IMAP/LMTP host shows:
// sessions of logins, mail_log activity and logouts, LMTP deliveries with
// their two lines each, failed logins, and the auth and connection lines that
// carry no event.
func Dovecot(w io.Writer, n int, seed uint64) error {
	g := &dovecotGen{
		w:   bufio.NewWriterSize(w, 256<<10),
		rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		t:   time.Date(2026, 3, 2, 0, 0, 0, 0, time.FixedZone("", 3600)),
	}
	for g.lines < n {
		switch r := g.rnd.IntN(100); {
		case r < 55:
			g.imapSession(n)
		case r < 85:
			g.delivery()
		case r < 95:
			g.failedLogin()
		default:
			g.noise()
		}
	}
	return g.w.Flush()
}

type dovecotGen struct {
	w     *bufio.Writer
	rnd   *rand.Rand
	t     time.Time
	lines int
	pid   int
}

var (
	genUsers   = []string{"alice@example.org", "bob@example.org", "carol@example.net", "dave", "erin@mail.example.com", "frank.o'neil@example.org"}
	genBoxes   = []string{"INBOX", "Sent", "Archive/2025", "Drafts", "Trash", "Entwürfe", "Projects/Q1 Reports"}
	genFlags   = []string{`\Seen`, `\Seen \Flagged`, `\Answered \Seen`, `\Seen $Important`, `NonJunk`, `\Deleted \Seen`}
	genSubject = []string{"Re: quarterly numbers", "Invoice 2026-0042", "Lunch?", "[list] weekly digest, part 3"}
)

func (g *dovecotGen) line(format string, args ...any) {
	g.t = g.t.Add(time.Duration(g.rnd.IntN(20000)) * time.Microsecond)
	fmt.Fprintf(g.w, "%s mail dovecot: ", g.t.Format("2006-01-02T15:04:05.000000-07:00"))
	fmt.Fprintf(g.w, format, args...)
	g.w.WriteByte('\n')
	g.lines++
}

func (g *dovecotGen) session() string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var b strings.Builder
	for range 16 {
		b.WriteByte(chars[g.rnd.IntN(len(chars))])
	}
	return b.String()
}

func (g *dovecotGen) ip() string {
	return fmt.Sprintf("198.51.%d.%d", g.rnd.IntN(256), 1+g.rnd.IntN(254))
}

func (g *dovecotGen) imapSession(limit int) {
	user := genUsers[g.rnd.IntN(len(genUsers))]
	sess := g.session()
	g.pid++
	pid := 100000 + g.pid
	g.line("imap-login: Login: user=<%s>, method=PLAIN, rip=%s, rport=%d, lip=192.0.2.1, lport=993, mpid=%d, TLS, session=<%s>",
		user, g.ip(), 1024+g.rnd.IntN(60000), pid, sess)
	prefix := fmt.Sprintf("imap(%s)<%d><%s>: ", user, pid, sess)
	uid := 1000 + g.rnd.IntN(50000)
	for range 2 + g.rnd.IntN(8) {
		if g.lines >= limit {
			return
		}
		box := genBoxes[g.rnd.IntN(len(genBoxes))]
		uid++
		msgid := fmt.Sprintf("<%x@example.net>", g.rnd.Uint64())
		switch g.rnd.IntN(6) {
		case 0:
			g.line("%ssave: box=%s, uid=%d, msgid=%s, size=%d, vsize=%d, flags=(\\Seen)", prefix, box, uid, msgid, 2000+g.rnd.IntN(90000), 2100+g.rnd.IntN(90000))
		case 1, 2:
			g.line("%sflag_change: box=%s, uid=%d, msgid=%s, size=%d, from=%s, subject=%s, flags=(%s)", prefix, box, uid, msgid,
				1000+g.rnd.IntN(50000), "Bob <bob@example.net>", genSubject[g.rnd.IntN(len(genSubject))], genFlags[g.rnd.IntN(len(genFlags))])
		case 3:
			g.line("%scopy from INBOX: box=%s, uid=%d, msgid=%s, size=%d", prefix, box, uid, msgid, 1000+g.rnd.IntN(50000))
		case 4:
			g.line("%sdelete: box=%s, uid=%d, msgid=%s, size=%d", prefix, box, uid, msgid, 1000+g.rnd.IntN(50000))
		default:
			g.line("%sexpunge: box=%s, uid=%d, msgid=%s, size=%d", prefix, box, uid, msgid, 1000+g.rnd.IntN(50000))
		}
	}
	g.line("%sDisconnected: Logged out in=%d out=%d deleted=0 expunged=1 trashed=0 hdr_count=2 hdr_bytes=812 body_count=1 body_bytes=4711",
		prefix, 100+g.rnd.IntN(5000), 1000+g.rnd.IntN(500000))
}

func (g *dovecotGen) delivery() {
	user := genUsers[g.rnd.IntN(len(genUsers))]
	sess := g.session()
	g.pid++
	pid := 200000 + g.pid
	msgid := fmt.Sprintf("<%x@mx.example.com>", g.rnd.Uint64())
	prefix := fmt.Sprintf("lmtp(%s)<%d><%s>: ", user, pid, sess)
	g.line("%ssave: box=INBOX, uid=%d, msgid=%s, size=%d, vsize=%d", prefix, 1+g.rnd.IntN(90000), msgid, 3000+g.rnd.IntN(90000), 3100+g.rnd.IntN(90000))
	g.line("%smsgid=%s: saved mail to INBOX", prefix, msgid)
}

func (g *dovecotGen) failedLogin() {
	g.line("imap-login: Disconnected (auth failed, %d attempts in %d secs): user=<%s>, method=PLAIN, rip=%s, lip=192.0.2.1, TLS, session=<%s>",
		1+g.rnd.IntN(3), 2+g.rnd.IntN(20), genUsers[g.rnd.IntN(len(genUsers))], g.ip(), g.session())
}

func (g *dovecotGen) noise() {
	if g.rnd.IntN(2) == 0 {
		g.line("auth-worker(%d): conn unix:auth-worker (pid=4000,uid=112): auth-worker<%d>: sql(%s,%s): Password mismatch",
			4001, g.rnd.IntN(100), genUsers[g.rnd.IntN(len(genUsers))], g.ip())
		return
	}
	g.line("lmtp(%d): Connect from local", 300000+g.rnd.IntN(1000))
}
