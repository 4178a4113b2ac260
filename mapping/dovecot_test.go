package mapping

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mailevents/mailevents/event"
	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/parsers/dovecot"
	"github.com/mailevents/mailevents/parsers/syslog"
	"github.com/mailevents/mailevents/source"
)

var dcNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// dcRecord parses a line with the real grammar, so the tests pin the
// mapping of what the grammar actually produces.
func dcRecord(t *testing.T, line string) parsers.Record {
	t.Helper()
	g := dovecot.New(syslog.Parser{Now: func() time.Time { return dcNow }, Location: time.UTC})
	rec, err := g.Parse(source.Line{Text: []byte(line)})
	if err != nil {
		t.Fatalf("Parse(%q): %v", line, err)
	}
	return rec
}

// dcSummary is the part of an event the tests compare: its type and the
// parameters named in want.
type dcSummary struct {
	Type   event.Type
	Params map[event.Param]string
}

func dcSummarise(e event.Event, keys []event.Param) dcSummary {
	s := dcSummary{Type: e.Type, Params: map[event.Param]string{}}
	for _, k := range keys {
		if v, ok := e.Get(k); ok {
			switch v.Kind() {
			case event.KindString:
				s.Params[k] = v.Str()
			case event.KindInt:
				s.Params[k] = strconv.FormatInt(v.Int(), 10)
			case event.KindBool:
				s.Params[k] = map[bool]string{true: "true", false: "false"}[v.Bool()]
			}
		}
	}
	return s
}

const (
	dcLoginLine  = "Feb 20 09:00:00 mx1 dovecot: imap-login: Login: user=<alice@example.org>, method=PLAIN, rip=192.0.2.43, rport=50412, lip=192.0.2.1, lport=993, mpid=4101, TLS, session=<S1>"
	dcIMAPPrefix = "Feb 20 09:00:01 mx1 dovecot: imap(alice@example.org)<4101><S1>: "
	dcLMTPPrefix = "Feb 20 09:00:02 mx1 dovecot: lmtp(alice@example.org)<4200><L1>: "
)

var dcAllKeys = []event.Param{
	event.URI, event.User, event.Service, event.PID, event.ClientIP, event.ClientPort,
	event.ServerDomain, event.ServerPort, event.UIDSetParam, event.FlagNames, event.MessageSize,
	event.MailboxID, event.OldMailboxID, event.Session, dcMethod, dcTLS, dcReason,
	dcDisconnect, dcBytesIn, dcBytesOut, dcMsgID, dcFrom, dcTruncated, dcFlagsState,
}

