package main

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"

	"github.com/mailevents/mailevents/internal/dovecottest"
	"github.com/mailevents/mailevents/internal/mailtest"
)

// e2eWait is how long the scenario waits for Dovecot to log a line.
const e2eWait = 10 * time.Second

// oddBoxes are mailbox names that need percent-encoding in an IMAP URL
// (RFC 5092 enc-mailbox), with the encoding written out by hand so that the
// test does not check the encoder against itself. go-imap sends the UTF-8
// name in modified UTF-7; Dovecot logs it in UTF-8.
var oddBoxes = []struct{ name, enc string }{
	{"My Folder", "My%20Folder"},
	{"Entwürfe", "Entw%C3%BCrfe"},
	{"100%", "100%25"},
	{"a;b", "a%3Bb"},
}

// Names the scenario gives mailboxes, and their URL encodings.
const (
	renamedOdd    = "Neu; Ordner" // "a;b" renamed
	renamedOddEnc = "Neu%3B%20Ordner"
)

// scenario drives a private Dovecot through every operation whose events
// the e2e test checks, and records, step by step, the events each one must
// produce. Everything a step expects comes from what the server answered
// (UIDs from UIDPLUS, sizes from RFC822.SIZE/STAT, ports from the sockets).
type scenario struct {
	t    *testing.T
	srv  *dovecottest.Server
	host string // the server name the events' URLs must carry
	want []wantEvent
	// uidvalidity is what IMAP STATUS reported at the end for each of
	// alice's mailboxes that still exist.
	uidvalidity map[string]uint32
	// gone are alice's mailboxes that no longer exist at the end.
	gone []string
}

// session is a login whose address every later event of it carries.
type session struct {
	label, service, user   string
	clientPort, serverPort int64
}

func (sc *scenario) expect(e ...wantEvent) { sc.want = append(sc.want, e...) }

// ev is an event of session s, with what correlation with its Login adds.
func (sc *scenario) ev(s session, typ string) wantEvent {
	w := wantEvent{Event: typ, Service: s.service, User: s.user, Session: s.label}
	if s.clientPort != 0 {
		w.ClientIP, w.ServerDomain = "127.0.0.1", "127.0.0.1"
		w.ClientPort, w.ServerPort = s.clientPort, s.serverPort
	}
	return w
}

// loginURI is the uri of Login, Logout and LoginFailed: the server alone.
func (sc *scenario) loginURI() string { return "imap://" + sc.host }

// boxURI is the URL of one of user's mailboxes; enc is the encoded name.
func (sc *scenario) boxURI(user, enc string) string {
	return "imap://" + user + "@" + sc.host + "/" + enc
}

func (sc *scenario) msgURI(user, enc string, uid imap.UID) string {
	return sc.boxURI(user, enc) + "/;UID=" + strconv.FormatUint(uint64(uid), 10)
}

// msg is one message the scenario stores, and the facts its events carry.
type msg struct {
	id   string
	body []byte
}

func newMsg(n int, subject string) msg {
	id := fmt.Sprintf("<e2e%d@example.net>", n)
	return msg{id: id, body: fmt.Appendf(nil, "From: Sender <sender@example.net>\r\n"+
		"To: alice@example.org\r\n"+
		"Subject: %s\r\n"+
		"Message-ID: %s\r\n"+
		"Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n"+
		"\r\n"+
		"Body of message %d.\r\n", subject, id, n)}
}

// size is the message's RFC822.SIZE, what Dovecot logs as vsize: the body
// was written with CRLF line ends, so it is its length.
func (m msg) size() int64 { return int64(len(m.body)) }

func (sc *scenario) ok(what string, err error) {
	sc.t.Helper()
	if err != nil {
		sc.t.Fatalf("%s: %v", what, err)
	}
}

func port(a net.Addr) int64 { return int64(a.(*net.TCPAddr).Port) }

// waitLogin waits for the login process to log the login of the client at
// localPort, so that the next lines, from another process, come after it.
func (sc *scenario) waitLogin(localPort int64) {
	sc.t.Helper()
	sc.srv.WaitForLog(sc.t, fmt.Sprintf("rport=%d,", localPort), e2eWait)
}

// dialIMAP connects to the IMAP server with a socket of its own, so that the
// client's port (the Login's rport) is known.
func (sc *scenario) dialIMAP() (*imapclient.Client, int64) {
	sc.t.Helper()
	conn, err := net.DialTimeout("tcp", sc.srv.IMAPAddr, e2eWait)
	sc.ok("imap dial", err)
	c := imapclient.New(conn, nil)
	sc.t.Cleanup(func() { _ = c.Close() })
	return c, port(conn.LocalAddr())
}

