package main

// End-to-end: a real Cyrus IMAP 3.6 (internal/cyrustest, auditlog: yes) is
// driven by real IMAP, LMTP and POP3 clients; `mailevents parse` must turn
// its syslog capture into exactly the events the steps imply.

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/mailevents/mailevents/event/eventtest"
	"github.com/mailevents/mailevents/internal/cyrustest"
)

const cyWait = 10 * time.Second

// cyWaitCount waits until the capture holds substr n times, so that lines of
// different processes land in the order the expected events assume.
func cyWaitCount(t *testing.T, s *cyrustest.Server, substr string, n int) {
	t.Helper()
	deadline := time.Now().Add(cyWait)
	for bytes.Count(s.Log(), []byte(substr)) < n {
		if time.Now().After(deadline) {
			t.Fatalf("log has %q fewer than %d times:\n%s", substr, n, s.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func cyMessage(n int) []byte {
	return []byte("From: Sender <sender@example.net>\r\nTo: alice@example.org\r\nSubject: e2e " +
		strconv.Itoa(n) + "\r\nMessage-ID: <e2e" + strconv.Itoa(n) + "@example.net>\r\n\r\nBody " + strconv.Itoa(n) + ".\r\n")
}

var cyUIDValidityRE = regexp.MustCompile(`;UIDVALIDITY=(\d+)`)

func TestE2ECyrus(t *testing.T) {
	s := cyrustest.Start(t, cyrustest.Options{})
	host := syslogHost(t)
	// The admin's session that created the users' INBOXes ends first.
	cyWaitCount(t, s, "auditlog: traffic", 1)

	ok := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	bad := cyrustest.ConnectIMAP(t, s.IMAPAddr)
	if err := bad.Login("alice", "wrong").Wait(); err == nil {
		t.Fatal("LOGIN with a wrong password succeeded")
	}
	s.WaitForLog(t, "badlogin: ", cyWait)

	c := cyrustest.DialIMAP(t, s.IMAPAddr, "alice", cyrustest.Password)
	msg := cyMessage(1)
	app := c.Append("INBOX", int64(len(msg)), &imap.AppendOptions{Flags: []imap.Flag{imap.FlagFlagged}})
	_, err := app.Write(msg)
	ok("APPEND write", err)
	ok("APPEND close", app.Close())
	appended, err := app.Wait()
	ok("APPEND", err)
	sel, err := c.Select("INBOX", nil).Wait()
	ok("SELECT", err)
	uid := appended.UID
	set := imap.UIDSetNum(uid)
	store := func(op imap.StoreFlagsOp, f imap.Flag) {
		ok("STORE "+string(f), c.Store(set, &imap.StoreFlags{Op: op, Silent: true, Flags: []imap.Flag{f}}, nil).Close())
	}
	store(imap.StoreFlagsAdd, imap.FlagSeen)
	store(imap.StoreFlagsAdd, imap.FlagDeleted)
	store(imap.StoreFlagsDel, imap.FlagFlagged)
	ok("EXPUNGE", c.Expunge().Close())
	ok("CREATE", c.Create("Work", nil).Wait())
	ok("RENAME", c.Rename("Work", "Archive", nil).Wait())
	ok("DELETE", c.Delete("Archive").Wait())
	ok("LOGOUT", c.Logout().Wait())
	cyWaitCount(t, s, "auditlog: traffic", 2)

	if res := cyrustest.DeliverLMTP(t, s.LMTPAddr, "sender@example.net", []string{"alice@example.org"}, cyMessage(2)); res[0] != nil {
		t.Fatalf("LMTP alice: %v", res[0])
	}
	s.WaitForLog(t, "Delivered: <e2e2@", cyWait)
	if res := cyrustest.DeliverLMTP(t, s.LMTPAddr, "sender@example.net", []string{"carol@example.org"}, cyMessage(3)); res[0] != nil {
		t.Fatalf("LMTP carol: %v", res[0])
	}
	s.WaitForLog(t, "Delivered: <e2e3@", cyWait)

	p := cyrustest.DialPOP3(t, s.POP3Addr, "carol", cyrustest.Password)
	_, carolSize, err := p.Stat()
	ok("STAT", err)
	_, err = p.Retr(1)
	ok("RETR", err)
	ok("DELE", p.Dele(1))
	ok("QUIT", p.Quit())
	s.WaitForLog(t, "counts: retr=<1>", cyWait)
	s.Stop()

	// Parse the capture as a user would.
	var out, errOut bytes.Buffer
	rejects := filepath.Join(t.TempDir(), "rejects.jsonl")
	e := env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, grammars: defaultGrammars()}
	start := time.Now()
	if code := run(context.Background(), []string{"parse", "--host", "cyrus.test", "--rejects", rejects, s.LogPath}, e); code != exitOK {
		t.Fatalf("parse exit %d: %s", code, errOut.String())
	}
	t.Logf("parse took %v", time.Since(start))
	// Every line Cyrus wrote is an event or known to carry none.
	if rej, err := os.ReadFile(rejects); err != nil || len(rej) > 0 {
		t.Errorf("rejected lines (%v):\n%s", err, rej)
	}
	eventtest.CheckLines(t, out.Bytes())
	got := projectAll(t, out.Bytes())

	// UIDVALIDITY comes from the create lines; it must be the one IMAP
	// reported for alice's INBOX, then it is compared apart.
	inboxUV := ";UIDVALIDITY=" + strconv.FormatUint(uint64(sel.UIDValidity), 10)
	for i := range got {
		if strings.Contains(got[i].URI, "alice@"+host+"/INBOX") && !strings.Contains(got[i].URI, inboxUV) {
			t.Errorf("event %d %s: uri %s lacks %s", i, got[i].Event, got[i].URI, inboxUV)
		}
		for _, u := range []*string{&got[i].URI, &got[i].MailboxID, &got[i].OldMailboxID} {
			if *u != "" && strings.Contains(*u, "/") && got[i].Event != "Login" && got[i].Event != "Logout" &&
				!strings.HasPrefix(got[i].Event, "vnd.") && !cyUIDValidityRE.MatchString(*u) {
				t.Errorf("event %d %s: %s has no UIDVALIDITY", i, got[i].Event, *u)
			}
			*u = cyUIDValidityRE.ReplaceAllString(*u, "")
		}
	}

	server := "imap://" + host
	box := func(user, name string) string { return "imap://" + user + "@" + host + "/" + name }
	msgURI := func(user, name string, uid imap.UID) string {
		return box(user, name) + "/;UID=" + strconv.FormatUint(uint64(uid), 10)
	}
	sess := func(typ, service, user, label string) wantEvent {
		return wantEvent{Event: typ, Service: service, User: user, Session: label, URI: server, ClientIP: "127.0.0.1"}
	}
	mbox := func(typ, user, name, label string) wantEvent {
		u := box(user, name)
		return wantEvent{Event: typ, Service: "imap", User: user, Session: label, URI: u, MailboxID: u}
	}
	msgEv := func(typ, service, user string, uid imap.UID, label string) wantEvent {
		return wantEvent{Event: typ, Service: service, User: user, Session: label, URI: msgURI(user, "INBOX", uid),
			UIDSet: strconv.FormatUint(uint64(uid), 10)}
	}
	appendEv := msgEv("MessageAppend", "imap", "alice", uid, "alice")
	appendEv.Flags, appendEv.MessageSize, appendEv.MsgID = `\Flagged`, int64(len(msg)), "<e2e1@example.net>"
	clear := msgEv("FlagsClear", "imap", "alice", uid, "alice")
	clear.Flags = `\Flagged`
	expunge := msgEv("MessageExpunge", "imap", "alice", uid, "alice")
	expunge.MessageSize = int64(len(msg))
	rename := wantEvent{Event: "MailboxRename", Service: "imap", User: "alice", Session: "alice",
		URI: box("alice", "Archive"), MailboxID: box("alice", "Archive"), OldMailboxID: box("alice", "Work")}
	newAlice := msgEv("MessageNew", "lmtp", "alice", 2, "lmtp-alice")
	newAlice.UIDSet, newAlice.MsgID = "2", "<e2e2@example.net>"
	newCarol := msgEv("MessageNew", "lmtp", "carol", 1, "lmtp-carol")
	newCarol.MsgID, newCarol.MessageSize = "<e2e3@example.net>", int64(carolSize)
	popExpunge := msgEv("MessageExpunge", "pop3", "carol", 1, "pop3")
	popExpunge.MessageSize = int64(carolSize)
	failed := sess("vnd.mailevents.LoginFailed", "imap", "alice", "")
	want := []wantEvent{
		sess("Login", "imap", "cyrus", "admin"),
		mbox("MailboxCreate", "alice", "INBOX", "admin"),
		mbox("MailboxCreate", "bob", "INBOX", "admin"),
		mbox("MailboxCreate", "carol", "INBOX", "admin"),
		sess("Logout", "imap", "cyrus", "admin"),
		failed,
		sess("Login", "imap", "alice", "alice"),
		appendEv,
		msgEv("MessageRead", "imap", "alice", uid, "alice"),
		msgEv("MessageTrash", "imap", "alice", uid, "alice"),
		clear,
		expunge,
		mbox("MailboxCreate", "alice", "Work", "alice"),
		rename,
		mbox("MailboxDelete", "alice", "Archive", "alice"),
		sess("Logout", "imap", "alice", "alice"),
		newAlice,
		newCarol,
		sess("Login", "pop3", "carol", "pop3"),
		popExpunge,
		sess("Logout", "pop3", "carol", "pop3"),
	}
	// LMTP adds Return-Path and Received headers: alice's copy is larger
	// than what was sent, by an amount the test cannot know.
	for i := range got {
		if i < len(want) && got[i].Event == "MessageNew" && got[i].User == "alice" {
			if got[i].MessageSize <= int64(len(cyMessage(2))) {
				t.Errorf("MessageNew for alice: size %d, sent %d", got[i].MessageSize, len(cyMessage(2)))
			}
			want[i].MessageSize = got[i].MessageSize
		}
	}
	labelSessions(want, got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events differ (-want +got):\n%s\nlog:\n%s", diff, s.Log())
	}
}
