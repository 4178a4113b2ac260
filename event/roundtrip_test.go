package event_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mailevents/mailevents/event"
	"github.com/mailevents/mailevents/event/eventtest"
)

var when = time.Date(2026, 3, 9, 10, 11, 12, 345000000, time.FixedZone("", 3600))

func mailbox(name string, uidvalidity uint32) event.URL {
	return event.URL{User: "alice@example.org", Host: "mail.example.org", Mailbox: name, UIDValidity: uidvalidity}
}

func message(name string, uidvalidity, uid uint32) event.URL {
	u := mailbox(name, uidvalidity)
	u.UID = uid
	return u
}

// sample builds a representative event of each RFC 5423 type, with the
// parameters the RFC says it includes, plus the common ones.
func sample(ty event.Type) event.Event {
	e := event.New(ty)
	e.SetTimestamp(when, 3)
	e.SetString(event.Service, "imap")
	e.SetInt(event.PID, 4242)
	e.SetString(event.User, "alice@example.org")
	e.SetString(event.ID, strings.Repeat("ab", 16))
	e.SetString(event.Server, "dovecot")
	e.Set(event.Source, event.SourceFile("/var/log/mail.log", 1234))
	e.SetString(event.Session, "N7MXlE+iUvFaBAGj")
	switch ty {
	case event.MessageNew, event.MessageAppend:
		e.SetURL(event.URI, message("INBOX", 1424683682, 7))
		e.SetUIDSet(event.NewUIDSet(7))
		e.SetInt(event.MessageSize, 15890)
		e.SetInt(event.UIDNext, 8)
		e.SetInt(event.Modseq, 53)
		e.SetFlags([]string{`\Seen`, "$Important"})
		e.SetString(event.BodyStructure, `("TEXT" "PLAIN" ("CHARSET" "UTF-8") NIL NIL "7BIT" 12 1 NIL NIL NIL NIL)`)
		e.SetString(event.Envelope, "MAIL FROM:<bob@example.net>\r\nRCPT TO:<alice@example.org>\r\n")
		e.SetString(event.MessageContent, "Subject: hi\r\n\r\nhello\r\n")
	case event.MessageExpire, event.MessageExpunge, event.MessageRead, event.MessageTrash:
		e.SetURL(event.URI, mailbox("Archive/2024", 1424683682))
		e.SetUIDSet(event.NewUIDSet(3, 4, 5, 9))
		e.SetInt(event.Messages, 12)
	case event.FlagsSet, event.FlagsClear:
		e.SetURL(event.URI, mailbox("INBOX", 1424683682))
		e.SetUIDSet(event.NewUIDSet(3))
		e.SetFlags([]string{`\Flagged`, "NonJunk"})
		e.SetInt(event.Modseq, 42)
	case event.QuotaExceed, event.QuotaWithin, event.QuotaChange:
		e.SetURL(event.URI, mailbox("INBOX", 0))
		e.SetInt(event.DiskQuota, 102400)
		e.SetInt(event.DiskUsed, 102399)
		e.SetInt(event.MaxMessages, -1)
		e.SetInt(event.Messages, 3)
	case event.Login, event.Logout:
		e.SetURL(event.URI, event.URL{Host: "mail.example.org"})
		e.SetString(event.ServerDomain, "192.0.2.1")
		e.SetInt(event.ServerPort, 993)
		e.SetString(event.ClientIP, "2001:db8::1")
		e.SetInt(event.ClientPort, 50123)
		e.SetString(event.Admin, "master")
		e.SetString(event.ServerFQDN, "mail.example.org")
		e.SetString(event.Process, "imap")
	case event.MailboxCreate, event.MailboxDelete:
		e.SetURL(event.URI, mailbox("Entwürfe/Q1 100%;a", 1424690388))
		e.SetURL(event.MailboxID, mailbox("Entwürfe/Q1 100%;a", 1424690388))
	case event.MailboxRename:
		e.SetURL(event.URI, mailbox("New", 1424699807))
		e.SetURL(event.MailboxID, mailbox("New", 1424699807))
		e.SetURL(event.OldMailboxID, mailbox("user.x", 1424690388))
	case event.MailboxSubscribe, event.MailboxUnSubscribe:
		e.SetURL(event.URI, mailbox("Archive", 0))
	}
	e.SetString(event.Tags, "compliance,eu")
	return e
}

func TestRoundTripEveryType(t *testing.T) {
	for _, ty := range append(append([]event.Type{}, event.RFCTypes...), event.LoginFailed) {
		t.Run(string(ty), func(t *testing.T) {
			e := sample(ty)
			if err := e.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			line := e.AppendJSON(nil)
			if !strings.HasPrefix(string(line), `{"event":"`+string(ty)+`",`) {
				t.Errorf("encoding does not start with the event: %s", line)
			}
			back, err := event.Decode(line)
			if err != nil {
				t.Fatalf("Decode: %v\n%s", err, line)
			}
			if !back.Equal(&e) {
				t.Errorf("round trip changed the event:\n got %s\nwant %s", back.AppendJSON(nil), line)
			}
			eventtest.Check(t, &e)
		})
	}
}

