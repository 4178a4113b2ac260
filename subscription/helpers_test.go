package subscription

import (
	"testing"

	"github.com/mailevents/mailevents/event"
)

// ev describes a hand-built event: the parameters every test needs vary
// only in type, user and mailbox.
type ev struct {
	t       event.Type
	user    string // "" leaves user out
	mailbox string // "" makes a server URL (a session event)
	extra   map[event.Param]string
}

// build returns a valid event of the described shape, with the parameters
// its type needs and a few optional ones to suppress.
func (d ev) build(tb testing.TB) event.Event {
	tb.Helper()
	e := event.New(d.t)
	u := event.URL{User: d.user, Host: "mx.example.org", Mailbox: d.mailbox}
	switch d.t {
	case event.MessageAppend, event.MessageNew, event.MessageExpire, event.MessageExpunge,
		event.MessageRead, event.MessageTrash, event.FlagsSet, event.FlagsClear:
		if u.Mailbox == "" {
			u.Mailbox = "INBOX"
		}
		u.UIDValidity, u.UID = 1700000000, 42
		e.Set(event.UIDSetParam, event.UIDValue(42))
		e.SetInt(event.Modseq, 7)
	}
	e.SetURL(event.URI, u)
	switch d.t {
	case event.FlagsSet, event.FlagsClear:
		e.SetString(event.FlagNames, `$Label1`)
	case event.MailboxCreate, event.MailboxDelete:
		e.SetURL(event.MailboxID, u)
	case event.MailboxRename:
		e.SetURL(event.MailboxID, u)
		old := u
		old.Mailbox = "Old"
		e.SetURL(event.OldMailboxID, old)
	case event.MessageNew, event.MessageAppend:
		e.SetString(event.MessageContent, "Subject: hi\r\n\r\nbody\r\n")
		e.SetString("vnd.mailevents.subject", "hi")
		e.SetInt(event.MessageSize, 23)
	}
	e.SetString(event.User, d.user)
	e.SetString(event.Service, "imap")
	e.SetString(event.ID, "0123456789abcdef0123456789abcdef")
	for p, v := range d.extra {
		e.SetString(p, v)
	}
	if err := e.Validate(); err != nil {
		tb.Fatalf("test event is invalid: %v", err)
	}
	return e
}

func mustCompile(tb testing.TB, cfg Config) *Filter {
	tb.Helper()
	f, err := Compile(cfg)
	if err != nil {
		tb.Fatalf("Compile(%+v): %v", cfg, err)
	}
	return f
}
