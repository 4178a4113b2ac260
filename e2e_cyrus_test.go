package main

// End-to-end: a real Cyrus IMAP 3.6 (internal/cyrustest) runs with both
// evidence paths on, auditlog into syslog and native notifications into
// source/cyrusnotify, and is driven through the scenario of
// e2e_cyrus_scenario_test.go by real IMAP, LMTP and POP3 clients and
// cyr_expire. `mailevents parse` must turn each path into exactly the events
// the steps imply; e2e_cyrus_paths_test.go compares the two and checks that
// --dedup gives each action once.

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

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

// cyEv is what the Cyrus test compares of one event. URIs are without
// UIDVALIDITY (checked apart), Session is a label as in wantEvent.
type cyEv struct {
	Event, Service, User, Admin, URI, Old, UIDSet, Flags string
	Size                                                 int64
	Session                                              string
}

// cyRow is one action of the scenario: what each path reports of it.
type cyRow struct {
	typ, svc, user, admin, box string
	uid                        int
	old                        string
	flags, size                [2]string // [syslog, native]; size "" none
	session, paths             string    // paths: "S" syslog, "N" native
	nMsgURL                    bool      // native uri names the message
	nNoAdmin                   bool      // native has no admin
}

// cyActions is the scenario as events, in order (f: the facts it learnt).
func cyActions(f cyFacts) []cyRow {
	sz := func(n int64) string { return strconv.FormatInt(n, 10) }
	a, o, lm := sz(f.appendSize), sz(f.oldSize), sz(f.carolSize)
	sess := func(typ, svc, user, label, paths string) cyRow {
		return cyRow{typ: typ, svc: svc, user: user, session: label, paths: paths}
	}
	box := func(typ, user, admin, name, label, paths string) cyRow {
		return cyRow{typ: typ, svc: "imap", user: user, admin: admin, box: name, session: label, paths: paths}
	}
	msg := func(typ, svc, user, name string, uid int, flags, size [2]string, label string, msgURL bool) cyRow {
		return cyRow{typ: typ, svc: svc, user: user, box: name, uid: uid, flags: flags, size: size, session: label, paths: "SN", nMsgURL: msgURL}
	}
	none := [2]string{}
	one := func(v string) [2]string { return [2]string{v, v} }
	quota := box("QuotaChange", "alice", "cyrus", "INBOX", "admin2", "SN")
	quota.nNoAdmin = true
	copied := msg("MessageAppend", "imap", "alice", "Work/2024", int(f.copyUID), [2]string{`\Seen`, ""}, [2]string{a, ""}, "alice", false)
	moved := msg("MessageAppend", "imap", "alice", "Work/2024", int(f.moveUID), none, [2]string{lm, ""}, "alice", false)
	copied.old, moved.old = "INBOX", "INBOX" // native only
	rename := box("MailboxRename", "alice", "", "Archive", "alice", "SN")
	rename.old = "Work"
	child := box("MailboxRename", "alice", "", "Archive/2024", "alice", "S")
	child.old = "Work/2024"
	uid := int(f.appendUID)
	return []cyRow{
		sess("Login", "imap", "cyrus", "admin", "SN"),
		box("MailboxCreate", "alice", "cyrus", "INBOX", "admin", "SN"),
		box("MailboxCreate", "bob", "cyrus", "INBOX", "admin", "SN"),
		box("MailboxCreate", "carol", "cyrus", "INBOX", "admin", "SN"),
		sess("Logout", "imap", "cyrus", "admin", "SN"),
		sess("vnd.mailevents.LoginFailed", "imap", "alice", "", "S"),
		sess("Login", "imap", "alice", "alice", "SN"),
		box("MailboxCreate", "alice", "", "Work", "alice", "SN"),
		box("MailboxCreate", "alice", "", "Work/2024", "alice", "SN"),
		box("MailboxSubscribe", "alice", "", "Work/2024", "alice", "N"),
		box("MailboxUnSubscribe", "alice", "", "Work/2024", "alice", "N"),
		msg("MessageAppend", "imap", "alice", "INBOX", uid, one(`\Flagged`), one(a), "alice", true),
		box("MailboxCreate", "alice", "", "Old", "alice", "SN"),
		msg("MessageAppend", "imap", "alice", "Old", int(f.oldUID), none, one(o), "alice", true),
		msg("MessageNew", "lmtp", "alice", "INBOX", uid+1, none, one(lm), "lmtp", true),
		msg("MessageNew", "lmtp", "bob", "INBOX", 1, none, one(lm), "lmtp", true),
		msg("MessageNew", "lmtp", "carol", "INBOX", 1, none, one(lm), "lmtp", true),
		msg("MessageRead", "imap", "alice", "INBOX", uid, none, none, "alice", false),
		// Keywords are not in the auditlog.
		{typ: "FlagsSet", svc: "imap", user: "alice", box: "INBOX", uid: uid, flags: [2]string{"", "$Important"}, session: "alice", paths: "N"},
		msg("FlagsClear", "imap", "alice", "INBOX", uid, one(`\Flagged`), none, "alice", false),
		copied,
		moved,
		msg("MessageExpunge", "imap", "alice", "INBOX", uid+1, none, [2]string{lm, ""}, "alice", false),
		msg("MessageTrash", "imap", "alice", "INBOX", uid, none, none, "alice", false),
		msg("MessageExpunge", "imap", "alice", "INBOX", uid, none, [2]string{a, ""}, "alice", false),
		msg("MessageTrash", "imap", "alice", "Work/2024", int(f.copyUID), none, none, "alice", false),
		msg("MessageExpunge", "imap", "alice", "Work/2024", int(f.copyUID), none, [2]string{a, ""}, "alice", false),
		rename,
		child,
		box("MailboxDelete", "alice", "", "Archive/2024", "alice", "SN"),
		box("MailboxDelete", "alice", "", "Archive", "alice", "SN"),
		sess("Logout", "imap", "alice", "alice", "SN"),
		sess("Login", "imap", "cyrus", "admin2", "SN"),
		quota,
		sess("Logout", "imap", "cyrus", "admin2", "SN"),
		sess("Login", "pop3", "carol", "pop3", "SN"),
		msg("MessageExpunge", "pop3", "carol", "INBOX", 1, none, [2]string{lm, ""}, "pop3", false),
		sess("Logout", "pop3", "carol", "pop3", "SN"),
		msg("MessageExpire", "cyr_expire", "alice", "Old", int(f.oldUID), none, none, "expire", false),
	}
}

