package dovecotpush_test

import (
	"errors"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/mailevents/mailevents/mapping"
	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/parsers/dovecot"
	"github.com/mailevents/mailevents/parsers/dovecotpush"
	"github.com/mailevents/mailevents/parsers/parsertest"
	"github.com/mailevents/mailevents/parsers/syslog"
	"github.com/mailevents/mailevents/source"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ (and, in TestEndToEnd, the captured push file)")

var testNow = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// grammars are the Dovecot grammars in the order the binary registers them.
func grammars() []parsers.Parser {
	return []parsers.Parser{
		dovecot.New(syslog.Parser{Now: func() time.Time { return testNow }, Location: time.UTC}),
		dovecotpush.New(),
	}
}

func newMappers() *mapping.Registry {
	m := new(mapping.Registry)
	m.Register("dovecot", mapping.NewDovecot(mapping.DovecotOptions{}))
	m.RegisterGrammar("dovecot-push", mapping.NewDovecotPush(mapping.DovecotPushOptions{}))
	return m
}

// TestGolden parses testdata/*.log: the push file a real Dovecot 2.3.19 wrote
// in TestEndToEnd, and a file mixing push lines with Dovecot log lines.
func TestGolden(t *testing.T) {
	parsertest.Golden(t, "testdata", *update, grammars(), newMappers)
}

const head = `{"mailevents":"dovecot-push/1","time":"2026-11-28T09:09:28Z","time_digits":0,`

func parse(text string) (parsers.Record, error) {
	return dovecotpush.New().Parse(source.Line{Text: []byte(text)})
}

func TestParseOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		want       string // "record", "ignored", "unknown", "malformed"
	}{
		{"log line", "Nov 28 09:09:28 imap(alice)<5084><AnGt>: Info: Mailbox created: Projects", "unknown"},
		{"other JSON", `{"event":"MessageNew","uri":"imap://x/INBOX"}`, "unknown"},
		{"other JSON mentioning the key", `{"subject":"\"mailevents\"","a":1}`, "unknown"},
		{"other marker", `{"mailevents":"something-else"}`, "unknown"},
		{"empty", "", "unknown"},
		{"truncated JSON", head + `"event":"MessageNew","user":"alice","mailb`, "malformed"},
		{"future version", `{"mailevents":"dovecot-push/2","event":"MessageNew"}`, "malformed"},
		{"no event", head + `"user":"alice","mailbox":"INBOX"}`, "malformed"},
		{"no user", head + `"event":"MailboxCreate","mailbox":"INBOX"}`, "malformed"},
		{"no mailbox", head + `"event":"MailboxCreate","user":"alice"}`, "malformed"},
		{"message without uid", head + `"event":"MessageExpunge","user":"alice","mailbox":"INBOX"}`, "malformed"},
		{"negative uid", head + `"event":"MessageExpunge","user":"alice","mailbox":"INBOX","uid":-1}`, "malformed"},
		{"fractional uid", head + `"event":"MessageExpunge","user":"alice","mailbox":"INBOX","uid":1.5}`, "malformed"},
		{"uid too big", head + `"event":"MessageExpunge","user":"alice","mailbox":"INBOX","uid":4294967296}`, "malformed"},
		{"uid as string", head + `"event":"MessageExpunge","user":"alice","mailbox":"INBOX","uid":"1"}`, "malformed"},
		{"bad time", `{"mailevents":"dovecot-push/1","time":"yesterday","event":"MailboxCreate","user":"alice","mailbox":"X"}`, "malformed"},
		{"flag with a space", head + `"event":"FlagsSet","user":"alice","mailbox":"INBOX","uid":1,"flags":["a b"]}`, "malformed"},
		{"rename without old name", head + `"event":"MailboxRename","user":"alice","mailbox":"B"}`, "malformed"},
		{"no-op FlagsClear", head + `"event":"FlagsClear","user":"alice","mailbox":"INBOX","uid":1,"flags":[],"keywords":[],"flags_old":["\\Recent"]}`, "ignored"},
		{"only \\Recent", head + `"event":"FlagsSet","user":"alice","mailbox":"INBOX","uid":1,"flags":["\\Recent"]}`, "ignored"},
		{"subscribe", head + `"event":"MailboxSubscribe","user":"alice","service":"imap","mailbox":"Projects"}`, "record"},
		{"leading space", " " + head + `"event":"MailboxDelete","user":"alice","mailbox":"X"}`, "record"},
		{"unknown future event", head + `"event":"MessageSnooze","user":"alice","mailbox":"X"}`, "record"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(tc.line)
			if got := outcome(err); got != tc.want {
				t.Errorf("outcome %s (%v), want %s", got, err, tc.want)
			}
		})
	}
}

