package dovecottest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"

	"github.com/mailevents/mailevents/internal/mailtest"
)

// waitLog is how long a test waits for Dovecot to log a line.
const waitLog = 10 * time.Second

// testMessage builds a small RFC 5322 message whose Message-ID and Subject
// identify it in mail_log lines.
func testMessage(n int, subject string) []byte {
	return fmt.Appendf(nil, "From: Sender <sender@example.net>\r\n"+
		"To: alice@example.org\r\n"+
		"Subject: %s\r\n"+
		"Message-ID: <m%d@example.net>\r\n"+
		"Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n"+
		"\r\n"+
		"Body of message %d.\r\n", subject, n, n)
}

// appendMsg APPENDs msg to box and returns its UID (UIDPLUS).
func appendMsg(t *testing.T, c *imapclient.Client, box string, flags []imap.Flag, date time.Time, msg []byte) imap.UID {
	t.Helper()
	cmd := c.Append(box, int64(len(msg)), &imap.AppendOptions{Flags: flags, Time: date})
	if _, err := cmd.Write(msg); err != nil {
		t.Fatalf("APPEND %s: write: %v", box, err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatalf("APPEND %s: close: %v", box, err)
	}
	data, err := cmd.Wait()
	if err != nil {
		t.Fatalf("APPEND %s: %v", box, err)
	}
	return data.UID
}

func store(t *testing.T, c *imapclient.Client, set imap.NumSet, op imap.StoreFlagsOp, flags ...imap.Flag) {
	t.Helper()
	if err := c.Store(set, &imap.StoreFlags{Op: op, Silent: true, Flags: flags}, nil).Close(); err != nil {
		t.Fatalf("STORE %v %v: %v", set, flags, err)
	}
}

func ok(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// exerciseIMAP runs every IMAP operation whose log lines the Dovecot grammar
// must know, as alice, plus a failed LOGIN and a dropped connection. It runs
// last: the failed LOGIN puts 127.0.0.1 under Dovecot's auth penalty.
func exerciseIMAP(t *testing.T, s *Server) {
	c := mailtest.DialIMAP(t, s.IMAPAddr, "alice", Password)
	// Dovecot creates the missing parent "Archive" as well.
	ok(t, "CREATE", c.Create("Archive/2024", nil).Wait())

	// Autoexpunge goes by the save date, so the old INTERNALDATE only makes
	// the line realistic; the session must last past Options.Autoexpunge.
	trashSaved := time.Now()
	appendMsg(t, c, "Trash", []imap.Flag{imap.FlagSeen}, time.Now().AddDate(0, -2, 0), testMessage(0, "Old trash"))

	// UIDs, not sequence numbers: LMTP has already delivered to INBOX.
	uid1 := appendMsg(t, c, "INBOX", []imap.Flag{imap.FlagSeen, "project-x"}, time.Time{}, testMessage(1, "Flags and keyword"))
	uid2 := appendMsg(t, c, "INBOX", nil, time.Time{}, testMessage(2, "To be moved"))
	uid3 := appendMsg(t, c, "INBOX", nil, time.Time{}, testMessage(3, "To be expunged"))
	uid4 := appendMsg(t, c, "INBOX", nil, time.Time{}, testMessage(4, "To be UID expunged"))
	uid5 := appendMsg(t, c, "INBOX", nil, time.Time{}, testMessage(5, "To be expunged by CLOSE"))

	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatalf("SELECT INBOX: %v", err)
	}
	store(t, c, imap.UIDSetNum(uid2), imap.StoreFlagsAdd, imap.FlagSeen, "project-x")
	store(t, c, imap.UIDSetNum(uid1), imap.StoreFlagsDel, imap.FlagSeen, "project-x")
	_, err := c.Copy(imap.UIDSetNum(uid1), "Archive/2024").Wait()
	ok(t, "COPY", err)
	_, err = c.Move(imap.UIDSetNum(uid2), "Archive/2024").Wait()
	ok(t, "MOVE", err)
	store(t, c, imap.UIDSetNum(uid3), imap.StoreFlagsAdd, imap.FlagDeleted)
	ok(t, "EXPUNGE", c.Expunge().Close())
	store(t, c, imap.UIDSetNum(uid4), imap.StoreFlagsAdd, imap.FlagDeleted)
	ok(t, "UID EXPUNGE", c.UIDExpunge(imap.UIDSetNum(uid4)).Close())
	store(t, c, imap.UIDSetNum(uid5), imap.StoreFlagsAdd, imap.FlagDeleted)
	store(t, c, imap.UIDSetNum(uid5), imap.StoreFlagsDel, imap.FlagDeleted) // undelete
	store(t, c, imap.UIDSetNum(uid5), imap.StoreFlagsAdd, imap.FlagDeleted)
	ok(t, "CLOSE", c.UnselectAndExpunge().Wait())

	ok(t, "RENAME", c.Rename("Archive/2024", "Archive/2023", nil).Wait())
	ok(t, "CREATE", c.Create("Scratch", nil).Wait())
	ok(t, "DELETE", c.Delete("Scratch").Wait())
	ok(t, "DELETE", c.Delete("Archive/2023").Wait()) // with its two mails

	// A session that will end without LOGOUT, opened before the failed
	// LOGIN below: after a failure, Dovecot's auth penalty delays further
	// logins from the same address by seconds.
	drop := mailtest.DialIMAP(t, s.IMAPAddr, "alice", Password)
	_, err = drop.Select("INBOX", nil).Wait()
	ok(t, "SELECT", err)

	// A wrong password; Dovecot delays the reply by auth_failure_delay (2s),
	// which is also most of the wait for autoexpunge below.
	bad := mailtest.ConnectIMAP(t, s.IMAPAddr)
	if err := bad.Login("alice", "wrong").Wait(); err == nil {
		t.Fatal("LOGIN with a wrong password succeeded")
	}
	ok(t, "LOGOUT after failed LOGIN", bad.Logout().Wait())

	// Let the Trash mail age past autoexpunge (whole seconds, plus one for
	// rounding): a deadline computed from the save time, not a blind sleep.
	// Dovecot autoexpunges when this session ends.
	time.Sleep(time.Until(trashSaved.Add(2100 * time.Millisecond)))
	ok(t, "LOGOUT", c.Logout().Wait())
	s.WaitForLog(t, "Disconnected: Logged out in=", waitLog)

	ok(t, "drop connection", drop.Close())
	s.WaitForLog(t, "Disconnected: Connection closed", waitLog)
}

// exerciseLMTP delivers one message to a normal user, an over-quota user, an
// unknown user and the POP3 user.
func exerciseLMTP(t *testing.T, s *Server) {
	to := []string{"alice@example.org", "bob@example.org", "nobody@example.org", "carol@example.org"}
	res := mailtest.DeliverLMTP(t, s.LMTPAddr, "sender@example.net", to, testMessage(10, "Delivered by LMTP"))
	wantCode := []int{0, 552, 550, 0}
	for i, err := range res {
		var se *smtp.SMTPError
		switch {
		case wantCode[i] == 0 && err != nil:
			t.Errorf("LMTP to %s: %v", to[i], err)
		case wantCode[i] != 0 && !errors.As(err, &se):
			t.Errorf("LMTP to %s: got %v, want an SMTP error %d", to[i], err, wantCode[i])
		case wantCode[i] != 0 && se.Code != wantCode[i]:
			t.Errorf("LMTP to %s: got %v, want code %d", to[i], err, wantCode[i])
		}
	}
	s.WaitForLog(t, "Quota exceeded", waitLog)
}

// exercisePOP3 reads and deletes carol's message over POP3.
func exercisePOP3(t *testing.T, s *Server) {
	c := mailtest.DialPOP3(t, s.POP3Addr, "carol", Password)
	n, _, err := c.Stat()
	ok(t, "STAT", err)
	if n != 1 {
		t.Fatalf("STAT: %d messages, want 1", n)
	}
	msg, err := c.Retr(1)
	ok(t, "RETR", err)
	if !strings.Contains(string(msg), "Delivered by LMTP") {
		t.Errorf("RETR 1 returned %q", msg)
	}
	ok(t, "DELE", c.Dele(1))
	ok(t, "QUIT", c.Quit())
	s.WaitForLog(t, "Logged out top=", waitLog)
}