// cyWant is what path (0 syslog, 1 native) must deliver, host naming the server.
func cyWant(rows []cyRow, path int, host string) []cyEv {
	var out []cyEv
	for _, r := range rows {
		if !strings.Contains(r.paths, "SN"[path:path+1]) {
			continue
		}
		e := cyEv{Event: r.typ, Service: r.svc, User: r.user, Admin: r.admin, Flags: r.flags[path], Session: r.session}
		e.Size, _ = strconv.ParseInt(r.size[path], 10, 64)
		if path == 1 && r.nNoAdmin {
			e.Admin = ""
		}
		e.URI = "imap://" + host
		if r.box != "" {
			e.URI = "imap://" + r.user + "@" + host + "/" + r.box
		}
		if r.old != "" && (path == 1 || r.typ == "MailboxRename") {
			e.Old = "imap://" + r.user + "@" + host + "/" + r.old
		}
		if r.uid != 0 {
			e.UIDSet = strconv.Itoa(r.uid)
			if path == 0 || r.nMsgURL {
				e.URI += "/;UID=" + e.UIDSet
			}
		}
		out = append(out, e)
	}
	return out
}

// cyParse runs `mailevents parse` on files and returns its events; every
// line must be an event or known to carry none.
func cyParse(t *testing.T, args ...string) []byte {
	t.Helper()
	var out, errOut bytes.Buffer
	rejects := filepath.Join(t.TempDir(), "rejects.jsonl")
	e := env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, grammars: defaultGrammars()}
	start := time.Now()
	args = append([]string{"parse", "--host", cyrustest.ServerName, "--rejects", rejects}, args...)
	if code := run(context.Background(), args, e); code != exitOK {
		t.Fatalf("parse exit %d: %s", code, errOut.String())
	}
	t.Logf("parse %v took %v; stderr: %s", args[5:], time.Since(start), errOut.String())
	if rej, err := os.ReadFile(rejects); err != nil || len(rej) > 0 {
		t.Errorf("rejected lines (%v):\n%s", err, rej)
	}
	eventtest.CheckLines(t, out.Bytes())
	return out.Bytes()
}

