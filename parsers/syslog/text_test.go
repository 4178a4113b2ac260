package syslog

import (
	"testing"
	"time"
)

func TestParseBSD(t *testing.T) { runCases(t, bsdCases) }

func TestParseLocalFile(t *testing.T) { runCases(t, localFileCases) }

func TestParseISO(t *testing.T) { runCases(t, isoCases) }

// bsd builds the expected Envelope of a BSD line in the test Location.
func bsd(year int, mon time.Month, day, h, m, s int, host, tag string, pid int, msg string) Envelope {
	return Envelope{
		Format: FormatBSD, Time: time.Date(year, mon, day, h, m, s, 0, paris),
		Host: host, Tag: tag, PID: pid, Priority: -1, Message: []byte(msg),
	}
}

var bsdCases = []parseCase{
	{
		name: "fail2ban zero-padded day with pid",
		line: "Jul 02 13:49:31 hostname dovecot[442]: pop3-login: Aborted login (auth failed, 1 attempts in 17 secs): user=<test>, method=PLAIN, rip=192.51.100.13, lip=203.0.113.17, session=<YADINsQCDs5BH8Pg>",
		want: bsd(2025, time.July, 2, 13, 49, 31, "hostname", "dovecot", 442,
			"pop3-login: Aborted login (auth failed, 1 attempts in 17 secs): user=<test>, method=PLAIN, rip=192.51.100.13, lip=203.0.113.17, session=<YADINsQCDs5BH8Pg>"),
	},
	{
		name: "wazuh space-padded day",
		line: "Jul  4 17:30:51 hostname dovecot[2992]: pop3-login: Disconnected: rip=1.2.3.4, lip=1.2.3.5",
		want: bsd(2025, time.July, 4, 17, 30, 51, "hostname", "dovecot", 2992, "pop3-login: Disconnected: rip=1.2.3.4, lip=1.2.3.5"),
	},
	{
		name: "crowdsec unpadded day without pid",
		line: "Sep 8 07:46:30 canyon dovecot: auth-worker(24544): pam(toto,1.1.1.1): unknown user",
		want: bsd(2025, time.September, 8, 7, 46, 30, "canyon", "dovecot", 0, "auth-worker(24544): pam(toto,1.1.1.1): unknown user"),
	},
	{
		name: "cyrus imap tag with slash, this year",
		line: "Jan 4 21:51:05 hostname cyrus/imap[5355]: badlogin: localhost.localdomain [127.0.0.1] plaintext cyrus@localdomain SASL(-13): authentication failure: checkpass failed",
		want: bsd(2026, time.January, 4, 21, 51, 5, "hostname", "cyrus/imap", 5355,
			"badlogin: localhost.localdomain [127.0.0.1] plaintext cyrus@localdomain SASL(-13): authentication failure: checkpass failed"),
	},
	{
		name: "cyrus imapd tag, December is last year",
		line: "Dec 21 10:01:57 hostname imapd[18454]: badlogin: example.com [198.51.100.57] CRAM-MD5 [SASL(-13): authentication failure: incorrect digest response]",
		want: bsd(2025, time.December, 21, 10, 1, 57, "hostname", "imapd", 18454,
			"badlogin: example.com [198.51.100.57] CRAM-MD5 [SASL(-13): authentication failure: incorrect digest response]"),
	},
	{
		name: "cyrus space-padded March, winter time",
		line: "Mar  8 05:25:21 host imap[22130]: badlogin: [192.0.2.4] plain [SASL(-13): authentication failure: Password verification failed]",
		want: bsd(2026, time.March, 8, 5, 25, 21, "host", "imap", 22130,
			"badlogin: [192.0.2.4] plain [SASL(-13): authentication failure: Password verification failed]"),
	},
	{
		name: "cyrus timsieved",
		line: "Jul 18 17:21:58 ophelia cyrus/timsieved[12305]: badlogin: example.com[1.2.3.4] PLAIN authentication failure",
		want: bsd(2025, time.July, 18, 17, 21, 58, "ophelia", "cyrus/timsieved", 12305, "badlogin: example.com[1.2.3.4] PLAIN authentication failure"),
	},
	{
		name: "host (none)",
		line: "Oct 5 10:22:28 (none) dovecot: imap-login: Login: user=<user@domain.com>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, mpid=16983, TLS",
		want: bsd(2025, time.October, 5, 10, 22, 28, "(none)", "dovecot", 0,
			"imap-login: Login: user=<user@domain.com>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, mpid=16983, TLS"),
	},
	{
		name: "sonic dotted host, dashed tag",
		line: "Nov 15 14:07:42 d.imapd.sonic.net dovecot-postlogin[26352]: graymail spool missing for augie",
		want: bsd(2025, time.November, 15, 14, 7, 42, "d.imapd.sonic.net", "dovecot-postlogin", 26352, "graymail spool missing for augie"),
	},
	{
		name: "github doveadm mail_log",
		line: "Feb 11 18:36:11 ixion dovecot[875844]: doveadm(arekm): expunge: box=INBOX.Test, uid=47, msgid=<5b2e2a9c6e2fa387a89de052259248bc@example.com>, size=4693",
		want: bsd(2026, time.February, 11, 18, 36, 11, "ixion", "dovecot", 875844,
			"doveadm(arekm): expunge: box=INBOX.Test, uid=47, msgid=<5b2e2a9c6e2fa387a89de052259248bc@example.com>, size=4693"),
	},
	{
		name: "cyrus custom syslog_prefix",
		line: "Jun  3 09:00:00 mx1 mail1/imapd[77]: login: host [192.0.2.1] user plaintext User logged in",
		want: bsd(2025, time.June, 3, 9, 0, 0, "mx1", "mail1/imapd", 77, "login: host [192.0.2.1] user plaintext User logged in"),
	},
	{
		name: "year rollover: December line read on Jan 1",
		line: "Dec 31 23:59:59 mail dovecot: imap(u): Logged out",
		now:  time.Date(2026, time.January, 1, 0, 0, 0, 0, paris),
		want: bsd(2025, time.December, 31, 23, 59, 59, "mail", "dovecot", 0, "imap(u): Logged out"),
	},
	{
		name: "less than a day ahead stays in this year",
		line: "Mar 16 11:59:59 mail dovecot: clock skew",
		want: bsd(2026, time.March, 16, 11, 59, 59, "mail", "dovecot", 0, "clock skew"),
	},
	{
		name: "more than a day ahead is last year",
		line: "Mar 16 12:00:01 mail dovecot: old line",
		want: bsd(2025, time.March, 16, 12, 0, 1, "mail", "dovecot", 0, "old line"),
	},
	{
		name: "Feb 29 in a leap year",
		line: "Feb 29 08:00:00 mail dovecot: leap day",
		now:  time.Date(2028, time.March, 1, 0, 0, 0, 0, paris),
		want: bsd(2028, time.February, 29, 8, 0, 0, "mail", "dovecot", 0, "leap day"),
	},
	{
		name: "fractional seconds",
		line: "Jul  2 13:49:31.125 mail dovecot: frac",
		want: Envelope{
			Format: FormatBSD, Time: time.Date(2025, time.July, 2, 13, 49, 31, 125e6, paris), Precision: 3,
			Host: "mail", Tag: "dovecot", Priority: -1, Message: []byte("frac"),
		},
	},
	{
		name: "odd spacing between every field",
		line: "Jul   2  13:49:31   mail    dovecot[1]: msg",
		want: bsd(2025, time.July, 2, 13, 49, 31, "mail", "dovecot", 1, "msg"),
	},
	{
		name: "colon at end of line gives an empty message",
		line: "Jul  2 13:49:31 mail dovecot[7]:",
		want: bsd(2025, time.July, 2, 13, 49, 31, "mail", "dovecot", 7, ""),
	},
	{
		name: "spaces after the separator belong to the message",
		line: "Jul  2 13:49:31 mail dovecot:   indented",
		want: bsd(2025, time.July, 2, 13, 49, 31, "mail", "dovecot", 0, "  indented"),
	},
}

