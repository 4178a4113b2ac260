package cyrustest

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-smtp"

	"github.com/mailevents/mailevents/internal/mailtest"
)

var update = flag.Bool("update", false,
	"rewrite testdata/sample-syslog.log and testdata/sample-notify.jsonl with this run's")

// waitLog is how long a test waits for Cyrus to log a line.
const waitLog = 10 * time.Second

// wantLines are the lines the operations must produce (Cyrus 3.6 prose
// formats; mailbox names are internal: user.alice.Work).
var wantLines = []string{
	`cyrus/imap\[\d+\]: login: localhost \[127\.0\.0\.1\] cyrus plaintext User logged in SESSIONID=<[^>]+>`,
	`cyrus/imap\[\d+\]: auditlog: create sessionid=<[^>]+> mailbox=<user\.alice> uniqueid=<\w+> uidvalidity=<\d+>`,
	`cyrus/imap\[\d+\]: login: localhost \[127\.0\.0\.1\] alice plaintext User logged in SESSIONID=<[^>]+>`,
	`cyrus/imap\[\d+\]: badlogin: localhost \[127\.0\.0\.1\] plaintext \(alice\) \[SASL\(-13\): authentication failure: checkpass failed\]`,
	`cyrus/imap\[\d+\]: auditlog: append sessionid=<[^>]+> mailbox=<user\.alice> uniqueid=<\w+> uid=<1> modseq=<\d+> sysflags=<> guid=<\w+> messageid=<m1@example\.net> size=<\d+>`,
	`cyrus/imap\[\d+\]: auditlog: touched sessionid=<[^>]+> mailbox=<user\.alice> uniqueid=<\w+> uid=<1> guid=<\w+> cid=<\w+> modseq=<\d+> oldflags=<> sysflags=<SE>`,
	`cyrus/imap\[\d+\]: auditlog: touched .* uid=<1> .* oldflags=<SE> sysflags=<DE\|SE>`,
	`cyrus/imap\[\d+\]: auditlog: expunge sessionid=<[^>]+> mailbox=<user\.alice> uniqueid=<\w+> uid=<1> modseq=<\d+> sysflags=<DE\|SE\|EX> guid=<\w+> size=<\d+>`,
	`cyrus/imap\[\d+\]: Expunged 1 messages from user\.alice`,
	`cyrus/imap\[\d+\]: auditlog: create sessionid=<[^>]+> mailbox=<user\.alice\.Work> uniqueid=<\w+> uidvalidity=<\d+>`,
	`cyrus/imap\[\d+\]: Rename: user\.alice\.Work -> user\.alice\.Archive`,
	`cyrus/imap\[\d+\]: auditlog: delete sessionid=<[^>]+> mailbox=<user\.alice\.Archive> uniqueid=<\w+>`,
	`cyrus/lmtp\[\d+\]: auditlog: append sessionid=<[^>]+> mailbox=<user\.alice> uniqueid=<\w+> uid=<2> .*messageid=<m2@example\.net>`,
	`cyrus/lmtp\[\d+\]: Delivered: <m2@example\.net> to mailbox: user\.alice`,
	`cyrus/pop3\[\d+\]: login: localhost \[127\.0\.0\.1\] carol plaintext User logged in SESSIONID=<[^>]+>`,
	`cyrus/pop3\[\d+\]: auditlog: expunge sessionid=<[^>]+> mailbox=<user\.carol> uniqueid=<\w+> uid=<1>`,
}

// wantEvents are the native event notifications the operations must send.
var wantEvents = []string{
	"Login", "Logout", "MailboxCreate", "MailboxRename", "MailboxDelete",
	"MessageAppend", "MessageNew", "MessageRead", "MessageTrash", "MessageExpunge",
}

// testMessage builds a small RFC 5322 message whose Message-ID identifies
// it in auditlog and Delivered lines.
func testMessage(n int, subject string) []byte {
	return fmt.Appendf(nil, "From: Sender <sender@example.net>\r\n"+
		"To: alice@example.org\r\n"+
		"Subject: %s\r\n"+
		"Message-ID: <m%d@example.net>\r\n"+
		"Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n"+
		"\r\n"+
		"Body of message %d.\r\n", subject, n, n)
}