func TestEveryParameterRoundTrips(t *testing.T) {
	e := sample(event.MessageNew)
	// The rest of the RFC parameters, so that every one is encoded once.
	e.SetURL(event.MailboxID, mailbox("INBOX", 1424683682))
	e.SetURL(event.OldMailboxID, mailbox("Sent", 1424683683))
	e.SetInt(event.DiskQuota, 1)
	e.SetInt(event.DiskUsed, 0)
	e.SetInt(event.MaxMessages, 10)
	e.SetInt(event.Messages, 0)
	e.SetString(event.Process, "lmtp")
	e.SetString(event.ServerDomain, "mail.example.org")
	e.SetInt(event.ServerPort, 24)
	e.SetString(event.ServerFQDN, "mail.example.org")
	e.SetString(event.ClientIP, "192.0.2.9")
	e.SetInt(event.ClientPort, 1)
	e.SetString(event.Admin, "root")
	for _, p := range event.RFCParams {
		if !e.Has(p) {
			t.Fatalf("sample lacks %s", p)
		}
	}
	eventtest.Check(t, &e)
	back, err := event.Decode(e.AppendJSON(nil))
	if err != nil || !back.Equal(&e) {
		t.Fatalf("round trip: %v\n got %s\nwant %s", err, back.AppendJSON(nil), e.AppendJSON(nil))
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		ty     event.Type
		edit   func(*event.Event)
		errHas string // "" means valid
	}{
		{"sample is valid", event.FlagsSet, nil, ""},
		{"Recent in flagNames", event.FlagsSet, func(e *event.Event) { e.SetString(event.FlagNames, `\Seen \Recent`) }, `\Recent is not permitted`},
		{"recent in any case", event.FlagsClear, func(e *event.Event) { e.SetString(event.FlagNames, `\RECENT`) }, `\Recent is not permitted`},
		{"flagNames on MessageAppend may not hold Recent either", event.MessageAppend, func(e *event.Event) { e.SetString(event.FlagNames, `\Recent`) }, `\Recent`},
		{"FlagsSet without flagNames", event.FlagsSet, func(e *event.Event) { e.Delete(event.FlagNames) }, "flagNames missing"},
		{"double space in flagNames", event.FlagsSet, func(e *event.Event) { e.SetString(event.FlagNames, `\Seen  x`) }, "empty flag name"},
		{"bad keyword", event.FlagsSet, func(e *event.Event) { e.SetString(event.FlagNames, `a(b`) }, "not an IMAP flag"},
		{"non-ASCII keyword", event.FlagsSet, func(e *event.Event) { e.SetString(event.FlagNames, `Wichtig√`) }, "not an IMAP flag"},
		{"MessageExpunge without uidset", event.MessageExpunge, func(e *event.Event) { e.Delete(event.UIDSetParam) }, "uidset missing"},
		{"MessageExpire without uidset", event.MessageExpire, func(e *event.Event) { e.Delete(event.UIDSetParam) }, "uidset missing"},
		{"MessageRead without uidset", event.MessageRead, func(e *event.Event) { e.Delete(event.UIDSetParam) }, "uidset missing"},
		{"MessageTrash without uidset", event.MessageTrash, func(e *event.Event) { e.Delete(event.UIDSetParam) }, "uidset missing"},
		{"FlagsClear without uidset", event.FlagsClear, func(e *event.Event) { e.Delete(event.UIDSetParam) }, "uidset missing"},
		{"MessageNew may omit uidset", event.MessageNew, func(e *event.Event) { e.Delete(event.UIDSetParam) }, ""},
		{"bad uidset", event.MessageExpunge, func(e *event.Event) { e.SetString(event.UIDSetParam, "0:3") }, "uidset"},
		{"uidset with star", event.MessageExpunge, func(e *event.Event) { e.SetString(event.UIDSetParam, "1:*") }, "uidset"},
		{"no uri", event.Login, func(e *event.Event) { e.Delete(event.URI) }, "uri missing"},
		{"uri not IMAP", event.Login, func(e *event.Event) { e.SetString(event.URI, "http://x/") }, "uri"},
		{"vendor type may omit uri", event.LoginFailed, func(e *event.Event) { e.Delete(event.URI) }, ""},
		{"string port", event.Login, func(e *event.Event) { e.Set(event.ClientPort, event.String("143")) }, "must be an integer"},
		{"port 0", event.Login, func(e *event.Event) { e.SetInt(event.ServerPort, 0) }, "port out of range"},
		{"port 65536", event.Login, func(e *event.Event) { e.SetInt(event.ClientPort, 65536) }, "port out of range"},
		{"pid 0", event.Login, func(e *event.Event) { e.SetInt(event.PID, 0) }, "must be positive"},
		{"negative size", event.MessageNew, func(e *event.Event) { e.SetInt(event.MessageSize, -1) }, "must not be negative"},
		{"unlimited quota", event.QuotaChange, func(e *event.Event) { e.SetInt(event.DiskQuota, -1) }, ""},
		{"quota below -1", event.QuotaChange, func(e *event.Event) { e.SetInt(event.MaxMessages, -2) }, "must be -1"},
		{"number for user", event.Login, func(e *event.Event) { e.Set(event.User, event.Int(7)) }, "must be a string"},
		{"bad clientIP", event.Login, func(e *event.Event) { e.SetString(event.ClientIP, "192.0.2.300") }, "not an IP address"},
		{"clientIP with a zone", event.Login, func(e *event.Event) { e.SetString(event.ClientIP, "fe80::1%eth0") }, "zone"},
		{"bad timestamp", event.Login, func(e *event.Event) { e.SetString(event.Timestamp, "Jul  2 13:49:31") }, "RFC 3339"},
		{"unknown parameter", event.Login, func(e *event.Event) { e.SetString(event.Param("sessionId"), "x") }, "not an RFC 5423 parameter"},
		{"vendor parameter", event.Login, func(e *event.Event) { e.SetString(event.Param("vnd.cmu.sessionId"), "x") }, ""},
		{"vnd. alone is not a name", event.Login, func(e *event.Event) { e.SetString(event.Param("vnd."), "x") }, "not an RFC 5423 parameter"},
		{"unknown type", event.Type("MessageCopy"), nil, "unknown event type"},
		{"vendor type", event.Type("vnd.cmu.MessageCopy"), nil, ""},
		{"rename without old", event.MailboxRename, func(e *event.Event) { e.Delete(event.OldMailboxID) }, "oldMailboxID"},
		{"create without mailboxID", event.MailboxCreate, func(e *event.Event) { e.Delete(event.MailboxID) }, "mailboxID missing"},
		{"subscribe needs no mailboxID (as Cyrus)", event.MailboxSubscribe, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e event.Event
			if tt.ty.IsRFC() || tt.ty == event.LoginFailed {
				e = sample(tt.ty)
			} else {
				e = sample(event.Login)
				e.Type = tt.ty
			}
			if tt.edit != nil {
				tt.edit(&e)
			}
			err := e.Validate()
			switch {
			case tt.errHas == "" && err != nil:
				t.Fatalf("Validate: %v, want valid", err)
			case tt.errHas != "" && err == nil:
				t.Fatalf("Validate accepted it, want an error containing %q", tt.errHas)
			case tt.errHas != "" && !strings.Contains(err.Error(), tt.errHas):
				t.Fatalf("Validate: %v, want it to contain %q", err, tt.errHas)
			}
			if err == nil {
				eventtest.Check(t, &e) // what Validate accepts, the schema accepts
			} else if eventtest.CheckLine(e.AppendJSON(nil)) == nil {
				t.Errorf("the schema accepts what Validate rejects: %s", e.AppendJSON(nil))
			}
		})
	}
}