func (sc *scenario) imapLogin(label string) (*imapclient.Client, session) {
	sc.t.Helper()
	c, p := sc.dialIMAP()
	sc.ok("LOGIN "+label, c.Login("alice", dovecottest.Password).Wait())
	_, sp, _ := net.SplitHostPort(sc.srv.IMAPAddr)
	spn, _ := strconv.ParseInt(sp, 10, 64)
	s := session{label: label, service: "imap", user: "alice", clientPort: p, serverPort: spn}
	sc.waitLogin(p)
	w := sc.ev(s, "Login")
	w.URI = sc.loginURI()
	sc.expect(w)
	return c, s
}

// run is the whole scenario, in an order whose log is deterministic: each
// step that another process logs waits for its line before the next.
func (sc *scenario) run() {
	sc.lmtp()
	sc.pop3()
	sc.imap()
}

// lmtp delivers one message to alice, bob (over quota), an unknown user
// and carol in one LMTP transaction.
func (sc *scenario) lmtp() {
	t := sc.t
	m := newMsg(10, "Delivered by LMTP")
	to := []string{"alice@example.org", "bob@example.org", "nobody@example.org", "carol@example.org"}
	res := mailtest.DeliverLMTP(t, sc.srv.LMTPAddr, "sender@example.net", to, m.body)
	for i, code := range []int{0, 552, 550, 0} {
		var se *smtp.SMTPError
		if got := errors.As(res[i], &se); (code == 0) != (res[i] == nil) || got && se.Code != code {
			t.Fatalf("LMTP to %s: %v, want code %d", to[i], res[i], code)
		}
	}
	sc.srv.WaitForLog(t, "Disconnect from 127.0.0.1", e2eWait)

	rcpt := func(user string) session { return session{label: "lmtp-" + user, service: "lmtp", user: user} }
	created := func(user, box string) wantEvent {
		w := sc.ev(rcpt(user), "MailboxCreate")
		w.URI, w.MailboxID = sc.boxURI(user, box), sc.boxURI(user, box)
		return w
	}
	// One MessageNew per delivery although each logs "save:" and "saved
	// mail to". The size is Dovecot's, after it added its own headers: the
	// POP3 and IMAP steps fill it in from STAT and RFC822.SIZE.
	delivered := func(user string) wantEvent {
		w := sc.ev(rcpt(user), "MessageNew")
		w.URI, w.UIDSet, w.MsgID = sc.msgURI(user, "INBOX", 1), "1", m.id
		return w
	}
	quota := sc.ev(rcpt("bob"), "QuotaExceed")
	quota.URI, quota.MsgID = sc.boxURI("bob", "INBOX"), m.id
	// Dovecot creates INBOX when it first delivers, and Trash (auto =
	// create) when the recipient's storage is released.
	sc.expect(created("alice", "INBOX"), delivered("alice"),
		created("bob", "INBOX"), quota,
		created("carol", "INBOX"), delivered("carol"), created("carol", "Trash"),
		created("alice", "Trash"))
}

// fillSize sets the size of the first expected event of typ for user.
func (sc *scenario) fillSize(typ, user string, size int64) {
	for i := range sc.want {
		if sc.want[i].Event == typ && sc.want[i].User == user {
			sc.want[i].MessageSize = size
			return
		}
	}
	sc.t.Fatalf("no expected %s for %s", typ, user)
}

// pop3 reads and deletes carol's delivered message.
func (sc *scenario) pop3() {
	t := sc.t
	c := mailtest.DialPOP3(t, sc.srv.POP3Addr, "carol", dovecottest.Password)
	_, sp, _ := net.SplitHostPort(sc.srv.POP3Addr)
	spn, _ := strconv.ParseInt(sp, 10, 64)
	s := session{label: "pop3", service: "pop3", user: "carol", clientPort: port(c.LocalAddr()), serverPort: spn}
	sc.waitLogin(s.clientPort)
	n, size, err := c.Stat()
	sc.ok("STAT", err)
	if n != 1 {
		t.Fatalf("STAT: %d messages, want 1", n)
	}
	sc.fillSize("MessageNew", "carol", int64(size))
	_, err = c.Retr(1)
	sc.ok("RETR", err)
	sc.ok("DELE", c.Dele(1))
	sc.ok("QUIT", c.Quit())
	sc.srv.WaitForLog(t, "Logged out top=", e2eWait)

	login := sc.ev(s, "Login")
	login.URI = sc.loginURI()
	expunge := sc.ev(s, "MessageExpunge")
	expunge.URI, expunge.UIDSet, expunge.MessageSize, expunge.MsgID = sc.msgURI("carol", "INBOX", 1), "1", int64(size), "<e2e10@example.net>"
	logout := sc.ev(s, "Logout")
	logout.URI, logout.Disconnect = sc.loginURI(), "graceful"
	sc.expect(login, expunge, logout)
}
