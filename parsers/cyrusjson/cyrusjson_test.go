package cyrusjson_test

import (
	"errors"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/mailevents/mailevents/event"
	"github.com/mailevents/mailevents/event/eventtest"
	"github.com/mailevents/mailevents/mapping"
	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/parsers/cyrusjson"
	"github.com/mailevents/mailevents/parsers/parsertest"
	"github.com/mailevents/mailevents/parsers/syslog"
	"github.com/mailevents/mailevents/source"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var testNow = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func grammar() *cyrusjson.Grammar {
	return cyrusjson.New(syslog.Parser{Now: func() time.Time { return testNow }, Location: time.UTC})
}

func newMappers() *mapping.Registry {
	m := new(mapping.Registry)
	m.RegisterGrammar(cyrusjson.Name, mapping.NewCyrusJSON(mapping.CyrusJSONOptions{}))
	return m
}

// TestGolden parses testdata/*.log: the notifications a real Cyrus 3.6.1
// sent in internal/cyrustest, the samples of Cyrus's documentation, and a
// file of edge cases (notifyd's syslog form, moves, virtual domains, own
// output, malformed lines).
func TestGolden(t *testing.T) {
	parsertest.Golden(t, "testdata", *update, []parsers.Parser{grammar()}, newMappers)
}

func TestParseOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		want       string // "record", "ignored", "unknown", "malformed"
	}{
		{"empty", "", "unknown"},
		{"prose", "Nov 28 09:30:46 mail cyrus/imap[1]: login: localhost [127.0.0.1] alice", "unknown"},
		{"other JSON", `{"MESSAGE":"x","SYSLOG_IDENTIFIER":"dovecot"}`, "unknown"},
		{"event without Cyrus keys", `{"event":"MessageNew","subject":"x"}`, "unknown"},
		{"own output", `{"event":"Login","uri":"imap://h","pid":1,"vnd.mailevents.id":"00000000000000000000000000000000"}`, "unknown"},
		{"not a Cyrus event", `{"event":"Click","uri":"imap://h","pid":1}`, "unknown"},
		{"array", `["event","uri"]`, "unknown"},
		{"truncated", `{"event":"Login","uri":"imap://h","pid":1`, "malformed"},
		{"trailing data", `{"event":"Login","uri":"imap://h","pid":1} {}`, "malformed"},
		{"duplicate key", `{"event":"Login","uri":"imap://h","pid":1,"pid":2}`, "malformed"},
		{"pid as string", `{"event":"Login","uri":"imap://h","pid":"1"}`, "malformed"},
		{"uri as number", `{"event":"Login","uri":7,"pid":1}`, "malformed"},
		{"fractional size", `{"event":"MessageNew","uri":"imap://h/INBOX/;UID=1","messageSize":1.5}`, "malformed"},
		{"bad timestamp", `{"event":"Login","uri":"imap://h","timestamp":"yesterday"}`, "malformed"},
		{"AclChange", `{"event":"AclChange","uri":"imap://h/INBOX","pid":1}`, "ignored"},
		{"MailboxModseq", `{"event":"MailboxModseq","uri":"imap://h/INBOX","user":""}`, "ignored"},
		{"ApplePushService", `{"event":"ApplePushService","user":"john","apsVersion":""}`, "ignored"},
		{"CalendarAlarm", `{"event":"CalendarAlarm","pid":1,"alarmTime":"20151119T063000Z"}`, "ignored"},
		{"Login", `{"event":"Login","uri":"imap://h","pid":1}`, "record"},
		{"copy", `{"event":"vnd.cmu.MessageCopy","uri":"imap://h/B","vnd.cmu.oldUidset":"1"}`, "record"},
		{"notifyd log", `Nov 28 09:30:46 mail notifyd[1]: EVENT, , , ,  "{"event":"Login","uri":"imap://h","pid":1}"`, "record"},
		{"notifyd other", `Nov 28 09:30:46 mail notifyd[1]: do_notify using method 'log'`, "unknown"},
		{"notifyd not an event", `Nov 28 09:30:46 mail cyrus/notifyd[1]: EVENT, , , ,  "{"a":1}"`, "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := grammar().Parse(source.Line{Text: []byte(tc.line)})
			if got := outcome(err); got != tc.want {
				t.Errorf("%s: got %s (%v), want %s", tc.line, got, err, tc.want)
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
	case errors.As(err, &se):
		return se.Kind.String()
	}
	return "other: " + err.Error()
}

// mapLine parses and maps one line and checks every event against the
// schema, as the pipeline's output would be.
func mapLine(t *testing.T, line string) []event.Event {
	t.Helper()
	rec, err := grammar().Parse(source.Line{Text: []byte(line)})
	if err != nil {
		t.Fatalf("parse %s: %v", line, err)
	}
	evs, err := mapping.NewCyrusJSON(mapping.CyrusJSONOptions{}).Map(nil, &rec)
	if err != nil {
		t.Fatalf("map %s: %v", line, err)
	}
	for i := range evs {
		e := evs[i].Clone()
		e.SetString(event.ID, strings.Repeat("0", 32))
		e.SetString(event.Server, "cyrus")
		if err := eventtest.CheckLine(e.AppendJSON(nil)); err != nil {
			t.Error(err)
		}
	}
	return evs
}

func TestMapping(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		want       []string // the events' JSON without the pipeline's parameters
	}{
		{"Cyrus 3 admin view to the owner's, unique id kept",
			`{"event":"MessageNew","timestamp":"2026-11-28T09:30:46.789Z","service":"lmtp","mailboxID":"jfv9","uri":"imap://cyrus.test/user/alice;UIDVALIDITY=17/;UID=2","pid":9,"user":"alice","vnd.cmu.sessionId":"s1"}`,
			[]string{`{"event":"MessageNew","timestamp":"2026-11-28T09:30:46.789+00:00","service":"lmtp","mailboxID":"imap://alice@cyrus.test/INBOX;UIDVALIDITY=17","uri":"imap://alice@cyrus.test/INBOX;UIDVALIDITY=17/;UID=2","uidset":"2","pid":9,"user":"alice","vnd.cmu.mailboxID":"jfv9","vnd.cmu.sessionId":"s1","vnd.mailevents.session":"s1"}`}},
		{"Cyrus 2.5 user with @ re-encoded",
			`{"event":"MailboxSubscribe","uri":"imap://john@example.org@imap.example.org/Archive","user":"john@example.org"}`,
			[]string{`{"event":"MailboxSubscribe","uri":"imap://john%40example.org@imap.example.org/Archive","user":"john@example.org"}`}},
		{"dot separator, sub-mailbox, \\Recent dropped",
			`{"event":"FlagsSet","uri":"imap://h/user.bob.Lists.Go;UIDVALIDITY=7","uidset":"1:3,5","flagNames":"\\Recent $Label1"}`,
			[]string{`{"event":"FlagsSet","uri":"imap://bob@h/Lists.Go;UIDVALIDITY=7","uidset":"1:3,5","flagNames":"$Label1"}`}},
		{"only \\Recent: no event",
			`{"event":"FlagsClear","uri":"imap://h/user/bob;UIDVALIDITY=7","uidset":"4","flagNames":"\\Recent"}`, nil},
		{"another user's mailbox stays in the viewer's namespace",
			`{"event":"MailboxCreate","uri":"imap://carol@h/user/alice/Shared;UIDVALIDITY=9","mailboxID":"u2"}`,
			[]string{`{"event":"MailboxCreate","mailboxID":"imap://carol@h/user/alice/Shared;UIDVALIDITY=9","uri":"imap://carol@h/user/alice/Shared;UIDVALIDITY=9","vnd.cmu.mailboxID":"u2"}`}},
		{"virtual domain",
			`{"event":"MailboxDelete","uri":"imap://h/user/alice/Work@example.org;UIDVALIDITY=9","mailboxID":"imap://h/user/alice/Work@example.org;UIDVALIDITY=9"}`,
			[]string{`{"event":"MailboxDelete","mailboxID":"imap://alice%40example.org@h/Work;UIDVALIDITY=9","uri":"imap://alice%40example.org@h/Work;UIDVALIDITY=9"}`}},
		{"move: the append only, Cyrus sends the source's MessageExpunge itself",
			`{"event":"vnd.cmu.MessageMove","timestamp":"2015-02-23T14:52:41.676+01:00","oldMailboxID":"imap://j@h/INBOX;UIDVALIDITY=1","uri":"imap://j@h/Archive;UIDVALIDITY=2","messages":2,"uidnext":4,"uidset":"3","pid":7,"user":"j","vnd.cmu.oldUidset":"3"}`,
			[]string{
				`{"event":"MessageAppend","timestamp":"2015-02-23T14:52:41.676+01:00","oldMailboxID":"imap://j@h/INBOX;UIDVALIDITY=1","uri":"imap://j@h/Archive;UIDVALIDITY=2","messages":2,"uidnext":4,"uidset":"3","pid":7,"user":"j","vnd.cmu.oldUidset":"3"}`}},
		{"3.6 APPEND: system flag in lower case",
			`{"event":"MessageAppend","uri":"imap://h/user/alice;UIDVALIDITY=1/;UID=1","flagNames":"\\flagged $Important","user":"alice"}`,
			[]string{`{"event":"MessageAppend","uri":"imap://alice@h/INBOX;UIDVALIDITY=1/;UID=1","uidset":"1","flagNames":"\\Flagged $Important","user":"alice"}`}},
		{"3.6 admin creating a user's INBOX: user is the owner, admin the session's",
			`{"event":"MailboxCreate","uri":"imap://h/user/alice;UIDVALIDITY=1","mailboxID":"u1","user":"cyrus"}`,
			[]string{`{"event":"MailboxCreate","mailboxID":"imap://alice@h/INBOX;UIDVALIDITY=1","uri":"imap://alice@h/INBOX;UIDVALIDITY=1","user":"alice","admin":"cyrus","vnd.cmu.mailboxID":"u1"}`}},
		{"3.6 cyr_expire: empty user is the owner",
			`{"event":"MessageExpire","service":"cyr_expire","uri":"imap://h/user/alice/Old;UIDVALIDITY=1","uidset":"1","user":""}`,
			[]string{`{"event":"MessageExpire","service":"cyr_expire","uri":"imap://alice@h/Old;UIDVALIDITY=1","uidset":"1","user":"alice"}`}},
		{"copy",
			`{"event":"vnd.cmu.MessageCopy","oldMailboxID":"imap://j@h/Sent;UIDVALIDITY=1","uri":"imap://j@h/Archive;UIDVALIDITY=2","uidset":"4","vnd.cmu.oldUidset":"2"}`,
			[]string{`{"event":"MessageAppend","oldMailboxID":"imap://j@h/Sent;UIDVALIDITY=1","uri":"imap://j@h/Archive;UIDVALIDITY=2","uidset":"4","vnd.cmu.oldUidset":"2"}`}},
		{"quota numbers, -1 unlimited",
			`{"diskQuota":2,"diskUsed":2,"event":"QuotaExceed","maxMessages":-1,"messages":3,"uri":"imap://j@h/INBOX"}`,
			[]string{`{"event":"QuotaExceed","uri":"imap://j@h/INBOX","diskQuota":2,"diskUsed":2,"maxMessages":-1,"messages":3}`}},
		{"messageContent object and headers move under vnd.cmu.",
			`{"event":"MessageNew","uri":"imap://j@h/INBOX;UIDVALIDITY=1/;UID=6","messageContent":{"6":"x"},"messageHeaders":{"6":{}}}`,
			[]string{`{"event":"MessageNew","uri":"imap://j@h/INBOX;UIDVALIDITY=1/;UID=6","uidset":"6","vnd.cmu.messageContent":{"6":"x"},"vnd.cmu.messageHeaders":{"6":{}}}`}},
		{"messageContent string stays",
			`{"event":"MessageNew","uri":"imap://j@h/INBOX;UIDVALIDITY=1/;UID=6","messageContent":"Subject: x\r\n\r\nbody"}`,
			[]string{`{"event":"MessageNew","uri":"imap://j@h/INBOX;UIDVALIDITY=1/;UID=6","uidset":"6","messageContent":"Subject: x\r\n\r\nbody"}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs := mapLine(t, tc.line)
			if len(evs) != len(tc.want) {
				t.Fatalf("got %d events, want %d", len(evs), len(tc.want))
			}
			for i := range evs {
				if got := string(evs[i].AppendJSON(nil)); got != tc.want[i] {
					t.Errorf("event %d:\n got %s\nwant %s", i, got, tc.want[i])
				}
			}
		})
	}
}

func TestMappingRejects(t *testing.T) {
	for _, line := range []string{
		`{"event":"MessageExpunge","uri":"imap://h/INBOX","uidset":"0"}`,
		`{"event":"Login","uri":"not a url","pid":1}`,
	} {
		rec, err := grammar().Parse(source.Line{Text: []byte(line)})
		if err != nil {
			t.Fatalf("parse %s: %v", line, err)
		}
		_, err = mapping.NewCyrusJSON(mapping.CyrusJSONOptions{}).Map(nil, &rec)
		var se *parsers.SyntaxError
		if !errors.As(err, &se) || se.Kind != parsers.Malformed {
			t.Errorf("%s: got %v, want a malformed line", line, err)
		}
	}
}