func outcome(err error) string {
	var se *parsers.SyntaxError
	switch {
	case err == nil:
		return "record"
	case errors.Is(err, parsers.ErrIgnored):
		return "ignored"
	case errors.As(err, &se) && se.Kind == parsers.Unknown:
		return "unknown"
	case errors.As(err, &se) && se.Kind == parsers.Malformed:
		return "malformed"
	}
	return "other: " + err.Error()
}

// TestMapping checks each native event's RFC 5423 event, in both FlagsSet
// modes.
func TestMapping(t *testing.T) {
	const msg = `"user":"alice","service":"imap","session":"S1","mailbox":"Entwürfe","uid":7,"uid_validity":1795856968`
	for _, tc := range []struct {
		line  string
		plain bool
		want  string // the events' JSON without the pipeline's vnd.mailevents.id/source/server
	}{
		{head + `"event":"MessageAppend",` + msg + `,"flags":["\\Flagged","\\Recent"],"keywords":["project-x"],"message_id":"<p1@x>","from":"A <a@x>","to":"b@x","subject":"Hi"}`, false,
			`{"event":"MessageAppend","timestamp":"2026-11-28T09:09:28+00:00","service":"imap","uri":"imap://alice@localhost/Entw%C3%BCrfe;UIDVALIDITY=1795856968/;UID=7","uidset":"7","flagNames":"\\Flagged project-x","user":"alice","vnd.mailevents.from":"A <a@x>","vnd.mailevents.msgid":"<p1@x>","vnd.mailevents.session":"S1","vnd.mailevents.subject":"Hi","vnd.mailevents.to":"b@x"}`},
		{head + `"event":"MessageNew",` + strings.Replace(msg, `"imap"`, `"lmtp"`, 1) + `,"flags":[],"keywords":[]}`, false,
			`{"event":"MessageNew","timestamp":"2026-11-28T09:09:28+00:00","service":"lmtp","uri":"imap://alice@localhost/Entw%C3%BCrfe;UIDVALIDITY=1795856968/;UID=7","uidset":"7","user":"alice","vnd.mailevents.session":"S1"}`},
		{head + `"event":"FlagsSet",` + msg + `,"flags":["\\Seen"],"keywords":[]}`, false, ``},
		{head + `"event":"FlagsSet",` + msg + `,"flags":["\\Seen","\\Answered"],"keywords":["$label1"]}`, false,
			`{"event":"FlagsSet","timestamp":"2026-11-28T09:09:28+00:00","service":"imap","uri":"imap://alice@localhost/Entw%C3%BCrfe;UIDVALIDITY=1795856968/;UID=7","uidset":"7","flagNames":"$label1 \\Answered","user":"alice","vnd.mailevents.session":"S1"}`},
		{head + `"event":"FlagsSet",` + msg + `,"flags":["\\Seen"],"keywords":[]}`, true,
			`{"event":"FlagsSet","timestamp":"2026-11-28T09:09:28+00:00","service":"imap","uri":"imap://alice@localhost/Entw%C3%BCrfe;UIDVALIDITY=1795856968/;UID=7","uidset":"7","flagNames":"\\Seen","user":"alice","vnd.mailevents.session":"S1"}`},
		{head + `"event":"MessageRead",` + msg + `}`, true, ``},
		{head + `"event":"MessageTrash",` + msg + `}`, false,
			`{"event":"MessageTrash","timestamp":"2026-11-28T09:09:28+00:00","service":"imap","uri":"imap://alice@localhost/Entw%C3%BCrfe;UIDVALIDITY=1795856968/;UID=7","uidset":"7","user":"alice","vnd.mailevents.session":"S1"}`},
		{head + `"event":"FlagsClear",` + msg + `,"flags":["\\Deleted"],"keywords":[],"flags_old":["\\Deleted","\\Recent"]}`, false,
			`{"event":"FlagsClear","timestamp":"2026-11-28T09:09:28+00:00","service":"imap","uri":"imap://alice@localhost/Entw%C3%BCrfe;UIDVALIDITY=1795856968/;UID=7","uidset":"7","flagNames":"\\Deleted","user":"alice","vnd.mailevents.session":"S1"}`},
		{head + `"event":"MailboxCreate","user":"alice","service":"imap","mailbox":"A/B","uid_validity":5}`, false,
			`{"event":"MailboxCreate","timestamp":"2026-11-28T09:09:28+00:00","service":"imap","mailboxID":"imap://alice@localhost/A/B;UIDVALIDITY=5","uri":"imap://alice@localhost/A/B;UIDVALIDITY=5","user":"alice"}`},
		{head + `"event":"MailboxUnsubscribe","user":"alice","service":"imap","mailbox":"A"}`, false,
			`{"event":"MailboxUnSubscribe","timestamp":"2026-11-28T09:09:28+00:00","service":"imap","mailboxID":"imap://alice@localhost/A","uri":"imap://alice@localhost/A","user":"alice"}`},
		{head + `"event":"MailboxRename","user":"alice","service":"imap","mailbox":"B","mailbox_old":"A;1","uid_validity":9}`, false,
			`{"event":"MailboxRename","timestamp":"2026-11-28T09:09:28+00:00","service":"imap","oldMailboxID":"imap://alice@localhost/A%3B1","mailboxID":"imap://alice@localhost/B;UIDVALIDITY=9","uri":"imap://alice@localhost/B;UIDVALIDITY=9","user":"alice"}`},
	} {
		rec, err := parse(tc.line)
		if err != nil {
			t.Fatalf("%s: %v", tc.line, err)
		}
		evs, err := mapping.NewDovecotPush(mapping.DovecotPushOptions{PlainFlagsSet: tc.plain}).Map(nil, &rec)
		if err != nil {
			t.Fatalf("%s: map: %v", tc.line, err)
		}
		var got []string
		for i := range evs {
			if err := evs[i].Validate(); err != nil {
				t.Errorf("%s: %v", tc.line, err)
			}
			got = append(got, string(evs[i].AppendJSON(nil)))
		}
		if strings.Join(got, "\n") != tc.want {
			t.Errorf("%s (plain=%v):\n got %s\nwant %s", tc.line, tc.plain, strings.Join(got, "\n"), tc.want)
		}
	}
}

func TestUnknownEventUnmapped(t *testing.T) {
	rec, err := parse(head + `"event":"MessageSnooze","user":"alice","mailbox":"X"}`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mapping.NewDovecotPush(mapping.DovecotPushOptions{}).Map(nil, &rec); !errors.Is(err, mapping.ErrUnmapped) {
		t.Errorf("got %v, want ErrUnmapped", err)
	}
}

// TestDetection: auto-detection gives log lines to the log grammar and push
// lines to this one, whichever came first.
func TestDetection(t *testing.T) {
	d := parsers.NewDetector(grammars())
	for _, tc := range []struct{ line, want string }{
		{head + `"event":"MailboxDelete","user":"alice","mailbox":"X"}`, "dovecot-push"},
		{"Nov 28 09:09:28 imap(alice)<5084><AnGt>: Info: Mailbox created: Projects", "dovecot"},
		{head + `"event":"MailboxDelete","user":"alice","mailbox":"X"}`, "dovecot-push"},
	} {
		p, _, err := d.Parse(source.Line{Text: []byte(tc.line)})
		if err != nil || p == nil || p.Name() != tc.want {
			t.Errorf("%q: grammar %v, err %v; want %s", tc.line, p, err, tc.want)
		}
	}
}