// local builds the expected Envelope of a Dovecot log-file line.
func local(tm time.Time, prec int, msg string) Envelope {
	return Envelope{Format: FormatLocalFile, Time: tm, Precision: prec, Priority: -1, Message: []byte(msg)}
}

var localFileCases = []parseCase{
	{
		name: "fail2ban default log_timestamp",
		line: "Jan 29 09:33:58 pop3-login: Info: Aborted login (auth failed, 1 attempts in 2 secs): user=<grace>, method=PLAIN, rip=212.9.180.3",
		want: local(time.Date(2026, time.January, 29, 9, 33, 58, 0, paris), 0,
			"pop3-login: Info: Aborted login (auth failed, 1 attempts in 2 secs): user=<grace>, method=PLAIN, rip=212.9.180.3"),
	},
	{
		name: "fail2ban ISO log_timestamp",
		line: "2013-08-11 03:56:40 auth-worker(default): Info: pam(username,1.2.3.4): pam_authenticate() failed: Authentication failure (password mismatch?)",
		want: local(time.Date(2013, time.August, 11, 3, 56, 40, 0, paris), 0,
			"auth-worker(default): Info: pam(username,1.2.3.4): pam_authenticate() failed: Authentication failure (password mismatch?)"),
	},
	{
		name: "Dovecot 2.4 auth prefix with a colon inside",
		line: "Aug 30 00:10:57 auth(info@example.com,192.0.2.110,sasl:login)<CvN+E95Uf4e7eEnj>: Info: sql: Password mismatch (given password: XxxxXXxx123)",
		want: local(time.Date(2025, time.August, 30, 0, 10, 57, 0, paris), 0,
			"auth(info@example.com,192.0.2.110,sasl:login)<CvN+E95Uf4e7eEnj>: Info: sql: Password mismatch (given password: XxxxXXxx123)"),
	},
	{
		name: "mail process prefix with pid and session",
		line: "Jan 29 09:33:58 imap(user@example.org)<1446517><l/g1gk+iMfBaBAGj>: Disconnected: Logged out in=34 out=534",
		want: local(time.Date(2026, time.January, 29, 9, 33, 58, 0, paris), 0,
			"imap(user@example.org)<1446517><l/g1gk+iMfBaBAGj>: Disconnected: Logged out in=34 out=534"),
	},
	{
		name: "ISO log_timestamp with usecs",
		line: "2014-10-08 18:29:24.123456 lda(hit0k@vm7566.vps.agava.net): Info: msgid=<1412778554.202661981@f349.i.mail.ru>: saved mail to INBOX",
		want: local(time.Date(2014, time.October, 8, 18, 29, 24, 123456000, paris), 6,
			"lda(hit0k@vm7566.vps.agava.net): Info: msgid=<1412778554.202661981@f349.i.mail.ru>: saved mail to INBOX"),
	},
	{
		// A first token of the form "tag[pid]:" is a syslog tag with the
		// host omitted, never a Dovecot process prefix.
		name: "fail2ban cyrus line without host",
		line: "Feb 20 17:23:32 cyrus/pop3[4297]: badlogin: example.com [1.2.3.4] plaintext mail0001 SASL(-13): authentication failure: checkpass failed",
		want: bsd(2026, time.February, 20, 17, 23, 32, "", "cyrus/pop3", 4297,
			"badlogin: example.com [1.2.3.4] plaintext mail0001 SASL(-13): authentication failure: checkpass failed"),
	},
	{
		name: "wazuh level word first",
		line: "Jun 23 15:04:05 Info: imap-login: Login: user=<username>, method=PLAIN, rip=1.2.3.4, lip=1.2.3.5 Authentication Failure:",
		want: local(time.Date(2025, time.June, 23, 15, 4, 5, 0, paris), 0,
			"Info: imap-login: Login: user=<username>, method=PLAIN, rip=1.2.3.4, lip=1.2.3.5 Authentication Failure:"),
	},
	{
		name: "T-separated stamp followed by a process prefix",
		line: "2024-05-01T10:00:00+02:00 imap-login: Info: Login: user=<a>",
		want: Envelope{
			Format: FormatLocalFile, Time: time.Date(2024, time.May, 1, 10, 0, 0, 0, utcOffset(2, 0)), Zoned: true,
			Priority: -1, Message: []byte("imap-login: Info: Login: user=<a>"),
		},
	},
}

