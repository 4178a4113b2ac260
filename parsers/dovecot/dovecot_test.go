package dovecot_test

import (
	"flag"
	"testing"
	"time"

	"github.com/mailevents/mailevents/mapping"
	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/parsers/dovecot"
	"github.com/mailevents/mailevents/parsers/parsertest"
	"github.com/mailevents/mailevents/parsers/syslog"
	"github.com/mailevents/mailevents/source"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// testNow pins year inference for BSD and local-file stamps.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newTestGrammar() *dovecot.Grammar {
	return dovecot.New(syslog.Parser{Now: func() time.Time { return testNow }, Location: time.UTC})
}

// Outcome names, short for the tables.
const (
	ignored   = parsertest.Ignored
	unknown   = parsertest.Unknown
	malformed = parsertest.Malformed
)

func outcome(t testing.TB, err error) string { return parsertest.Outcome(t, err) }

// A bare message (as the grok test suites store them) wrapped in a syslog
// envelope.
func sys(msg string) string { return "Jan 15 08:00:00 mail dovecot: " + msg }

type lineCase struct {
	name    string
	line    string
	want    string // action, or ignored/unknown/malformed
	user    string
	session string
	process string
	pid     int
	fields  map[string]string // a subset of the Record's fields
}

var lineCases = []lineCase{
	// Logins.
	{name: "login 2.3", line: sys("imap-login: Login: user=<user@example.org>, method=PLAIN, rip=192.0.2.43, lip=192.0.2.1, mpid=1448158, TLS, session=<N7MXlE+iUvFaBAGj>"),
		want: dovecot.ActionLogin, user: "user@example.org", session: "N7MXlE+iUvFaBAGj", process: "imap-login",
		fields: map[string]string{"method": "PLAIN", "rip": "192.0.2.43", "lip": "192.0.2.1", "mpid": "1448158", "tls": "TLS"}},
	{name: "login 2.4 logged in", line: "Jun 12 19:07:29 hostname dovecot[241]: imap-login: Logged in: user=<test>, method=PLAIN, rip=192.0.2.241, lip=203.0.113.104, mpid=4242, TLS, session=<9ZHq02g3J8S60fan>",
		want: dovecot.ActionLogin, user: "test", session: "9ZHq02g3J8S60fan", fields: map[string]string{"mpid": "4242"}},
	{name: "login local file Info", line: "Oct 13 09:22:59 pop3-login: Info: Login: user=<test@yourdomain.net>, method=PLAIN, rip=172.17.0.1, lip=172.17.0.2, mpid=18, TLS, session=<PeYcgjjOGOisEQAB>",
		want: dovecot.ActionLogin, user: "test@yourdomain.net", process: "pop3-login", fields: map[string]string{"rip": "172.17.0.1"}},
	{name: "login sonic order", line: "Nov 14 09:19:48 d.imapd.sonic.net dovecot: imap-login: Login: user=<augie>, session=h6/hvXfOIQBAjhIX, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, mpid=30699, secured",
		want: dovecot.ActionLogin, user: "augie", session: "h6/hvXfOIQBAjhIX", fields: map[string]string{"secured": "yes", "method": "PLAIN"}},
	{name: "login pid= instead of mpid", line: "Sep 22 02:05:00 mail dovecot: imap-login: Login: user=<user@test.ro>, method=PLAIN, rip=192.168.123, lip=192.168.1.3, pid=48597, TLS",
		want: dovecot.ActionLogin, user: "user@test.ro", fields: map[string]string{"pid": "48597", "rip": "192.168.123"}},
	{name: "login ports and comma in user", line: sys("imap-login: Login: user=<odd, name>, method=PLAIN, rip=192.0.2.5, rport=51234, lip=192.0.2.1, lport=993, mpid=77, TLS, session=<abc>"),
		want: dovecot.ActionLogin, user: "odd, name", session: "abc", fields: map[string]string{"rport": "51234", "lport": "993"}},
	{name: "login ipv6 1.x", line: "Oct 5 10:22:28 (none) dovecot: imap-login: Login: user=<user@domain.com>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, mpid=16983, TLS",
		want: dovecot.ActionLogin, user: "user@domain.com"},
	{name: "login bad mpid", line: sys("imap-login: Login: user=<u>, method=PLAIN, rip=192.0.2.5, lip=192.0.2.1, mpid=abc"), want: malformed},
	{name: "login bad lip", line: "Jun 23 15:04:05 Info: imap-login: Login: user=<username>, method=PLAIN, rip=1.2.3.4, lip=1.2.3.5 Authentication Failure:", want: malformed},
	{name: "login unterminated user", line: sys("imap-login: Login: user=<username, method=PLAIN"), want: malformed},

	// Login failures and aborted connections.
	{name: "failed 2.3 disconnected", line: "Jun 13 16:30:54 platypus dovecot: imap-login: Disconnected (auth failed, 2 attempts): user=<username.bob>, method=PLAIN, rip=49.176.98.87, lip=113.212.99.194, TLS",
		want: dovecot.ActionLoginFailed, user: "username.bob", fields: map[string]string{"detail": "auth failed, 2 attempts", "reason": "Disconnected", "rip": "49.176.98.87"}},
	{name: "failed 2.2 aborted login", line: "Jul 02 13:49:31 hostname dovecot[442]: pop3-login: Aborted login (auth failed, 1 attempts in 17 secs): user=<test>, method=PLAIN, rip=192.51.100.13, lip=203.0.113.17, session=<YADINsQCDs5BH8Pg>",
		want: dovecot.ActionLoginFailed, user: "test", session: "YADINsQCDs5BH8Pg", process: "pop3-login", fields: map[string]string{"reason": "Aborted login"}},
	{name: "failed 2.4 login aborted", line: "Jun 12 19:07:29 hostname dovecot[241]: imap-login: Login aborted: Connection closed (auth failed, 3 attempts in 16 secs) (auth_failed): user=<test>, method=PLAIN, rip=192.0.2.241, lip=203.0.113.104, TLS, session=<9ZHq02g3J8S60fan>",
		want: dovecot.ActionLoginFailed, user: "test", fields: map[string]string{"reason": "Connection closed", "detail": "auth failed, 3 attempts in 16 secs", "event_reason": "auth_failed"}},
	{name: "failed reason with colon", line: "Aug 28 06:38:52 s1 dovecot: imap-login: Disconnected: Connection closed: read(size=1003) failed: Connection reset by peer (auth failed, 1 attempts in 0 secs): user=<test@example.com>, rip=192.0.2.4, lip=127.0.0.19, session=<Lsz0Oo7WXti3b7xe>",
		want: dovecot.ActionLoginFailed, user: "test@example.com", fields: map[string]string{"reason": "Connection closed: read(size=1003) failed: Connection reset by peer"}},
	{name: "failed plaintext no user", line: "Dec 12 11:19:11 dunnart dovecot: pop3-login: Aborted login (tried to use disallowed plaintext auth): rip=190.210.136.21, lip=113.212.99.193, session=<LgDINsQCkttVIMPg>",
		want: dovecot.ActionLoginFailed, user: "", fields: map[string]string{"detail": "tried to use disallowed plaintext auth"}},
	{name: "failed multilog", line: "@400000004c91b044077a9e94 imap-login: Info: Aborted login (auth failed, 1 attempts): user=<martin@waschbuesch.de>, method=CRAM-MD5, rip=80.187.101.33, lip=80.254.129.240, TLS",
		want: dovecot.ActionLoginFailed, user: "martin@waschbuesch.de", fields: map[string]string{"method": "CRAM-MD5"}},
	{name: "failed 1.x aborted no detail", line: "Jan 30 09:37:55 hostname dovecot: pop3-login: Aborted login: user=<username>, method=PLAIN, rip=::ffff:1.2.3.4, lip=::ffff:1.2.3.5",
		want: dovecot.ActionLoginFailed, user: "username"},
	{name: "failed wazuh no space before session", line: "Dec 19 17:30:39 ny dovecot: imap-login: Disconnected: Inactivity (auth failed, 7 attempts in 176 secs): user=<32>, method=PLAIN, rip=109.201.200.201, lip=67.205.141.203,session=<7QTLPAZEXrhtycjJ>",
		want: dovecot.ActionLoginFailed, user: "32", session: "7QTLPAZEXrhtycjJ", fields: map[string]string{"reason": "Inactivity", "lip": "67.205.141.203"}},
	{name: "failed tls detail", line: "Oct 12 15:44:43 canyon dovecot: pop3-login: Info: Disconnected: Connection closed (auth failed, 2 attempts in 30 secs): user=<hess@lol.fr>, method=PLAIN, rip=172.17.0.1, lip=172.17.0.2, TLS: Connection closed, session=<oEOptynOHNasEQAB>",
		want: dovecot.ActionLoginFailed, user: "hess@lol.fr", session: "oEOptynOHNasEQAB", fields: map[string]string{"tls": "TLS: Connection closed"}},
	{name: "refused connection limit", line: sys("imap-login: Maximum number of connections from user+IP exceeded (mail_max_userip_connections=2): user=<user@example.org>, method=PLAIN, rip=192.0.2.45, lip=192.0.2.1, TLS, session=<ZO1qp0+iOPxZAvmV>"),
		want: dovecot.ActionLoginFailed, user: "user@example.org", fields: map[string]string{"detail": "mail_max_userip_connections=2"}},
	{name: "no auth attempts", line: "Jul 02 13:49:32 hostname dovecot[442]: pop3-login: Disconnected (no auth attempts in 58 secs): user=<>, rip=192.51.100.13, lip=203.0.113.17, session=<LgDINsQCkttVIMPg>", want: ignored},
	{name: "no auth attempts 2.4", line: "Aug 22 12:09:41 server dovecot: imap-login: Login aborted: Connection closed: read(size=653) failed: Connection reset by peer (no auth attempts in 1 secs) (no_auth_attempts): user=<>, rip=192.0.2.6, lip=192.0.2.1, TLS: read(size=653) failed: Connection reset by peer, session=<qMLsbvY8PLSkXGoP>", want: ignored},
	{name: "tls handshake 2.4", line: "Aug 22 12:09:41 server dovecot: imap-login: Login aborted: Connection closed: SSL_accept() failed: error:0A0000C1:SSL routines::no shared cipher (disconnected during TLS handshake) (tls_handshake_not_finished): user=<>, rip=192.0.2.7, lip=192.0.2.1, TLS handshaking: SSL_accept() failed: error:0A0000C1:SSL routines::no shared cipher, session=<Q23ybvY8RLSkXGoP>", want: ignored},
	{name: "1.x disconnected no user", line: "Jul  4 17:30:51 hostname dovecot[2992]: pop3-login: Disconnected: rip=1.2.3.4, lip=1.2.3.5", want: ignored},
	{name: "proxy line", line: sys("imap-login: proxy(user@domain.tld,10.0.30.1:300): Disconnected by client (1s idle, in=125, out=603666): user=<user@domain.tld>, method=PLAIN, rip=10.0.10.1, lip=10.0.20.1, TLS, session=<23ndsSD/+32GaGsp>"), want: ignored},
	{name: "login process garbage", line: "Aug 31 16:06:06 s1 dovecot: imap-login: Disconnected: a: a: a: test no match", want: unknown},

	// Disconnects.
	{name: "logout 2.3", line: sys("imap(user@example.org)<1446517><l/g1gk+iMfBaBAGj>: Disconnected: Logged out in=34 out=534 deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0"),
		want: dovecot.ActionDisconnect, user: "user@example.org", session: "l/g1gk+iMfBaBAGj", process: "imap", pid: 1446517,
		fields: map[string]string{"reason": "Logged out", "disconnect": dovecot.DisconnectGraceful, "in": "34", "out": "534", "hdr_count": "0"}},
	{name: "logout 2.2", line: "Oct 5 10:22:28 (none) dovecot: imap(user@domain.com): Disconnected: Logged out bytes=88/1121",
		want: dovecot.ActionDisconnect, user: "user@domain.com", fields: map[string]string{"bytes": "88/1121"}},
	{name: "logout 1.x local file", line: "Jun 23 15:04:06 Info: IMAP(username): Disconnected: Logged out bytes=59/566",
		want: dovecot.ActionDisconnect, user: "username", process: "imap", fields: map[string]string{"bytes": "59/566"}},
	{name: "logout sonic connection closed", line: "Nov 14 13:55:16 d.imapd.sonic.net dovecot: imap(augie): session=J+iKk3vOmwBMv/+0 Connection closed in=755 out=714148",
		want: dovecot.ActionDisconnect, user: "augie", session: "J+iKk3vOmwBMv/+0", fields: map[string]string{"disconnect": dovecot.DisconnectAbort, "in": "755"}},
	{name: "logout inactivity", line: "Nov 14 14:28:14 d.imapd.sonic.net dovecot: imap(augie): session=pfuUoXvO3wDG5N7S Disconnected for inactivity in=159 out=940",
		want: dovecot.ActionDisconnect, fields: map[string]string{"disconnect": dovecot.DisconnectTimeout}},
	{name: "logout idle", line: "Nov 14 14:28:12 d.imapd.sonic.net dovecot: imap(augie): session=nnjBZXrOmwAYKynU Disconnected: Disconnected in IDLE in=854868 out=653461",
		want: dovecot.ActionDisconnect, fields: map[string]string{"disconnect": dovecot.DisconnectAbort, "reason": "Disconnected in IDLE"}},
	{name: "logout pop3", line: "Nov 15 11:06:22 d.imapd.sonic.net dovecot: pop3(augie): session=pfq6WI3OaQBAjgkE Disconnected: Logged out top=0/0, retr=1/50970, del=1/2, size=16612007",
		want: dovecot.ActionDisconnect, process: "pop3", fields: map[string]string{"retr": "1/50970", "del": "1/2", "size": "16612007"}},
	{name: "logout shutdown", line: sys("imap(u)<1><s>: Disconnected: Server shutting down. in=1 out=2"),
		want: dovecot.ActionDisconnect, fields: map[string]string{"disconnect": dovecot.DisconnectShutdown}},
	{name: "logout bad counter", line: sys("imap(u)<1><s>: Disconnected: Logged out in=abc out=2"), want: malformed},

	// mail_log.
	{name: "save lmtp", line: sys("lmtp(user@example.org)<12345><Sessi+0n:R2>: save: box=INBOX, uid=258220, msgid=, size=220"),
		want: dovecot.ActionSave, user: "user@example.org", session: "Sessi+0n:R2", process: "lmtp", pid: 12345,
		fields: map[string]string{"box": "INBOX", "uid": "258220", "msgid": "", "size": "220"}},
	{name: "copy", line: sys("imap(user@example.org)<12345><Sessi+0n>: copy from INBOX: box=Trash, uid=281683, msgid=<msg1d@example.org>, size=15890"),
		want: dovecot.ActionCopy, fields: map[string]string{"srcbox": "INBOX", "box": "Trash", "uid": "281683"}},
	{name: "copy from box with colon", line: sys("imap(u)<1><s>: copy from Lists: 2024: box=Trash, uid=5"),
		want: dovecot.ActionCopy, fields: map[string]string{"srcbox": "Lists: 2024", "box": "Trash"}},
	{name: "expunge doveadm", line: "Feb 11 18:36:11 ixion dovecot[875844]: doveadm(arekm): expunge: box=INBOX.Test, uid=47, msgid=<5b2e2a9c6e2fa387a89de052259248bc@example.com>, size=4693",
		want: dovecot.ActionExpunge, user: "arekm", process: "doveadm", fields: map[string]string{"box": "INBOX.Test", "uid": "47"}},
	{name: "delete", line: sys("imap(user@example.org)<12345><Sessi+0n>: delete: box=Drafts, uid=2713, msgid=<bd3a6292e6b5f5b1a6fdde7753edd808@fh-muenster.de>, size=7078"),
		want: dovecot.ActionDelete, fields: map[string]string{"box": "Drafts", "uid": "2713"}},
	{name: "undelete autoexpunge", line: sys("imap(u)<1><s>: undelete: box=INBOX, uid=9"), want: dovecot.ActionUndelete},
	{name: "autoexpunge", line: sys("imap(u)<1><s>: autoexpunge: box=Trash, uid=3, vsize=120"), want: dovecot.ActionAutoexpunge, fields: map[string]string{"vsize": "120"}},
	{name: "flag_change sonic from with comma", line: "Nov 14 09:19:55 d.imapd.sonic.net dovecot: imap(augie): session=h6/hvXfOIQBAjhIX flag_change: box=INBOX, uid=5999, msgid=<5@t>, size=6168, from=Twitter, Inc. <c@x.com>, subject=Hi, there, flags=(\\Seen NonJunk)",
		want: dovecot.ActionFlagChange, user: "augie", session: "h6/hvXfOIQBAjhIX",
		fields: map[string]string{"from": "Twitter, Inc. <c@x.com>", "subject": "Hi, there", "flags": `\Seen NonJunk`}},
	{name: "truncated msgid", line: "Nov 14 14:38:47 d.imapd.sonic.net dovecot: imap(augie): session=TehdAHzOPgBFDN3y expunge: box=INBOX.Graymail, uid=231, msgid=<52805BF0F147AC31D2BCDB147796854A-7044bc48ab194dae8373ec9b588cdef8@online.cos..., size=96553, from=Costco News <CostcoNews@online.costco.com>, flags=(\\Deleted \\Seen)",
		want: dovecot.ActionExpunge, fields: map[string]string{"truncated": "msgid", "size": "96553"}},
	{name: "box with spaces and utf-8", line: sys("imap(u)<1><s>: save: box=Archiv 2024/Ä, uid=error, size=error"),
		want: dovecot.ActionSave, fields: map[string]string{"box": "Archiv 2024/Ä", "uid": "error", "size": "error"}},
	{name: "2.4 mailbox prefix", line: sys("imap(u)<1><s>: Mailbox Sent: save: uid=12, msgid=<a@b>, flags=(\\Seen)"),
		want: dovecot.ActionSave, fields: map[string]string{"box": "Sent", "uid": "12", "flags": `\Seen`}},
	{name: "bad uid", line: sys("imap(u)<1><s>: expunge: box=INBOX, uid=abc, size=1"), want: malformed},
	{name: "bad flags", line: sys("imap(u)<1><s>: flag_change: box=INBOX, uid=1, flags=\\Seen"), want: malformed},
	{name: "site plugin prefix", line: "Nov 14 16:01:15 d.imapd.sonic.net dovecot: imap(augie): session=HG34VX3ObgBMv/lE mwi-update: expunge: box=INBOX.Voicemail, msgid=, flags=(\\Deleted \\Seen)", want: unknown},

	// Mailbox lines.
	{name: "mailbox created 2.3", line: sys("imap(u)<1><s>: Mailbox created: Projects/New"), want: dovecot.ActionMailboxCreate, fields: map[string]string{"mailbox": "Projects/New"}},
	{name: "mailbox deleted 2.2", line: sys("imap(u): Mailbox deleted: Old"), want: dovecot.ActionMailboxDelete, fields: map[string]string{"mailbox": "Old"}},
	{name: "mailbox renamed 2.3", line: sys("imap(u)<1><s>: Mailbox renamed: A -> B"), want: dovecot.ActionMailboxRename, fields: map[string]string{"old": "A", "new": "B"}},
	{name: "mailbox created 2.4", line: sys("imap(u)<1><s>: Mailbox Work: Mailbox created"), want: dovecot.ActionMailboxCreate, fields: map[string]string{"mailbox": "Work"}},
	{name: "mailbox deleted 2.4", line: sys("imap(u)<1><s>: Mailbox Work: Mailbox deleted"), want: dovecot.ActionMailboxDelete, fields: map[string]string{"mailbox": "Work"}},
	{name: "mailbox renamed 2.4", line: sys("imap(u)<1><s>: Mailbox A -> x: Mailbox renamed: A -> x -> C"), want: dovecot.ActionMailboxRename, fields: map[string]string{"old": "A -> x", "new": "C"}},
	{name: "mailbox renamed broken", line: sys("imap(u)<1><s>: Mailbox renamed: nothing"), want: malformed},

	// Delivery.
	{name: "lmtp saved", line: sys("lmtp(user@example.org)<1424580><6u4HADnlhV7EvBUAnSVX2A>: msgid=<NM61F22CF1C007D32A6PFO_P@example.org>: saved mail to INBOX"),
		want: dovecot.ActionDeliver, session: "6u4HADnlhV7EvBUAnSVX2A", fields: map[string]string{"msgid": "<NM61F22CF1C007D32A6PFO_P@example.org>", "mailbox": "INBOX"}},
	{name: "lda own file", line: "2014-10-08 18:29:24 lda(hit0k@vm7566.vps.agava.net): Info: msgid=<1412778554.202661981@f349.i.mail.ru>: saved mail to INBOX",
		want: dovecot.ActionDeliver, process: "lda", user: "hit0k@vm7566.vps.agava.net"},
	{name: "sieve fileinto msgid ?", line: sys("lmtp(user@example.org)<1444380><yFp9GDfzhV4cChYAnSVX2A>: sieve: msgid=? <040a@example.org>: fileinto action: stored mail into mailbox 'Spam'"),
		want: dovecot.ActionDeliver, fields: map[string]string{"msgid": "<040a@example.org>", "mailbox": "Spam", "sieve": "yes"}},
	{name: "sieve with text session", line: "Oct 27 11:29:07 dominikbreu dovecot: lmtp(dominik@dominikbreu.de): 93b6I/NRL1YjfgAAMW3Dmg: sieve: msgid=<562F51C3.4000000@dimejo.at>: stored mail into mailbox 'Lists.2015.10.dovecot'",
		want: dovecot.ActionDeliver, session: "93b6I/NRL1YjfgAAMW3Dmg", fields: map[string]string{"mailbox": "Lists.2015.10.dovecot"}},
	{name: "quota exceeded", line: sys("lmtp(u@x)<5><S1>: msgid=<q@x>: save failed to INBOX: Quota exceeded (mailbox for user is full)"),
		want: dovecot.ActionDeliverFailed, fields: map[string]string{"mailbox": "INBOX", "quota": "yes", "reason": "Quota exceeded (mailbox for user is full)"}},
	{name: "custom deliver_log_format", line: sys("lda(u@x): msgid=<a b@x> size=1234 from=A B <a@x>: saved mail to Lists"),
		want: dovecot.ActionDeliver, fields: map[string]string{"msgid": "<a b@x>", "size": "1234", "from": "A B <a@x>", "mailbox": "Lists"}},
	{name: "empty msgid", line: sys("lmtp(u@x)<5><S1>: msgid=: saved mail to INBOX"), want: dovecot.ActionDeliver, fields: map[string]string{"msgid": ""}},
	{name: "sieve forward", line: sys("lmtp(u@x)<5><S1>: sieve: msgid=<a@x>: forwarded to <b@y>"), want: ignored},

	// Other Dovecot lines and foreign lines.
	{name: "auth-worker", line: "Sep 8 07:46:30 canyon dovecot: auth-worker(24544): pam(toto,1.1.1.1): unknown user", want: ignored},
	{name: "auth 2.4 own file", line: "Aug 30 00:10:57 auth(info@example.com,192.0.2.110,sasl:login)<CvN+E95Uf4e7eEnj>: Info: sql: Password mismatch (given password: XxxxXXxx123)", want: ignored},
	{name: "master start", line: sys("master: Dovecot v2.3.10 (0da0eff44) starting up for imap, sieve, lmtp"), want: ignored},
	{name: "1.x start", line: "Jun 17 10:15:24 hostname dovecot: Dovecot v1.2.rc3 starting up (core dumps disabled)", want: ignored},
	{name: "lmtp connect", line: sys("lmtp(1440447): Connect from local"), want: ignored},
	{name: "lmtp disconnect", line: sys("lmtp(1443661): Disconnect from 192.0.2.43: Logged out (state=READY)"), want: ignored},
	{name: "imap error", line: sys("imap(u)<1><s>: Error: Mailbox INBOX: UID=5: read() failed"), want: ignored},
	{name: "stats warning", line: "Nov 15 14:00:36 d.imapd.sonic.net dovecot: stats: Warning: UPDATE-CMD: Already expired", want: ignored},
	{name: "postlogin", line: "Nov 15 14:07:42 d.imapd.sonic.net dovecot-postlogin[26352]: graymail spool missing for augie", want: unknown},
	{name: "postfix", line: "Jan 15 08:00:00 mail postfix/smtpd[1]: connect from x[192.0.2.1]", want: unknown},
	{name: "no envelope, foreign", line: "postfix/smtpd[1]: connect from x[192.0.2.1]", want: unknown},
	{name: "empty", line: "", want: unknown},
}