func TestGapsNamesMissingUIDValidity(t *testing.T) {
	e := sample(event.MessageNew)
	if g := e.Gaps(); g != nil {
		t.Fatalf("with UIDVALIDITY: gaps %v", g)
	}
	e.SetURL(event.URI, message("INBOX", 0, 7))
	if g := e.Gaps(); len(g) != 1 || !strings.Contains(g[0], "UIDVALIDITY") {
		t.Fatalf("without UIDVALIDITY: gaps %v", g)
	}
	if err := e.Validate(); err != nil {
		t.Fatalf("a gap is not a validation error: %v", err)
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct{ name, in, errHas string }{
		{"duplicate key", `{"event":"Login","user":"a","user":"b"}`, "duplicate key"},
		{"no event", `{"user":"a"}`, `no "event"`},
		{"event not string", `{"event":1}`, "not a string"},
		{"string port", `{"event":"Login","clientPort":"1"}`, "a string where the RFC has a number"},
		{"number user", `{"event":"Login","user":1}`, "a number where the RFC has a string"},
		{"float size", `{"event":"MessageNew","messageSize":1.5}`, "not an integer"},
		{"object content (a Kolab build of Cyrus)", `{"event":"MessageNew","messageContent":{"6":"x"}}`, "object or array"},
		{"null", `{"event":"Login","user":null}`, "null"},
		{"trailing data", `{"event":"Login"} {}`, "data after"},
		{"not an object", `["event"]`, "expected"},
		{"truncated", `{"event":"Login"`, "decoding event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := event.Decode([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.errHas) {
				t.Fatalf("Decode(%s) = %v, want error containing %q", tt.in, err, tt.errHas)
			}
		})
	}
}

func TestDecodeKeepsVendorValues(t *testing.T) {
	in := `{"event":"FlagsSet","uidset":"3","vnd.cmu.midset":["<a@b>"],"vnd.cmu.unseenMessages":0,"vnd.x":{"b":1, "a":[1.5]},"vnd.y":false}`
	e, err := event.Decode([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"event":"FlagsSet","uidset":"3","vnd.cmu.midset":["<a@b>"],"vnd.cmu.unseenMessages":0,"vnd.x":{"b":1,"a":[1.5]},"vnd.y":false}`
	if got := string(e.AppendJSON(nil)); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
