package dovecot_test

import (
	"errors"
	"testing"

	"github.com/mailevents/mailevents/event"
	"github.com/mailevents/mailevents/mapping"
	"github.com/mailevents/mailevents/parsers/dovecot"
	"github.com/mailevents/mailevents/source"
)

// wazuhLogout is wazuh's shape: a "dovecot: " relay tag in front of a line
// of Dovecot's own log file (1.x level-first form).
const wazuhLogout = "dovecot: Jun 23 15:04:06 Info: IMAP(username): Disconnected: Logged out bytes=59/566"

var bareLineCases = []lineCase{
	// Bare messages, as journalctl -o cat prints them and grok suites keep
	// them: no envelope, so the process name must be one of Dovecot's.
	{name: "bare login", line: "imap-login: Login: user=<u@example.org>, method=PLAIN, rip=192.0.2.5, lip=192.0.2.1, mpid=77, TLS, session=<abc>",
		want: dovecot.ActionLogin, user: "u@example.org", session: "abc", process: "imap-login", fields: map[string]string{"mpid": "77"}},
	{name: "bare 1.x deliver", line: "deliver(user@domain.tld): msgid=<a334ee3e00f36dd2a@mail.gmail.com>: saved mail to INBOX",
		want: dovecot.ActionDeliver, user: "user@domain.tld", process: "deliver", fields: map[string]string{"mailbox": "INBOX"}},
	{name: "bare mail_log", line: "lmtp(user@example.org)<12345><Sessi+0n:R2>: save: box=INBOX, uid=258220, msgid=, size=220",
		want: dovecot.ActionSave, session: "Sessi+0n:R2", pid: 12345, fields: map[string]string{"uid": "258220"}},
	{name: "bare 1.x upper-case IMAP", line: "IMAP(username): Disconnected: Logged out bytes=59/566",
		want: dovecot.ActionDisconnect, user: "username", process: "imap", fields: map[string]string{"bytes": "59/566"}},
	{name: "bare master", line: "master: Dovecot v2.3.10 (0da0eff44) starting up for imap, sieve, lmtp", want: ignored},
	{name: "bare lmtp connect", line: "lmtp(1440447): Connect from local", want: ignored},
	{name: "bare auth-worker", line: "auth-worker(24544): pam(toto,1.1.1.1): unknown user", want: ignored},
	{name: "bare relay tag", line: "dovecot: imap(u)<1><s>: expunge: box=INBOX, uid=3", want: dovecot.ActionExpunge, user: "u"},
	{name: "bare broken login", line: "imap-login: Login: user=<u>, method=PLAIN, rip=192.0.2.5, lip=192.0.2.1, mpid=abc", want: malformed},

	// Other programs' bare lines stay Unknown, so auto-detection moves on.
	{name: "bare postfix", line: "postfix/smtpd[1]: connect from x[192.0.2.1]", want: unknown},
	{name: "bare sshd", line: "sshd(root): Accepted password for root", want: unknown},
	{name: "bare postlogin", line: "dovecot-postlogin: graymail spool missing for augie", want: unknown},
	{name: "bare mixed-case name", line: "Imap-login: Login: user=<u>, method=PLAIN", want: unknown},
	{name: "bare sieve is no process", line: "sieve: msgid=<a@x>: stored mail into mailbox 'Spam'", want: unknown},
	{name: "bare level first", line: "Error: imap(u): something", want: unknown},
	{name: "bare no prefix", line: "imap-login Login: user=<u>", want: unknown},

	// wazuh's "dovecot: " in front of a Dovecot log-file line.
	{name: "relay 1.x logout", line: wazuhLogout,
		want: dovecot.ActionDisconnect, user: "username", process: "imap", fields: map[string]string{"bytes": "59/566"}},
	{name: "relay 1.x aborted login", line: "dovecot: May 31 09:43:57 Info: pop3-login: Aborted login (1 authentication attempts): user=<username>, method=PLAIN, rip=::ffff:1.2.3.4, lip=::ffff:1.2.3.5, secured",
		want: dovecot.ActionLoginFailed, user: "username", process: "pop3-login"},
	{name: "relay iso stamp", line: "dovecot: 2014-10-08 18:29:24 lda(hit0k@example.net): Info: msgid=<1@example.net>: saved mail to INBOX",
		want: dovecot.ActionDeliver, process: "lda", user: "hit0k@example.net"},
	{name: "relay auth", line: "dovecot: Jan 07 14:46:28 Warn: auth(default): userdb(username,::ffff:127.0.0.1): user not found from userdb", want: ignored},
	{name: "relay broken login", line: "dovecot: Jun 23 15:04:05 Info: imap-login: Login: user=<username>, method=PLAIN, rip=1.2.3.4, lip=1.2.3.5 Authentication Failure:", want: malformed},
	{name: "relay foreign prefix", line: "dovecot: Jun 23 15:04:06 Info: sshd: Accepted password", want: unknown},
	{name: "relay syslog line", line: "dovecot: Jan 15 08:00:00 mail postfix/smtpd[1]: connect from x[192.0.2.1]", want: unknown},
}

func TestParseBareLines(t *testing.T) {
	runLineCases(t, bareLineCases)
}

// TestParseBareTime checks what the envelope leaves behind: a bare message
// has no time (and then no timestamp in its events, which RFC 5423 allows),
// the relayed log-file line keeps its stamp; either way the events validate.
func TestParseBareTime(t *testing.T) {
	cases := []struct {
		name          string
		line          string
		wantTime      bool
		wantPrecision int
	}{
		{name: "bare", line: "imap(u)<1><s>: Disconnected: Logged out in=1 out=2", wantPrecision: -1},
		{name: "bare deliver", line: "lmtp(u@x)<5><S1>: msgid=<q@x>: saved mail to INBOX", wantPrecision: -1},
		{name: "relay", line: wazuhLogout, wantTime: true, wantPrecision: 0},
	}
	g := newTestGrammar()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := g.Parse(source.Line{Text: []byte(tc.line)})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if rec.Time.IsZero() == tc.wantTime || rec.Precision != tc.wantPrecision || rec.Host != "" {
				t.Errorf("time %v precision %d host %q; want time %v precision %d, no host",
					rec.Time, rec.Precision, rec.Host, tc.wantTime, tc.wantPrecision)
			}
			evs, err := mapping.NewDovecot(mapping.DovecotOptions{}).Map(nil, &rec)
			if err != nil && !errors.Is(err, mapping.ErrUnmapped) {
				t.Fatalf("Map: %v", err)
			}
			if len(evs) == 0 {
				t.Fatal("no event")
			}
			for _, e := range evs {
				if err := e.Validate(); err != nil {
					t.Errorf("invalid event: %v", err)
				}
				if e.Has(event.Timestamp) != tc.wantTime {
					t.Errorf("timestamp present %v, want %v", e.Has(event.Timestamp), tc.wantTime)
				}
			}
		})
	}
}