func TestDovecotMapping(t *testing.T) {
	type P = map[event.Param]string
	tests := []struct {
		name  string
		opts  DovecotOptions
		lines []string // all mapped in order; only the last line's events are compared
		want  []dcSummary
		err   bool // the last line is ErrUnmapped
	}{
		{name: "login", lines: []string{dcLoginLine}, want: []dcSummary{{event.Login, P{
			event.URI: "imap://mx1", event.User: "alice@example.org", event.Service: "imap", event.PID: "4101",
			event.ClientIP: "192.0.2.43", event.ClientPort: "50412", event.ServerDomain: "192.0.2.1", event.ServerPort: "993",
			event.Session: "S1", dcMethod: "PLAIN", dcTLS: "true"}}}},
		{name: "login without host uses ServerHost", opts: DovecotOptions{ServerHost: "imap.example.org"},
			lines: []string{"Feb 20 09:00:00 imap-login: Info: Login: user=<d>, method=PLAIN, rip=not-an-ip, lip=192.0.2.1, mpid=7"},
			want: []dcSummary{{event.Login, P{event.URI: "imap://imap.example.org", event.User: "d", event.PID: "7",
				event.ServerDomain: "192.0.2.1", dcMethod: "PLAIN", dcTLS: "false", event.Service: "imap"}}}},
		{name: "login failed", lines: []string{"Jul 02 13:49:31 h dovecot[442]: pop3-login: Aborted login (auth failed, 1 attempts in 17 secs): user=<test>, method=PLAIN, rip=192.51.100.13, lip=203.0.113.17, session=<Y>"},
			want: []dcSummary{{event.LoginFailed, P{event.URI: "imap://h", event.User: "test", event.Service: "pop3", event.ClientIP: "192.51.100.13",
				event.ServerDomain: "203.0.113.17", event.Session: "Y", dcMethod: "PLAIN", dcReason: "auth failed, 1 attempts in 17 secs"}}}},
		{name: "session correlation and logout", lines: []string{dcLoginLine, dcIMAPPrefix + "Disconnected: Logged out in=34 out=534+12"},
			want: []dcSummary{{event.Logout, P{event.URI: "imap://mx1", event.User: "alice@example.org", event.Service: "imap", event.PID: "4101",
				event.ClientIP: "192.0.2.43", event.ClientPort: "50412", event.ServerDomain: "192.0.2.1", event.ServerPort: "993",
				event.Session: "S1", dcMethod: "PLAIN", dcReason: "Logged out", dcDisconnect: "graceful", dcBytesIn: "34", dcBytesOut: "534"}}}},
		{name: "1.x bytes", lines: []string{"Oct 5 10:22:28 h dovecot: imap(u): Disconnected: Logged out bytes=88/1121"},
			want: []dcSummary{{event.Logout, P{event.URI: "imap://h", event.User: "u", event.Service: "imap", dcReason: "Logged out",
				dcDisconnect: "graceful", dcBytesIn: "88", dcBytesOut: "1121"}}}},
		{name: "append with flags", lines: []string{dcLoginLine, dcIMAPPrefix + `save: box=Sent, uid=17, msgid=<d@x>, size=2048, vsize=2100, flags=(\Seen \Recent)`},
			want: []dcSummary{{event.MessageAppend, P{event.URI: "imap://alice%40example.org@mx1/Sent/;UID=17", event.UIDSetParam: "17",
				event.FlagNames: `\Seen`, event.MessageSize: "2100", dcMsgID: "<d@x>", event.User: "alice@example.org", event.Service: "imap",
				event.PID: "4101", event.Session: "S1", event.ClientIP: "192.0.2.43", event.ClientPort: "50412",
				event.ServerDomain: "192.0.2.1", event.ServerPort: "993", dcMethod: "PLAIN"}}}},
		{name: "doveadm save is admincli append without uid", lines: []string{"Feb 11 18:36:11 ixion dovecot: doveadm(a): save: box=INBOX, uid=error, size=10"},
			want: []dcSummary{{event.MessageAppend, P{event.URI: "imap://a@ixion/INBOX", event.User: "a", event.Service: "admincli", event.MessageSize: "10"}}}},
		{name: "copy", lines: []string{dcIMAPPrefix + "copy from INBOX: box=Trash, uid=9, size=5"},
			want: []dcSummary{{event.MessageAppend, P{event.URI: "imap://alice%40example.org@mx1/Trash/;UID=9", event.OldMailboxID: "imap://alice%40example.org@mx1/INBOX",
				event.UIDSetParam: "9", event.MessageSize: "5", event.User: "alice@example.org", event.Service: "imap", event.PID: "4101", event.Session: "S1"}}}},
		{name: "truncated from", lines: []string{dcIMAPPrefix + "expunge: box=INBOX, uid=1, msgid=<x@y>, from=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA..."},
			want: []dcSummary{{event.MessageExpunge, P{event.URI: "imap://alice%40example.org@mx1/INBOX/;UID=1", event.UIDSetParam: "1", dcMsgID: "<x@y>",
				dcFrom: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA...", dcTruncated: "from",
				event.User: "alice@example.org", event.Service: "imap", event.PID: "4101", event.Session: "S1"}}}},
		{name: "autoexpunge", lines: []string{dcIMAPPrefix + "autoexpunge: box=Trash, uid=3"},
			want: []dcSummary{{event.MessageExpire, P{event.URI: "imap://alice%40example.org@mx1/Trash/;UID=3", event.UIDSetParam: "3",
				event.User: "alice@example.org", event.Service: "imap", event.PID: "4101", event.Session: "S1"}}}},
		{name: "delete is MessageTrash", lines: []string{dcIMAPPrefix + "delete: box=INBOX, uid=3"},
			want: []dcSummary{{event.MessageTrash, P{event.URI: "imap://alice%40example.org@mx1/INBOX/;UID=3", event.UIDSetParam: "3",
				event.User: "alice@example.org", event.Service: "imap", event.PID: "4101", event.Session: "S1"}}}},
		{name: "delete plain", opts: DovecotOptions{PlainFlagsSet: true}, lines: []string{dcIMAPPrefix + "delete: box=INBOX, uid=3"},
			want: []dcSummary{{event.FlagsSet, P{event.URI: "imap://alice%40example.org@mx1/INBOX/;UID=3", event.UIDSetParam: "3", event.FlagNames: `\Deleted`,
				event.User: "alice@example.org", event.Service: "imap", event.PID: "4101", event.Session: "S1"}}}},
		{name: "undelete", lines: []string{dcIMAPPrefix + "undelete: box=INBOX, uid=3"},
			want: []dcSummary{{event.FlagsClear, P{event.URI: "imap://alice%40example.org@mx1/INBOX/;UID=3", event.UIDSetParam: "3", event.FlagNames: `\Deleted`,
				event.User: "alice@example.org", event.Service: "imap", event.PID: "4101", event.Session: "S1"}}}},
		{name: "flag_change unknown before", lines: []string{dcIMAPPrefix + `flag_change: box=INBOX, uid=5, flags=(\Seen NonJunk \Recent)`},
			want: []dcSummary{{event.FlagsSet, P{event.URI: "imap://alice%40example.org@mx1/INBOX/;UID=5", event.UIDSetParam: "5", event.FlagNames: `NonJunk \Seen`,
				dcFlagsState: "unknown-before", event.User: "alice@example.org", event.Service: "imap", event.PID: "4101", event.Session: "S1"}}}},
		{name: "flag_change diff read trash set clear", lines: []string{
			dcIMAPPrefix + `save: box=INBOX, uid=5, flags=(\Flagged $Work)`,
			dcIMAPPrefix + `flag_change: box=INBOX, uid=5, flags=(\Seen \Deleted $Work Junk)`},
			want: []dcSummary{
				{event.MessageRead, P{event.URI: "imap://alice%40example.org@mx1/INBOX/;UID=5", event.UIDSetParam: "5", event.User: "alice@example.org", event.Service: "imap", event.PID: "4101", event.Session: "S1"}},
				{event.MessageTrash, P{event.URI: "imap://alice%40example.org@mx1/INBOX/;UID=5", event.UIDSetParam: "5", event.User: "alice@example.org", event.Service: "imap", event.PID: "4101", event.Session: "S1"}},
				{event.FlagsSet, P{event.URI: "imap://alice%40example.org@mx1/INBOX/;UID=5", event.UIDSetParam: "5", event.FlagNames: "Junk", event.User: "alice@example.org", event.Service: "imap", event.PID: "4101", event.Session: "S1"}},
				{event.FlagsClear, P{event.URI: "imap://alice%40example.org@mx1/INBOX/;UID=5", event.UIDSetParam: "5", event.FlagNames: `\Flagged`, event.User: "alice@example.org", event.Service: "imap", event.PID: "4101", event.Session: "S1"}},
			}},
		{name: "flag_change diff plain", opts: DovecotOptions{PlainFlagsSet: true}, lines: []string{
			dcIMAPPrefix + `save: box=INBOX, uid=5, flags=()`,
			dcIMAPPrefix + `flag_change: box=INBOX, uid=5, flags=(\Seen \Deleted)`},
			want: []dcSummary{{event.FlagsSet, P{event.URI: "imap://alice%40example.org@mx1/INBOX/;UID=5", event.UIDSetParam: "5", event.FlagNames: `\Deleted \Seen`,
				event.User: "alice@example.org", event.Service: "imap", event.PID: "4101", event.Session: "S1"}}}},
		{name: "flag_change only recent is no event", lines: []string{
			dcIMAPPrefix + `flag_change: box=INBOX, uid=5, flags=(\Seen)`,
			dcIMAPPrefix + `flag_change: box=INBOX, uid=5, flags=(\Seen \Recent)`}, want: nil},
		{name: "expunge forgets flags", lines: []string{
			dcIMAPPrefix + `flag_change: box=INBOX, uid=5, flags=(\Seen)`,
			dcIMAPPrefix + `expunge: box=INBOX, uid=5`,
			dcIMAPPrefix + `flag_change: box=INBOX, uid=5, flags=(\Seen)`},
			want: []dcSummary{{event.FlagsSet, P{event.URI: "imap://alice%40example.org@mx1/INBOX/;UID=5", event.UIDSetParam: "5", event.FlagNames: `\Seen`,
				dcFlagsState: "unknown-before", event.User: "alice@example.org", event.Service: "imap", event.PID: "4101", event.Session: "S1"}}}},
		{name: "flag_change without flags field", lines: []string{dcIMAPPrefix + "flag_change: box=INBOX, uid=5"}, err: true},
		{name: "lmtp save then saved: one event", lines: []string{
			dcLMTPPrefix + "save: box=INBOX, uid=43, msgid=<n@x>, size=3100",
			dcLMTPPrefix + "msgid=<n@x>: saved mail to INBOX"}, want: nil},
		{name: "lmtp saved then save: one event", lines: []string{
			dcLMTPPrefix + "msgid=<n@x>: saved mail to INBOX",
			dcLMTPPrefix + "save: box=INBOX, uid=43, msgid=<n@x>, size=3100"}, want: nil},
		{name: "lmtp save is MessageNew", lines: []string{dcLMTPPrefix + "save: box=INBOX, uid=43, msgid=<n@x>, size=3100"},
			want: []dcSummary{{event.MessageNew, P{event.URI: "imap://alice%40example.org@mx1/INBOX/;UID=43", event.UIDSetParam: "43", event.MessageSize: "3100",
				dcMsgID: "<n@x>", event.User: "alice@example.org", event.Service: "lmtp", event.PID: "4200", event.Session: "L1"}}}},
		{name: "saved mail alone, repeated", lines: []string{
			dcLMTPPrefix + "msgid=<a@x>: saved mail to INBOX",
			dcLMTPPrefix + "msgid=<b@x>: saved mail to INBOX"},
			want: []dcSummary{{event.MessageNew, P{event.URI: "imap://alice%40example.org@mx1/INBOX", dcMsgID: "<b@x>",
				event.User: "alice@example.org", event.Service: "lmtp", event.PID: "4200", event.Session: "L1"}}}},
		{name: "quota", lines: []string{dcLMTPPrefix + "msgid=<q@x>: save failed to INBOX: Quota exceeded (mailbox for user is full)"},
			want: []dcSummary{{event.QuotaExceed, P{event.URI: "imap://alice%40example.org@mx1/INBOX", dcMsgID: "<q@x>", dcReason: "Quota exceeded (mailbox for user is full)",
				event.User: "alice@example.org", event.Service: "lmtp", event.PID: "4200", event.Session: "L1"}}}},
		{name: "other delivery failure", lines: []string{dcLMTPPrefix + "msgid=<q@x>: save failed to open mailbox X: Mailbox doesn't exist"}, err: true},
		{name: "mailbox rename", lines: []string{dcIMAPPrefix + "Mailbox renamed: A -> B/C"},
			want: []dcSummary{{event.MailboxRename, P{event.URI: "imap://alice%40example.org@mx1/B/C", event.MailboxID: "imap://alice%40example.org@mx1/B/C",
				event.OldMailboxID: "imap://alice%40example.org@mx1/A", event.User: "alice@example.org", event.Service: "imap", event.PID: "4101", event.Session: "S1"}}}},
		{name: "mailbox create 2.4", lines: []string{dcIMAPPrefix + "Mailbox Work: Mailbox created"},
			want: []dcSummary{{event.MailboxCreate, P{event.URI: "imap://alice%40example.org@mx1/Work", event.MailboxID: "imap://alice%40example.org@mx1/Work",
				event.User: "alice@example.org", event.Service: "imap", event.PID: "4101", event.Session: "S1"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewDovecot(tc.opts)
			var got []event.Event
			var err error
			for _, l := range tc.lines {
				rec := dcRecord(t, l)
				got, err = m.Map(nil, &rec)
			}
			if tc.err != errors.Is(err, ErrUnmapped) || (err != nil && !tc.err) {
				t.Fatalf("err = %v, want dcUnmapped %v", err, tc.err)
			}
			var sums []dcSummary
			for _, e := range got {
				if err := e.Validate(); err != nil {
					t.Errorf("invalid event: %v", err)
				}
				sums = append(sums, dcSummarise(e, dcAllKeys))
			}
			if diff := cmp.Diff(tc.want, sums); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}
