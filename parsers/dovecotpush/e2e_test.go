package dovecotpush_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/google/go-cmp/cmp"

	"github.com/mailevents/mailevents/internal/dovecottest"
	"github.com/mailevents/mailevents/internal/mailtest"
)

// pushGoldenInput is where -update saves the push file of the run, as a
// golden case of TestGolden: re-record with
// `go test ./parsers/dovecotpush -run TestEndToEnd -update`, then
// `go test ./parsers/dovecotpush -run TestGolden -update`.
const pushGoldenInput = "testdata/dovecot-2.3.19.log"

// TestEndToEnd runs a real Dovecot with
// packaging/dovecot/mailevents-push.lua, changes mailboxes and messages over
// IMAP and LMTP, and parses the script's output with the real CLI: every
// change must come out as its RFC 5423 event, with the UIDVALIDITY that IMAP
// itself reports.
func TestEndToEnd(t *testing.T) {
	s := dovecottest.Start(t, dovecottest.Options{PushLua: "../../packaging/dovecot/mailevents-push.lua"})
	c := mailtest.DialIMAP(t, s.IMAPAddr, "alice", dovecottest.Password)
	imapOK(t, "CREATE", c.Create("Projects", nil).Wait())
	imapOK(t, "SUBSCRIBE", c.Subscribe("Projects").Wait())
	imapOK(t, "UNSUBSCRIBE", c.Unsubscribe("Projects").Wait())
	// Quotes, a backslash, a tab, UTF-8 and an invalid byte exercise the
	// script's JSON escaping: every line must still parse.
	msg := []byte("From: Sender <sender@example.net>\r\nTo: alice@example.org\r\n" +
		"Subject: Push \"test\" \\ \tcaf\xc3\xa9 \xff\r\nMessage-ID: <p1@example.net>\r\n" +
		"Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n\r\nBody \x01\xfe.\r\n")
	uid := pushAppend(t, c, "Projects", []imap.Flag{imap.FlagFlagged, "project-x"}, msg)
	sel, err := c.Select("Projects", nil).Wait()
	imapOK(t, "SELECT Projects", err)
	set := imap.UIDSetNum(uid)
	pushStore(t, c, set, imap.StoreFlagsAdd, imap.FlagSeen)
	pushStore(t, c, set, imap.StoreFlagsAdd, imap.FlagDeleted)
	pushStore(t, c, set, imap.StoreFlagsDel, "project-x")
	imapOK(t, "EXPUNGE", c.Expunge().Close())
	imapOK(t, "UNSELECT", c.Unselect().Wait())
	imapOK(t, "RENAME", c.Rename("Projects", "Archive", nil).Wait())
	archive, err := c.Status("Archive", &imap.StatusOptions{UIDValidity: true}).Wait()
	imapOK(t, "STATUS Archive", err)
	imapOK(t, "DELETE", c.Delete("Archive").Wait())
	for _, err := range mailtest.DeliverLMTP(t, s.LMTPAddr, "sender@example.net", []string{"alice@example.org"}, msg) {
		imapOK(t, "LMTP", err)
	}
	inbox, err := c.Select("INBOX", nil).Wait()
	imapOK(t, "SELECT INBOX", err)
	imapOK(t, "LOGOUT", c.Logout().Wait())
	s.Stop() // every mail process has exited: the push file is complete

	if *update {
		b, err := os.ReadFile(s.PushLog)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(pushGoldenInput, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	rejects := filepath.Join(t.TempDir(), "rejects.jsonl")
	out := mailevents(t, "parse", "--host", "mail.example.org", "--rejects", rejects, s.PushLog)
	if rej := readFile(t, rejects); len(rej) != 0 {
		t.Errorf("rejected lines:\n%s", rej)
	}

	// Dovecot decodes the header to UTF-8 and replaces the invalid byte.
	const subject = "Push \"test\" \\ \tcafé \uFFFD"
	box := func(name string, uv uint32) string {
		return fmt.Sprintf("imap://alice@mail.example.org/%s;UIDVALIDITY=%d", name, uv)
	}
	projects := box("Projects", sel.UIDValidity)
	msgURI := fmt.Sprintf("%s/;UID=%d", projects, uid)
	uidset := fmt.Sprint(uid)
	want := []map[string]any{
		{"event": "MailboxCreate", "service": "imap", "uri": projects, "mailboxID": projects},
		// Dovecot creates INBOX (the maildir root) with the first mailbox.
		{"event": "MailboxCreate", "service": "imap", "uri": box("INBOX", inbox.UIDValidity), "mailboxID": box("INBOX", inbox.UIDValidity)},
		{"event": "MailboxSubscribe", "service": "imap", "uri": "imap://alice@mail.example.org/Projects", "mailboxID": "imap://alice@mail.example.org/Projects"},
		{"event": "MailboxUnSubscribe", "service": "imap", "uri": "imap://alice@mail.example.org/Projects", "mailboxID": "imap://alice@mail.example.org/Projects"},
		{"event": "MessageAppend", "service": "imap", "uri": msgURI, "uidset": uidset, "flagNames": `\Flagged project-x`,
			"vnd.mailevents.msgid": "<p1@example.net>", "vnd.mailevents.subject": subject},
		// FlagsSet \Seen and \Deleted become MessageRead and MessageTrash.
		{"event": "MessageRead", "service": "imap", "uri": msgURI, "uidset": uidset},
		{"event": "MessageTrash", "service": "imap", "uri": msgURI, "uidset": uidset},
		{"event": "FlagsClear", "service": "imap", "uri": msgURI, "uidset": uidset, "flagNames": "project-x"},
		{"event": "MessageExpunge", "service": "imap", "uri": msgURI, "uidset": uidset},
		{"event": "MailboxRename", "service": "imap", "uri": box("Archive", archive.UIDValidity), "mailboxID": box("Archive", archive.UIDValidity),
			"oldMailboxID": "imap://alice@mail.example.org/Projects"},
		{"event": "MailboxDelete", "service": "imap", "uri": "imap://alice@mail.example.org/Archive", "mailboxID": "imap://alice@mail.example.org/Archive"},
		{"event": "MessageNew", "service": "lmtp", "uri": box("INBOX", inbox.UIDValidity) + "/;UID=1", "uidset": "1",
			"vnd.mailevents.msgid": "<p1@example.net>", "vnd.mailevents.subject": subject},
	}
	keys := []string{"event", "service", "uri", "mailboxID", "oldMailboxID", "uidset", "flagNames", "vnd.mailevents.msgid", "vnd.mailevents.subject"}
	var got []map[string]any
	for l := range bytes.Lines(out) {
		var ev map[string]any
		if err := json.Unmarshal(l, &ev); err != nil {
			t.Fatalf("event %q: %v", l, err)
		}
		if ev["user"] != "alice" || ev["vnd.mailevents.server"] != "dovecot" || ev["timestamp"] == nil {
			t.Errorf("event lacks user, server or timestamp: %s", l)
		}
		kept := map[string]any{}
		for _, k := range keys {
			if v, ok := ev[k]; ok {
				kept[k] = v
			}
		}
		got = append(got, kept)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s\npush file:\n%s", diff, readFile(t, s.PushLog))
	}
}

// mailevents builds the command (package main, as installed) and runs it.
func mailevents(t *testing.T, args ...string) []byte {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build mailevents: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "mailevents")
	if out, err := exec.Command(goBin, "build", "-o", bin, "github.com/mailevents/mailevents").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("mailevents %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func imapOK(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func pushAppend(t *testing.T, c *imapclient.Client, box string, flags []imap.Flag, msg []byte) imap.UID {
	t.Helper()
	cmd := c.Append(box, int64(len(msg)), &imap.AppendOptions{Flags: flags, Time: time.Now()})
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

func pushStore(t *testing.T, c *imapclient.Client, set imap.NumSet, op imap.StoreFlagsOp, flags ...imap.Flag) {
	t.Helper()
	if err := c.Store(set, &imap.StoreFlags{Op: op, Silent: true, Flags: flags}, nil).Close(); err != nil {
		t.Fatalf("STORE %v %v: %v", set, flags, err)
	}
}
