package dovecottest

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/sample-<mode>.log with this run's logs")

// wantLines are the lines each operation must produce. "(Info: )?" because
// Dovecot prefixes the level in its own log file but not in syslog, where
// the priority carries it.
var wantLines = []string{
	`master: (Info: )?Dovecot v2\.3\.\S+ \(\w+\) starting up for imap, pop3, lmtp`,
	`imap-login: (Info: )?Login: user=<alice>, method=PLAIN, rip=127\.0\.0\.1, rport=\d+, lip=127\.0\.0\.1, lport=\d+, mpid=\d+, secured, session=<[^>]+>`,
	`auth: (Info: )?passwd-file\(alice,127\.0\.0\.1,<[^>]+>\): Password mismatch`,
	`imap-login: (Info: )?Disconnected: .*auth failed, 1 attempts.*user=<alice>`,
	`imap\(alice\)<\d+><[^>]+>: (Info: )?Mailbox created: Archive/2024`,
	`imap\(alice\)<\d+><[^>]+>: (Info: )?save: box=Trash, uid=\d+, msgid=<m0@example\.net>`,
	`save: box=INBOX, uid=\d+, msgid=<m1@example\.net>, size=\d+, vsize=\d+, from=Sender <sender@example\.net>, subject=Flags and keyword, flags=\(\\Seen project-x\)`,
	`flag_change: box=INBOX, uid=\d+, msgid=<m2@example\.net>, .*flags=\(\\Seen \\Recent project-x\)`,
	`delete: box=INBOX, uid=\d+, msgid=<m3@example\.net>, .*flags=\(\\Deleted \\Recent\)`,
	`copy from INBOX: box=Archive/2024, uid=\d+, msgid=<m1@example\.net>`,
	`expunge: box=INBOX, uid=\d+, msgid=<m2@example\.net>`, // MOVE
	`expunge: box=INBOX, uid=\d+, msgid=<m3@example\.net>`, // EXPUNGE
	`expunge: box=INBOX, uid=\d+, msgid=<m4@example\.net>`, // UID EXPUNGE
	`undelete: box=INBOX, uid=\d+`,
	`expunge: box=INBOX, uid=\d+, msgid=<m5@example\.net>`, // CLOSE
	`Mailbox renamed: Archive/2024 -> Archive/2023`,
	`Mailbox deleted: Scratch`,
	`Mailbox deleted: Archive/2023`,
	`imap\(alice\)<\d+><[^>]+>: (Info: )?Disconnected: Connection closed`,
	`imap\(alice\)<\d+><[^>]+>: (Info: )?autoexpunge: box=Trash, uid=\d+, msgid=<m0@example\.net>`,
	`imap\(alice\)<\d+><[^>]+>: (Info: )?Disconnected: Logged out in=\d+ out=\d+ deleted=4 expunged=3 trashed=0`,
	`lmtp\(\d+\): (Info: )?Connect from 127\.0\.0\.1`,
	`auth: (Info: )?passwd-file\(nobody,127\.0\.0\.1\): unknown user`,
	`lmtp\(\d+\): (Info: )?Disconnect from 127\.0\.0\.1: Logged out \(state=READY\)`,
	`lmtp\(alice\)<\d+><[^>]+>: (Info: )?msgid=<m10@example\.net>: saved mail to INBOX`,
	`lmtp\(bob\)<\d+><[^>]+>: .*msgid=<m10@example\.net>: save failed to INBOX: Quota exceeded`,
	`lmtp\(carol\)<\d+><[^>]+>: (Info: )?msgid=<m10@example\.net>: saved mail to INBOX`,
	`pop3-login: (Info: )?Login: user=<carol>, method=PLAIN`,
	`pop3\(carol\)<\d+><[^>]+>: (Info: )?expunge: box=INBOX, uid=\d+, msgid=<m10@example\.net>`,
	`pop3\(carol\)<\d+><[^>]+>: (Info: )?Disconnected: Logged out top=0/0, retr=1/\d+, del=1/1, size=\d+`,
}

// TestHarness drives a real Dovecot through every operation the Dovecot
// grammar covers, in each log mode, and checks the lines it logged. With
// -update it saves each mode's log as testdata/sample-<mode>.log, the real
// lines the parser tests use as golden input.
func TestHarness(t *testing.T) {
	modes := []struct {
		name string
		opts Options
	}{
		{"file", Options{}},
		{"iso", Options{LogTimestamp: ISOTimestamp}},
		{"syslog", Options{Log: LogSyslog}},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			// Each mode has its own server and ports; syslog mode waits for
			// the /dev/log lock by itself.
			t.Parallel()
			opts := m.opts
			opts.QuotaUsers = map[string]int64{"bob": 1}
			opts.Autoexpunge = time.Second
			s := Start(t, opts)

			exerciseLMTP(t, s)
			exercisePOP3(t, s)
			exerciseIMAP(t, s)
			out, err := s.Doveadm("mailbox", "status", "-u", "alice", "uidvalidity", "INBOX")
			ok(t, "doveadm mailbox status", err)
			if !strings.Contains(string(out), "uidvalidity=") {
				t.Errorf("doveadm mailbox status: %q", out)
			}

			s.Stop()
			log := s.Log()
			if testing.Verbose() {
				t.Logf("Dovecot %s, %s log (%s):\n%s", s.Version, m.name, s.LogPath, log)
			}
			for _, re := range wantLines {
				if !regexp.MustCompile(re).Match(log) {
					t.Errorf("log has no line matching %s", re)
				}
			}
			if *update && !t.Failed() {
				path := filepath.Join("testdata", "sample-"+m.name+".log")
				ok(t, "write sample", os.WriteFile(path, log, 0o644))
			}
		})
	}
}