func ok(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// TestHarness drives a real Cyrus through the operations the Cyrus grammar
// covers and checks the lines it logged through syslog. With -update it
// saves the log as testdata/sample-syslog.log, real lines for parser tests.
func TestHarness(t *testing.T) {
	s := Start(t, Options{})
	t.Logf("%s from %s; IMAP %s, POP3 %s, LMTP %s", s.Version, s.Prefix, s.IMAPAddr, s.POP3Addr, s.LMTPAddr)

	// A failed login first: Cyrus logs badlogin: once the SASL check fails.
	bad := mailtest.ConnectIMAP(t, s.IMAPAddr)
	if err := bad.Login("alice", "wrong").Wait(); err == nil {
		t.Fatal("LOGIN alice with a wrong password succeeded")
	}
	s.WaitForLog(t, "badlogin: ", waitLog)

	c := mailtest.DialIMAP(t, s.IMAPAddr, "alice", Password)
	msg := testMessage(1, "Appended")
	app := c.Append("INBOX", int64(len(msg)), nil)
	_, err := app.Write(msg)
	ok(t, "APPEND write", err)
	ok(t, "APPEND close", app.Close())
	_, err = app.Wait()
	ok(t, "APPEND", err)
	_, err = c.Select("INBOX", nil).Wait()
	ok(t, "SELECT INBOX", err)
	set := imap.UIDSetNum(1)
	ok(t, "STORE +FLAGS \\Seen", c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close())
	ok(t, "STORE +FLAGS \\Deleted", c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close())
	ok(t, "EXPUNGE", c.Expunge().Close())
	ok(t, "CREATE Work", c.Create("Work", nil).Wait())
	ok(t, "RENAME Work Archive", c.Rename("Work", "Archive", nil).Wait())
	ok(t, "DELETE Archive", c.Delete("Archive").Wait())
	ok(t, "LOGOUT", c.Logout().Wait())

	res := mailtest.DeliverLMTP(t, s.LMTPAddr, "sender@example.net",
		[]string{"alice@example.org", "nobody@example.org"}, testMessage(2, "Delivered"))
	if res[0] != nil {
		t.Errorf("LMTP to alice: %v", res[0])
	}
	var se *smtp.SMTPError
	if !errors.As(res[1], &se) || se.Code != 550 {
		t.Errorf("LMTP to nobody: got %v, want a 550 from RCPT TO", res[1])
	}
	s.WaitForLog(t, "Delivered: <m2@example.net>", waitLog)

	// POP3: carol fetches and deletes a delivered message.
	if res := mailtest.DeliverLMTP(t, s.LMTPAddr, "sender@example.net", []string{"carol@example.org"}, testMessage(3, "For POP3")); res[0] != nil {
		t.Fatalf("LMTP to carol: %v", res[0])
	}
	p := mailtest.DialPOP3(t, s.POP3Addr, "carol", Password)
	_, err = p.Retr(1)
	ok(t, "POP3 RETR", err)
	ok(t, "POP3 DELE", p.Dele(1))
	ok(t, "POP3 QUIT", p.Quit())
	s.WaitForLog(t, "mailbox=<user.carol>", waitLog)

	s.Stop()
	s.Stop() // idempotent
	log := s.Log()
	t.Logf("Cyrus %s, syslog capture (%s):\n%s", s.Version, s.LogPath, log)
	for _, re := range wantLines {
		if !regexp.MustCompile(re).Match(log) {
			t.Errorf("log has no line matching %s", re)
		}
	}

	// Native event notifications (mboxevent), one JSON object each.
	var events []byte
	seen := map[string]bool{}
	for _, n := range s.Notifications() {
		if len(n.Fields) < 2 || n.Fields[0] != "log" || n.Fields[1] != "EVENT" {
			t.Errorf("notification %q: want method log, class EVENT", n.Fields)
			continue
		}
		var ev struct {
			Event string `json:"event"`
		}
		if err := json.Unmarshal([]byte(n.Message()), &ev); err != nil {
			t.Errorf("notification %q: message is not JSON: %v", n.Fields, err)
			continue
		}
		seen[ev.Event] = true
		events = append(events, n.Message()...)
		events = append(events, '\n')
	}
	t.Logf("native event notifications on %s:\n%s", s.NotifySocket, events)
	for _, ev := range wantEvents {
		if !seen[ev] {
			t.Errorf("no %s event notification", ev)
		}
	}

	if *update && !t.Failed() {
		ok(t, "write sample", os.WriteFile(filepath.Join("testdata", "sample-syslog.log"), log, 0o644))
		ok(t, "write sample", os.WriteFile(filepath.Join("testdata", "sample-notify.jsonl"), events, 0o644))
	}
}