// cyProject reads events as cyEv, checking that every mailbox URL has its
// UIDVALIDITY (want: the INBOX's for alice's INBOX) before dropping it.
func cyProject(t *testing.T, out []byte, inboxUV uint32) []cyEv {
	t.Helper()
	uv := ";UIDVALIDITY=" + strconv.FormatUint(uint64(inboxUV), 10)
	var got []cyEv
	for l := range bytes.Lines(out) {
		w := project(t, l)
		var m map[string]any
		_ = json.Unmarshal(l, &m)
		admin, _ := m["admin"].(string)
		e := cyEv{Event: w.Event, Service: w.Service, User: w.User, Admin: admin, URI: w.URI, Old: w.OldMailboxID,
			UIDSet: w.UIDSet, Flags: w.Flags, Size: w.MessageSize, Session: w.Session}
		for _, u := range []*string{&e.URI, &e.Old} {
			if strings.Contains(*u, "alice@") && strings.Contains(*u, "/INBOX") && !strings.Contains(*u, uv) &&
				e.Event != "QuotaChange" {
				t.Errorf("%s: %s lacks %s", e.Event, *u, uv)
			}
			if strings.Count(*u, "/") > 2 && !cyUIDValidityRE.MatchString(*u) && e.Event != "QuotaChange" &&
				!(e.Event == "MailboxSubscribe" || e.Event == "MailboxUnSubscribe") {
				t.Errorf("%s: %s has no UIDVALIDITY", e.Event, *u)
			}
			*u = cyUIDValidityRE.ReplaceAllString(*u, "")
		}
		got = append(got, e)
	}
	return got
}

// cyLabel replaces got's session ids by want's labels (see labelSessions).
func cyLabel(want, got []cyEv) {
	w, g := make([]wantEvent, len(want)), make([]wantEvent, len(got))
	for i := range want {
		w[i].Session = want[i].Session
	}
	for i := range got {
		g[i].Session = got[i].Session
	}
	labelSessions(w, g)
	for i := range got {
		got[i].Session = g[i].Session
	}
}

func TestE2ECyrus(t *testing.T) {
	s, notes := startCyrusBoth(t)
	host := syslogHost(t)
	start := time.Now()
	f := runCyrusScenario(t, s, notes)
	t.Logf("%s: scenario took %v; cyr_expire said:\n%s", s.Version, time.Since(start), f.expireOut)
	s.Stop()
	dir := t.TempDir()
	syslogPath := filepath.Join(dir, "syslog.log")
	if err := os.WriteFile(syslogPath, s.Log(), 0o644); err != nil {
		t.Fatal(err)
	}
	notifyPath := notes.writeJSONL(t, dir)
	rows := cyActions(f)

	paths := [2][]cyEv{}
	for i, in := range []struct {
		file, host string
	}{{syslogPath, host}, {notifyPath, cyrustest.ServerName}} {
		got := cyProject(t, cyParse(t, in.file), f.inboxUV)
		want := cyWant(rows, i, in.host)
		cyLabel(want, got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: events differ (-want +got):\n%s", in.file, diff)
		}
		paths[i] = got
	}
	if t.Failed() {
		t.Logf("syslog:\n%s", s.Log())
		return
	}
	cyComparePaths(t, rows, paths, host)
	cyCheckDedup(t, rows, syslogPath, notifyPath, f.inboxUV)
}
