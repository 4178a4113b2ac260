package dovecot_test

import (
	"testing"

	"github.com/mailevents/mailevents/parsers/dovecot"
)

// Lines as Dovecot 2.3.19 wrote them in the e2e runs (internal/dovecottest,
// e2e_dovecot_test.go; the whole logs are testdata/real-*.log). Each pins a
// shape the public corpora lacked.
const (
	realFile   = "Nov 28 09:12:37 "
	realSyslog = "2026-11-28T09:04:47.174694+00:00 vm dovecot: "
	realIMAP   = realFile + "imap(alice)<7781><99Ltk1JhDJx/AAAB>: Info: "
)

var realLineCases = []lineCase{
	// A failed LOGIN followed by LOGOUT: the reason names the logout, the
	// detail the failure; a LoginFailed, never a Login.
	{name: "aborted login by logging out", line: realFile + "imap-login: Info: Disconnected: Aborted login by logging out (auth failed, 1 attempts in 2 secs): user=<alice>, method=PLAIN, rip=127.0.0.1, rport=39966, lip=127.0.0.1, lport=33221, secured, session=<vxLwk1JhHpx/AAAB>",
		want: dovecot.ActionLoginFailed, user: "alice", session: "vxLwk1JhHpx/AAAB",
		fields: map[string]string{"reason": "Aborted login by logging out", "detail": "auth failed, 1 attempts in 2 secs", "rport": "39966", "lport": "33221", "secured": "yes"}},
	// A dropped connection: 2.3 says which command finished last.
	{name: "connection closed after select", line: realFile + "imap(alice)<7784><s8vvk1JhGJx/AAAB>: Info: Disconnected: Connection closed (SELECT finished 2.053 secs ago) in=17 out=776 deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0",
		want: dovecot.ActionDisconnect, user: "alice", pid: 7784,
		fields: map[string]string{"reason": "Connection closed (SELECT finished 2.053 secs ago)", "disconnect": dovecot.DisconnectAbort, "in": "17", "body_bytes": "0"}},
	{name: "pop3 logout", line: realFile + "pop3(carol)<7775><R3ftk1Jh1K1/AAAB>: Info: Disconnected: Logged out top=0/0, retr=1/390, del=1/1, size=374",
		want: dovecot.ActionDisconnect, process: "pop3", fields: map[string]string{"disconnect": dovecot.DisconnectGraceful, "del": "1/1", "size": "374"}},
	// What POP3 DELE+QUIT logs: \Recent is all the flags there are.
	{name: "pop3 expunge", line: realFile + `pop3(carol)<7775><R3ftk1Jh1K1/AAAB>: Info: expunge: box=INBOX, uid=1, msgid=<e2e10@example.net>, size=362, vsize=374, from=Sender <sender@example.net>, subject=Delivered by LMTP, flags=(\Recent)`,
		want: dovecot.ActionExpunge, process: "pop3", fields: map[string]string{"box": "INBOX", "uid": "1", "vsize": "374", "flags": `\Recent`}},
	// An LMTP delivery logs an empty flags=().
	{name: "lmtp save empty flags", line: realFile + "lmtp(alice)<7763><W4jtCwWbCmtTHgAAg+zDdQ>: Info: save: box=INBOX, uid=1, msgid=<e2e10@example.net>, size=362, vsize=374, from=Sender <sender@example.net>, subject=Delivered by LMTP, flags=()",
		want: dovecot.ActionSave, process: "lmtp", fields: map[string]string{"flags": "", "subject": "Delivered by LMTP"}},
	// The second recipient of a transaction has session ID:R2; INBOX is
	// created by the first delivery.
	{name: "lmtp autocreate second recipient", line: realFile + "lmtp(bob)<7763><W4jtCwWbCmtTHgAAg+zDdQ:R2>: Info: Mailbox created: INBOX",
		want: dovecot.ActionMailboxCreate, user: "bob", session: "W4jtCwWbCmtTHgAAg+zDdQ:R2", fields: map[string]string{"mailbox": "INBOX"}},
	{name: "lmtp quota second recipient", line: realFile + "lmtp(bob)<7763><W4jtCwWbCmtTHgAAg+zDdQ:R2>: Info: msgid=<e2e10@example.net>: save failed to INBOX: Quota exceeded (mailbox for user is full)",
		want: dovecot.ActionDeliverFailed, session: "W4jtCwWbCmtTHgAAg+zDdQ:R2", fields: map[string]string{"quota": "yes", "msgid": "<e2e10@example.net>"}},
	// Mailbox names are logged raw (UTF-8, spaces, ';', '%').
	{name: "create percent", line: realIMAP + "Mailbox created: 100%", want: dovecot.ActionMailboxCreate, fields: map[string]string{"mailbox": "100%"}},
	{name: "create utf-8", line: realIMAP + "Mailbox created: Entwürfe", want: dovecot.ActionMailboxCreate, fields: map[string]string{"mailbox": "Entwürfe"}},
	{name: "rename semicolon space", line: realIMAP + "Mailbox renamed: a;b -> Neu; Ordner", want: dovecot.ActionMailboxRename, fields: map[string]string{"old": "a;b", "new": "Neu; Ordner"}},
	{name: "copy to name with space", line: realIMAP + `copy from INBOX: box=My Folder, uid=1, msgid=<e2e2@example.net>, size=166, vsize=173, from=Sender <sender@example.net>, subject=To be moved, flags=(\Seen project-x)`,
		want: dovecot.ActionCopy, fields: map[string]string{"srcbox": "INBOX", "box": "My Folder", "flags": `\Seen project-x`}},
	{name: "save utf-8 box", line: realIMAP + `save: box=Entwürfe, uid=1, msgid=<e2e6@example.net>, size=160, vsize=167, from=Sender <sender@example.net>, subject=Draft, flags=(\Draft)`,
		want: dovecot.ActionSave, fields: map[string]string{"box": "Entwürfe", "flags": `\Draft`}},
	{name: "autoexpunge", line: realFile + `imap(alice)<7781><99Ltk1JhDJx/AAAB>: Info: autoexpunge: box=Trash, uid=1, msgid=<e2e0@example.net>, size=164, vsize=171, from=Sender <sender@example.net>, subject=Old trash, flags=(\Seen \Recent)`,
		want: dovecot.ActionAutoexpunge, fields: map[string]string{"box": "Trash"}},
	// The master's line when it is stopped (SIGTERM), in both envelopes.
	{name: "master killed file", line: realFile + "master: Warning: Killed with signal 15 (by pid=7746 uid=0 code=kill)", want: ignored},
	{name: "master killed syslog", line: realSyslog + "master: Warning: Killed with signal 15 (by pid=31800 uid=0 code=kill)", want: ignored},
	{name: "lmtp connect", line: realFile + "lmtp(7763): Info: Connect from 127.0.0.1", want: ignored},
	{name: "lmtp disconnect", line: realFile + "lmtp(7763): Info: Disconnect from 127.0.0.1: Logged out (state=READY)", want: ignored},
	{name: "auth mismatch", line: realFile + "auth: Info: passwd-file(alice,127.0.0.1,<vxLwk1JhHpx/AAAB>): Password mismatch", want: ignored},
}

func TestParseRealLines(t *testing.T) {
	runLineCases(t, realLineCases)
}
