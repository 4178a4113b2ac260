package dedup

import (
	"testing"
	"time"

	"github.com/mailevents/mailevents/event"
)

func ev(t event.Type, session, uri, uidset string) *event.Event {
	e := event.New(t)
	e.SetString(event.URI, uri)
	if uidset != "" {
		e.SetString(event.UIDSetParam, uidset)
	}
	if session != "" {
		e.SetString(event.Session, session)
	}
	return &e
}

func TestDuplicate(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 9, 49, 3, 0, time.UTC)
	s := New(time.Minute, 10)
	// The syslog path: the message URL with UIDVALIDITY, the syslog host.
	syslogRead := ev(event.MessageRead, "s1", "imap://alice@vm/INBOX;UIDVALIDITY=7/;UID=1", "1")
	// The native path: the mailbox URL, Cyrus's servername, a uidset.
	nativeRead := ev(event.MessageRead, "s1", "imap://alice@cyrus.test/INBOX;UIDVALIDITY=7", "1")
	steps := []struct {
		name   string
		e      *event.Event
		origin string
		at     time.Duration
		dup    bool
	}{
		{"first report", syslogRead, "cyrus", 0, false},
		{"same action again on the same path is an event", syslogRead, "cyrus", time.Second, false},
		{"the other path's report of the first", nativeRead, "cyrus-json", 0, true},
		{"and of the second", nativeRead, "cyrus-json", time.Second, true},
		{"a third native one has nothing left to match", nativeRead, "cyrus-json", 2 * time.Second, false},
		{"another session", ev(event.MessageRead, "s2", "imap://alice@vm/INBOX/;UID=1", ""), "cyrus", 0, false},
		{"no session: never dropped", ev(event.Login, "", "imap://vm", ""), "cyrus", 0, false},
		{"no session, other path", ev(event.Login, "", "imap://cyrus.test", ""), "cyrus-json", 0, false},
		{"other uid", ev(event.MessageRead, "s2", "imap://alice@vm/INBOX;UIDVALIDITY=7", "2"), "cyrus-json", 0, false},
	}
	for _, st := range steps {
		if got := s.Duplicate(st.e, st.origin, t0.Add(st.at)); got != st.dup {
			t.Errorf("%s: Duplicate = %v, want %v", st.name, got, st.dup)
		}
	}
	// Outside the window: no match.
	s = New(time.Minute, 10)
	s.Duplicate(syslogRead, "cyrus", t0)
	if s.Duplicate(nativeRead, "cyrus-json", t0.Add(2*time.Minute)) {
		t.Error("matched across more than the window")
	}
}

func TestBounded(t *testing.T) {
	s := New(time.Hour, 3)
	t0 := time.Unix(0, 0)
	for i := range 100 {
		s.Duplicate(ev(event.MessageNew, "s", "imap://a@h/INBOX", string(rune('a'+i%26))+"1"), "x", t0)
	}
	if s.Len() > 3 || len(s.m) > 3 || len(s.queue) > 6 {
		t.Errorf("remembers %d reports, %d keys, queue %d; max 3", s.Len(), len(s.m), len(s.queue))
	}
	// The oldest were forgotten, the newest match.
	if !s.Duplicate(ev(event.MessageNew, "s", "imap://a@h/INBOX", "v1"), "y", t0) {
		t.Error("the newest report was forgotten")
	}
}
