package enrich

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailevents/mailevents/event"
)

// fakeDoveadm writes a script standing in for doveadm: it logs its
// arguments and answers from a table, or fails for unknown mailboxes.
func fakeDoveadm(t *testing.T, body string) (cmd []string, argLog string) {
	t.Helper()
	dir := t.TempDir()
	argLog = filepath.Join(dir, "args")
	script := filepath.Join(dir, "doveadm")
	src := "#!/bin/sh\necho \"$@\" >> " + argLog + "\n" + body
	if err := os.WriteFile(script, []byte(src), 0o755); err != nil {
		t.Fatal(err)
	}
	return []string{script, "-c", "/etc/dovecot/test.conf"}, argLog
}

func newMessageEvent(t *testing.T, user, box string) event.Event {
	e := event.New(event.MessageNew)
	e.SetURL(event.URI, event.URL{User: user, Host: "mail", Mailbox: box, UID: 7})
	e.SetURL(event.OldMailboxID, event.URL{User: user, Host: "mail", Mailbox: "Gone"})
	return e
}

func TestUIDValidityFillsAndCaches(t *testing.T) {
	cmd, argLog := fakeDoveadm(t, `
for last; do :; done
case "$last" in
INBOX) echo "uidvalidity=1424683682" ;;
"Archive/2024 Q1") echo "uidvalidity=77" ;;
*) echo "Error: Mailbox $last doesn't exist" >&2; exit 68 ;;
esac
`)
	u := &UIDValidity{Doveadm: cmd}
	for range 3 {
		e := newMessageEvent(t, "alice@example.org", "INBOX")
		u.Enrich(context.Background(), &e)
		if got, want := e.GetString(event.URI), "imap://alice%40example.org@mail/INBOX;UIDVALIDITY=1424683682/;UID=7"; got != want {
			t.Fatalf("uri = %s, want %s", got, want)
		}
		// A mailbox doveadm does not know is left as it was, not guessed.
		if got := e.GetString(event.OldMailboxID); strings.Contains(got, "UIDVALIDITY") {
			t.Fatalf("oldMailboxID = %s, want no UIDVALIDITY", got)
		}
		if err := e.Validate(); err != nil || e.Gaps() != nil {
			t.Fatalf("Validate %v, gaps %v", err, e.Gaps())
		}
	}
	if u.Runs() != 2 {
		t.Errorf("doveadm ran %d times for 3 events on 2 mailboxes, want 2 (answers and failures are cached)", u.Runs())
	}
	e := newMessageEvent(t, "bob", "Archive/2024 Q1")
	u.Enrich(context.Background(), &e)
	if !strings.Contains(e.GetString(event.URI), "Archive/2024%20Q1;UIDVALIDITY=77/;UID=7") {
		t.Errorf("uri = %s", e.GetString(event.URI))
	}
	args, err := os.ReadFile(argLog)
	if err != nil {
		t.Fatal(err)
	}
	if first := strings.SplitN(string(args), "\n", 2)[0]; first != "-c /etc/dovecot/test.conf -f flow mailbox status -u alice@example.org uidvalidity INBOX" {
		t.Errorf("doveadm arguments: %q", first)
	}
}

func TestUIDValidityTimesOut(t *testing.T) {
	cmd, _ := fakeDoveadm(t, "exec sleep 30\n")
	u := &UIDValidity{Doveadm: cmd, Timeout: 200 * time.Millisecond}
	e := newMessageEvent(t, "alice", "INBOX")
	start := time.Now()
	u.Enrich(context.Background(), &e)
	if time.Since(start) > 10*time.Second {
		t.Fatal("a stuck doveadm stalled enrichment past its timeout")
	}
	if strings.Contains(e.GetString(event.URI), "UIDVALIDITY") {
		t.Fatal("a timed-out lookup invented a UIDVALIDITY")
	}
}

func TestUIDValidityIgnoresWhatItCannotUse(t *testing.T) {
	cmd, _ := fakeDoveadm(t, "echo uidvalidity=5\n")
	u := &UIDValidity{Doveadm: cmd}
	login := event.New(event.Login)
	login.SetURL(event.URI, event.URL{Host: "mail"}) // no mailbox
	known := event.New(event.MessageNew)
	known.SetURL(event.URI, event.URL{User: "a", Host: "mail", Mailbox: "INBOX", UIDValidity: 9})
	for _, e := range []*event.Event{&login, &known} {
		before := string(e.AppendJSON(nil))
		u.Enrich(context.Background(), e)
		if after := string(e.AppendJSON(nil)); after != before {
			t.Errorf("changed %s into %s", before, after)
		}
	}
	if u.Runs() != 0 {
		t.Errorf("doveadm ran %d times, want 0", u.Runs())
	}
}

// TestFlowValue covers the output of a real doveadm 2.3 `-f flow mailbox
// status … uidvalidity MASK`: the name comes first, and a mask with '%' or
// '*' can list several mailboxes.
func TestFlowValue(t *testing.T) {
	for _, c := range []struct {
		name, out, mailbox, want string
		ok                       bool
	}{
		{"2.3 with name", "INBOX uidvalidity=1795857117\n", "INBOX", "1795857117", true},
		{"space in name", "My Folder uidvalidity=12\n", "My Folder", "12", true},
		{"utf-8 name", "Entwürfe uidvalidity=13\n", "Entwürfe", "13", true},
		{"mask matches more", "100 uidvalidity=1\n100% uidvalidity=2\n100x uidvalidity=3\n", "100%", "2", true},
		{"mask matches others only", "100 uidvalidity=1\n100x uidvalidity=3\n", "100%", "", false},
		{"another mailbox only", "100x uidvalidity=3\n", "100%", "", false},
		{"without name", "uidvalidity=5\n", "INBOX", "5", true},
		{"empty", "", "INBOX", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := flowValue(c.out, c.mailbox)
			if got != c.want || ok != c.ok {
				t.Errorf("flowValue(%q, %q) = %q, %v; want %q, %v", c.out, c.mailbox, got, ok, c.want, c.ok)
			}
		})
	}
}