func TestParseLines(t *testing.T) {
	runLineCases(t, lineCases)
}

// runLineCases parses each case's line and checks the outcome and fields.
func runLineCases(t *testing.T, cases []lineCase) {
	g := newTestGrammar()
	for _, tc := range cases {
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
			if rec.Server != "dovecot" || rec.Grammar != "dovecot" {
				t.Errorf("server/grammar = %q/%q", rec.Server, rec.Grammar)
			}
			if tc.user != "" && rec.User != tc.user {
				t.Errorf("user %q, want %q", rec.User, tc.user)
			}
			if tc.session != "" && rec.Session != tc.session {
				t.Errorf("session %q, want %q", rec.Session, tc.session)
			}
			if tc.process != "" && rec.Process != tc.process {
				t.Errorf("process %q, want %q", rec.Process, tc.process)
			}
			if tc.pid != 0 && rec.PID != tc.pid {
				t.Errorf("pid %d, want %d", rec.PID, tc.pid)
			}
			for k, want := range tc.fields {
				if v, ok := rec.Get(k); !ok || v != want {
					t.Errorf("field %s = %q (present %v), want %q; fields %q", k, v, ok, want, rec.Fields)
				}
			}
		})
	}
}

func TestGolden(t *testing.T) {
	g := newTestGrammar()
	parsertest.Golden(t, "testdata", *update, []parsers.Parser{g}, func() *mapping.Registry {
		r := new(mapping.Registry)
		r.Register("dovecot", mapping.NewDovecot(mapping.DovecotOptions{ServerHost: "imap.example.org"}))
		return r
	})
}
