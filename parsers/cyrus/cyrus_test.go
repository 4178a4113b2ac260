package cyrus_test

import (
	"flag"
	"testing"
	"time"

	"github.com/mailevents/mailevents/mapping"
	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/parsers/cyrus"
	"github.com/mailevents/mailevents/parsers/parsertest"
	"github.com/mailevents/mailevents/parsers/syslog"
	"github.com/mailevents/mailevents/source"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// testNow pins year inference for BSD stamps.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newTestGrammar() *cyrus.Grammar {
	return cyrus.New(syslog.Parser{Now: func() time.Time { return testNow }, Location: time.UTC})
}

// Outcome names, short for the tables.
const (
	ignored   = parsertest.Ignored
	unknown   = parsertest.Unknown
	malformed = parsertest.Malformed
)

func outcome(t testing.TB, err error) string { return parsertest.Outcome(t, err) }

// real is a line of the real Cyrus 3.6.1 capture (internal/cyrustest).
func real(msg string) string { return "2026-11-28T09:30:46.644222+00:00 vm " + msg }

const sess = "cyrus-1795858246-28992-1-15535924346649762947"

type lineCase struct {
	name, line, want    string
	user, session, proc string
	fields              map[string]string
}

var lineCases = []lineCase{
	// Logins (real 3.6 lines).
	{name: "login imap", line: real("cyrus/imap[28992]: login: localhost [127.0.0.1] alice plaintext User logged in SESSIONID=<" + sess + ">"),
		want: cyrus.ActionLogin, user: "alice", session: sess, proc: "imap",
		fields: map[string]string{"clienthost": "localhost", "clientip": "127.0.0.1", "mech": "plaintext", "tls": "no", "reply": "User logged in"}},
	{name: "login pop3 tls", line: "Jan  4 21:51:05 mx cyrus/pop3s[1]: login: mail.example.net [2001:db8::1] bob@example.com PLAIN+TLS User logged in SESSIONID=<x-1>",
		want: cyrus.ActionLogin, user: "bob@example.com", session: "x-1", proc: "pop3s", fields: map[string]string{"clientip": "2001:db8::1", "mech": "PLAIN", "tls": "yes"}},
	{name: "login ip only no session", line: "Jan  4 21:51:05 mx imapd[7]: login: [192.0.2.4] carol plaintext User logged in",
		want: cyrus.ActionLogin, user: "carol", proc: "imapd", fields: map[string]string{"clientip": "192.0.2.4"}},
	{name: "login 2.x host[ip]", line: "Jan  4 21:51:05 mx sieve[7]: login: example.com[192.0.2.5] dave PLAIN User logged in",
		want: cyrus.ActionLogin, user: "dave", fields: map[string]string{"clienthost": "example.com"}},
	{name: "login custom prefix", line: "Jan  4 21:51:05 mx mail2/imap[7]: login: h [192.0.2.6] eve plaintext User logged in", want: cyrus.ActionLogin, proc: "imap"},
	{name: "login no clienthost", line: "Jan  4 21:51:05 mx imapd[7]: login: alice plaintext", want: malformed},
	// Failed logins: real 3.6, and the corpus's older shapes.
	{name: "badlogin 3.6", line: real("cyrus/imap[28991]: badlogin: localhost [127.0.0.1] plaintext (alice) [SASL(-13): authentication failure: checkpass failed]"),
		want: cyrus.ActionLoginFailed, user: "alice", fields: map[string]string{"reason": "SASL(-13): authentication failure: checkpass failed", "mech": "plaintext"}},
	{name: "badlogin 2.4", line: "Jan 4 21:51:05 hostname cyrus/imap[5355]: badlogin: localhost.localdomain [127.0.0.1] plaintext cyrus@localdomain SASL(-13): authentication failure: checkpass failed",
		want: cyrus.ActionLoginFailed, user: "cyrus@localdomain", fields: map[string]string{"reason": "SASL(-13): authentication failure: checkpass failed"}},
	{name: "badlogin authenticate", line: "Jun 8 18:11:13 lampserver imap[4480]: badlogin: example.com [198.51.100.45] DIGEST-MD5 [SASL(-13): authentication failure: client response doesn't match what we generated]",
		want: cyrus.ActionLoginFailed, fields: map[string]string{"mech": "DIGEST-MD5", "clientip": "198.51.100.45"}},
	{name: "badlogin no space", line: "Dec 30 16:03:27 somehost imapd[2517]: badlogin: local-somehost[1.2.3.4] OTP [SASL(-13): authentication failure: External SSF not good enough]",
		want: cyrus.ActionLoginFailed, fields: map[string]string{"clienthost": "local-somehost", "clientip": "1.2.3.4"}},
	{name: "badlogin timsieved", line: "Jul 18 17:21:58 ophelia cyrus/timsieved[12305]: badlogin: example.com[1.2.3.4] PLAIN authentication failure",
		want: cyrus.ActionLoginFailed, user: "", fields: map[string]string{"reason": "authentication failure"}},
	{name: "badlogin no host", line: "Feb 20 17:23:32 cyrus/pop3[4297]: badlogin: example.com [1.2.3.4] plaintext mail0001 SASL(-13): authentication failure: checkpass failed",
		want: cyrus.ActionLoginFailed, user: "mail0001", proc: "pop3"},
	// auditlog (real 3.6 lines).
	{name: "append", line: real("cyrus/imap[28992]: auditlog: append sessionid=<" + sess + "> mailbox=<user.alice> uniqueid=<jfv9oadiu8ksmpnvlmgdtnv5> uid=<1> modseq=<2> sysflags=<> guid=<f8044991b24c70e8f3696db0b26f3500bc53c3cd> messageid=<m1@example.net> size=<168>"),
		want: cyrus.ActionAppend, session: sess, fields: map[string]string{"mailbox": "user.alice", "uid": "1", "modseq": "2", "sysflags": "", "messageid": "<m1@example.net>", "size": "168"}},
	{name: "touched", line: real("cyrus/imap[28992]: auditlog: touched sessionid=<" + sess + "> mailbox=<user.alice> uniqueid=<j> uid=<1> guid=<f8> cid=<NIL> modseq=<4> oldflags=<SE> sysflags=<DE|SE>"),
		want: cyrus.ActionTouched, fields: map[string]string{"oldflags": "SE", "sysflags": "DE|SE", "cid": "NIL"}},
	{name: "expunge", line: real("cyrus/pop3[28995]: auditlog: expunge sessionid=<s> mailbox=<user.carol> uniqueid=<c> uid=<1> modseq=<3> sysflags=<DE|EX> guid=<a4> size=<444>"),
		want: cyrus.ActionExpunge, fields: map[string]string{"sysflags": "DE|EX"}},
	{name: "create", line: real("cyrus/imap[28991]: auditlog: create sessionid=<s> mailbox=<user.alice> uniqueid=<j> uidvalidity=<1795858247>"),
		want: cyrus.ActionCreate, fields: map[string]string{"uidvalidity": "1795858247"}},
	{name: "delete", line: real("cyrus/imap[28992]: auditlog: delete sessionid=<s> mailbox=<user.alice.Archive> uniqueid=<f>"), want: cyrus.ActionDelete},
	{name: "mailbox with spaces", line: real("cyrus/imap[1]: auditlog: create sessionid=<s> mailbox=<user.alice.My Folder> uniqueid=<u> uidvalidity=<7>"),
		want: cyrus.ActionCreate, fields: map[string]string{"mailbox": "user.alice.My Folder"}},
	{name: "rename", line: real("cyrus/imap[1]: auditlog: rename sessionid=<s> oldmailbox=<user.a.X> newmailbox=<user.a.Y> uniqueid=<u>"),
		want: cyrus.ActionRename, fields: map[string]string{"oldmailbox": "user.a.X", "newmailbox": "user.a.Y"}},
	{name: "setquota", line: real("cyrus/imap[1]: auditlog: setquota root=<user.alice> oldSTORAGE=<-1> newSTORAGE=<1024>"),
		want: cyrus.ActionQuota, fields: map[string]string{"quota": "setquota", "newSTORAGE": "1024"}},
	{name: "traffic", line: real("cyrus/imap[28992]: auditlog: traffic sessionid=<" + sess + "> bytes_in=<408> bytes_out=<1685>"),
		want: cyrus.ActionTraffic, session: sess, fields: map[string]string{"bytes_in": "408"}},
	{name: "acl tab bytes trailing space", line: real("cyrus/imap[28991]: auditlog: acl: sessionid=<s> mailbox=<user.alice> uniqueid=<j> mbtype=<e> oldacl=<> acl=<alice#011lrswipkxtecdan#011> foldermodseq=<1> "), want: ignored},
	{name: "acl real tab", line: real("cyrus/imap[1]: auditlog: acl: sessionid=<s> mailbox=<user.alice> acl=<alice\tlrs\t> "), want: ignored},
	{name: "modseq", line: real("cyrus/imap[1]: auditlog: modseq sessionid=<s> mailbox=<user.alice> uniqueid=<j> highestmodseq=<2> deletedmodseq=<0>"), want: ignored},
	{name: "bad uid", line: real("cyrus/imap[1]: auditlog: append sessionid=<s> mailbox=<user.a> uid=<x>"), want: malformed},
	{name: "unterminated value", line: real("cyrus/imap[1]: auditlog: append sessionid=<s mailbox=<user.a"), want: malformed},
	{name: "unknown auditlog action", line: real("cyrus/imap[1]: auditlog: frobnicate x=<1>"), want: unknown},
	// 3.13 logfmt (no real sample: built from imap/auditlog.c and loginlog.c).
	{name: "logfmt append", line: "2026-01-01T00:00:00Z mx cyrus/imap[9]: event=auditlog.append r.sessionid=s9 mbox.name=user/alice/Sent mbox.uniqueid=u msg.imapuid=7 msg.modseq=9 msg.sysflags=SE msg.size=100 msg.id=\"<a b@x>\"",
		want: cyrus.ActionAppend, session: "s9", fields: map[string]string{"mailbox": "user/alice/Sent", "uid": "7", "messageid": "<a b@x>", cyrus.FieldNames: "external"}},
	{name: "logfmt rename", line: "2026-01-01T00:00:00Z mx cyrus/imap[9]: event=auditlog.rename r.sessionid=s9 old.mbox.name=user/alice/A mbox.name=user/alice/B",
		want: cyrus.ActionRename, fields: map[string]string{"oldmailbox": "user/alice/A", "newmailbox": "user/alice/B"}},
	{name: "logfmt login", line: "2026-01-01T00:00:00Z mx cyrus/imap[9]: event=login.good r.sessionid=s9 r.clienthost=\"h [192.0.2.1]\" u.username=alice login.mech=PLAIN login.tls=1",
		want: cyrus.ActionLogin, user: "alice", session: "s9", fields: map[string]string{"clientip": "192.0.2.1", "tls": "yes"}},
	{name: "logfmt other", line: "2026-01-01T00:00:00Z mx cyrus/imap[9]: event=imap.command cmd=NOOP", want: ignored},
	{name: "logfmt bad quote", line: "2026-01-01T00:00:00Z mx cyrus/imap[9]: event=auditlog.append msg.id=\"<a", want: malformed},
	// lmtpd.
	{name: "delivered 3.6", line: real("cyrus/lmtp[28993]: Delivered: <m2@example.net> to mailbox: user.alice"),
		want: cyrus.ActionDelivered, proc: "lmtp", fields: map[string]string{"messageid": "<m2@example.net>", "mailbox": "user.alice"}},
	{name: "delivered 3.10", line: "2026-01-01T00:00:00Z mx cyrus/lmtp[9]: Delivered: sessionid=<s1> action=<mailbox> target=<user.bob> messageid=<m@x> userid=<bob> mailbox=<user.bob> uniqueid=<u>",
		want: cyrus.ActionDelivered, user: "bob", session: "s1", fields: map[string]string{"messageid": "<m@x>", "mailbox": "user.bob"}},
	// Other prose lines.
	{name: "rename prose", line: real("cyrus/imap[28992]: Rename: user.alice.Work -> user.alice.Archive"),
		want: cyrus.ActionMailboxRenamed, fields: map[string]string{"oldmailbox": "user.alice.Work", "newmailbox": "user.alice.Archive"}},
	{name: "deleted mailbox", line: real("cyrus/imap[28992]: Deleted mailbox user.alice.Archive"), want: cyrus.ActionMailboxDeleted},
	{name: "expunged", line: real("cyrus/imap[28992]: Expunged 1 messages from user.alice"), want: cyrus.ActionExpunged, fields: map[string]string{"count": "1"}},
	{name: "counts", line: real("cyrus/pop3[28995]: counts: retr=<1> top=<0> dele=<1>"), want: cyrus.ActionCounts, fields: map[string]string{"retr": "1", "dele": "1"}},
	{name: "usage", line: real("cyrus/imap[28992]: USAGE alice user: 0.013940 sys: 0.027881"), want: ignored},
	{name: "graceful", line: real("cyrus/lmtp[28994]: graceful shutdown"), want: ignored},
	{name: "stage dir", line: real("cyrus/imap[28992]: created stage directory /tmp/x/spool/stage./"), want: ignored},
	{name: "master", line: real("cyrus/master[28987]: attempting clean shutdown on signal"), want: ignored},
	{name: "notifyd chatter", line: real("cyrus/notifyd[40]: accepted connection"), want: ignored},
	// The log method's quoted JSON is a native notification: cyrus-json's.
	{name: "notifyd event", line: real(`cyrus/notifyd[40]: EVENT, NOTICE, alice, INBOX, "{""event"":""MessageNew""}"`), want: unknown},
	// cyr_expire (real 3.6.1).
	{name: "cyr_expire repack", line: real("cyrus/cyr_expire[13127]: Repacking mailbox user.alice version 17"), want: ignored},
	{name: "cyr_expire cache", line: real("cyrus/cyr_expire[13127]: Removed unused cache file /tmp/c/spool/uuid/h/9/h9lv/cyrus.cache"), want: ignored},
	{name: "cyr_expire summary", line: real("cyrus/cyr_expire[13127]: Expired 1 and expunged 4 out of 5 messages from 4 mailboxes"), want: ignored},
	{name: "cyr_expire duplicates", line: real("cyrus/cyr_expire[13127]: duplicate_prune: purged 0 out of 3 entries"), want: ignored},
	{name: "cyr_expire touched", line: real("cyrus/cyr_expire[13127]: auditlog: touched sessionid=<s> mailbox=<user.alice.Old> uniqueid=<u> uid=<1> guid=<9d> cid=<NIL> modseq=<4> oldflags=<> sysflags=<EX>"),
		want: cyrus.ActionTouched, proc: "cyr_expire", fields: map[string]string{"sysflags": "EX"}},
	{name: "ctl_cyrusdb", line: real("cyrus/ctl_cyrusdb[28989]: recovering cyrus databases"), want: ignored},
	{name: "unknown imap line", line: real("cyrus/imap[1]: something new"), want: unknown},
	// Foreign lines.
	{name: "postfix lmtp", line: "Jan  4 21:51:05 mx postfix/lmtp[1]: ABC: to=<a@b>, status=sent", want: unknown},
	{name: "dovecot", line: "Jan  4 21:51:05 mx dovecot: imap-login: Login: user=<u>", want: unknown},
	{name: "empty", line: "", want: unknown},
}