// iso builds the expected Envelope of an ISO syslog line.
func iso(tm time.Time, prec int, zoned bool, host, tag string, pid int, msg string) Envelope {
	return Envelope{
		Format: FormatISO, Time: tm, Precision: prec, Zoned: zoned,
		Host: host, Tag: tag, PID: pid, Priority: -1, Message: []byte(msg),
	}
}

var isoCases = []parseCase{
	{
		name: "crowdsec rsyslog RFC 3339",
		line: "2024-12-31T06:56:17.784598+01:00 mail dovecot: auth-worker(10377): conn unix:auth-worker (pid=919,uid=112): auth-worker<1>: sql(testing@example.com,192.168.1.1): unknown user (given password: Password123$)",
		want: iso(time.Date(2024, time.December, 31, 6, 56, 17, 784598000, utcOffset(1, 0)), 6, true, "mail", "dovecot", 0,
			"auth-worker(10377): conn unix:auth-worker (pid=919,uid=112): auth-worker<1>: sql(testing@example.com,192.168.1.1): unknown user (given password: Password123$)"),
	},
	{
		name: "crowdsec second host",
		line: "2025-01-01T17:05:06.533969+01:00 mail2 dovecot: auth: passwd-file(karen@co.uk,192.168.1.1): unknown user (SHA1 of given password: 21bd12)",
		want: iso(time.Date(2025, time.January, 1, 17, 5, 6, 533969000, utcOffset(1, 0)), 6, true, "mail2", "dovecot", 0,
			"auth: passwd-file(karen@co.uk,192.168.1.1): unknown user (SHA1 of given password: 21bd12)"),
	},
	{
		name: "journalctl short-iso old offset spelling",
		line: "2024-01-02T03:04:05+0100 mx dovecot[123]: imap-login: Login: user=<a>",
		want: iso(time.Date(2024, time.January, 2, 3, 4, 5, 0, utcOffset(1, 0)), 0, true, "mx", "dovecot", 123, "imap-login: Login: user=<a>"),
	},
	{
		name: "Z offset",
		line: "2024-07-01T10:00:00Z host cyrus/imap[9]: login: x",
		want: iso(time.Date(2024, time.July, 1, 10, 0, 0, 0, time.UTC), 0, true, "host", "cyrus/imap", 9, "login: x"),
	},
	{
		name: "negative offset and nanoseconds",
		line: "2024-03-10T01:02:03.123456789-05:30 h t: m",
		want: iso(time.Date(2024, time.March, 10, 1, 2, 3, 123456789, utcOffset(-5, 30)), 9, true, "h", "t", 0, "m"),
	},
	{
		name: "one fraction digit",
		line: "2024-03-10T01:02:03.5+00:00 h t: m",
		want: iso(time.Date(2024, time.March, 10, 1, 2, 3, 5e8, utcOffset(0, 0)), 1, true, "h", "t", 0, "m"),
	},
	{
		name: "no offset assumes the Location",
		line: "2024-08-01T03:04:05 host dovecot: summer",
		want: iso(time.Date(2024, time.August, 1, 3, 4, 5, 0, paris), 0, false, "host", "dovecot", 0, "summer"),
	},
	{
		name: "space-separated stamp followed by a host",
		line: "2024-08-01 03:04:05 host dovecot[5]: m",
		want: iso(time.Date(2024, time.August, 1, 3, 4, 5, 0, paris), 0, false, "host", "dovecot", 5, "m"),
	},
}