func TestParseLines(t *testing.T) {
	g := newTestGrammar()
	for _, tc := range lineCases {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := g.Parse(source.Line{Text: []byte(tc.line)})
			got := outcome(t, err)
			if got == "record" {
				got = rec.Action
			}
			if got != tc.want {
				t.Fatalf("outcome %q, want %q (err %v)", got, tc.want, err)
			}
			if err != nil {
				return
			}
			if rec.Server != "cyrus" || rec.Grammar != "cyrus" {
				t.Errorf("server/grammar = %q/%q", rec.Server, rec.Grammar)
			}
			if tc.user != "" && rec.User != tc.user {
				t.Errorf("user %q, want %q", rec.User, tc.user)
			}
			if tc.session != "" && rec.Session != tc.session {
				t.Errorf("session %q, want %q", rec.Session, tc.session)
			}
			if tc.proc != "" && rec.Process != tc.proc {
				t.Errorf("process %q, want %q", rec.Process, tc.proc)
			}
			for k, want := range tc.fields {
				if v, ok := rec.Get(k); !ok || v != want {
					t.Errorf("field %s = %q (present %v), want %q; fields %q", k, v, ok, want, rec.Fields)
				}
			}
		})
	}
}

func newMappers() *mapping.Registry {
	r := new(mapping.Registry)
	r.Register("cyrus", mapping.NewCyrus(mapping.CyrusOptions{ServerHost: "imap.example.org"}))
	return r
}

func TestGolden(t *testing.T) {
	parsertest.Golden(t, "testdata", *update, []parsers.Parser{newTestGrammar()}, newMappers)
}
