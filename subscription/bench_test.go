package subscription

import (
	"testing"

	"github.com/mailevents/mailevents/event"
)

// benchEvent is what the pipeline hands a sink for a Dovecot delivery:
// the mapped parameters plus the id, source and server it stamps.
func benchEvent(t event.Type, mailbox string) event.Event {
	e := event.New(t)
	e.SetString(event.Timestamp, "2026-03-02T09:14:12.688190+01:00")
	e.SetString(event.Service, "lmtp")
	e.SetURL(event.URI, event.URL{User: alice, Host: "mail", Mailbox: mailbox, UID: 9001})
	e.Set(event.UIDSetParam, event.UIDValue(9001))
	e.SetInt(event.PID, 1450021)
	e.SetString(event.User, alice)
	e.SetInt(event.MessageSize, 5203)
	e.SetString("vnd.mailevents.msgid", "<CAK7a1b2@mail.example.net>")
	e.SetString("vnd.mailevents.subject", "Quarterly report")
	e.SetString(event.Session, "yFp9GDfzhV4cChYAnSVX2A")
	e.SetString(event.ID, "190edf24e2ef10804760504831414f55")
	e.Set(event.Source, event.SourceFile("/var/log/mail.log", 123456))
	e.SetString(event.Server, "dovecot")
	return e
}

// Filters without transforms run on the shared event; these cases are the
// pipeline's per-sink cost when it need not copy.
var filterCases = []struct {
	name string
	cfg  Config
	t    event.Type
	keep bool
}{
	{"zero", Config{}, event.MessageNew, true},
	{"groups", Config{Groups: []string{"message", "flags"}, ExcludeTypes: []string{"FlagsClear"}}, event.MessageNew, true},
	{"groups-drop", Config{ExcludeGroups: []string{"message"}}, event.MessageNew, false},
	{"users-glob", Config{Users: []string{"*@example.org"}, ExcludeUsers: []string{"spam@*"}}, event.MessageNew, true},
	{"mailboxes", Config{ExcludeMailboxes: []string{"Trash", "Trash/**", "Junk/*"}}, event.MessageNew, true},
	{"all-filters", Config{
		Groups: []string{"message"}, Users: []string{"*@example.org"}, Mailboxes: []string{"INBOX", "Archive/**"},
	}, event.MessageNew, true},
}

// Transforming subscriptions get a copy each; the baseline is the copy.
var transformCases = []struct {
	name string
	cfg  Config
	t    event.Type
}{
	{"suppress", Config{Suppress: []string{"vnd.mailevents.subject", "vnd.mailevents.msgid"}}, event.MessageNew},
	{"tags", Config{Tags: []string{"audit", "eu"}}, event.MessageNew},
	{"flags-only", Config{FlagEvents: "flags-only"}, event.MessageRead},
	{"everything", Config{
		Groups: []string{"message", "flags"}, Users: []string{"*@example.org"}, ExcludeMailboxes: []string{"Trash/**"},
		Suppress: []string{"vnd.mailevents.subject"}, Tags: []string{"audit"}, FlagEvents: "flags-only",
	}, event.MessageRead},
}

// BenchmarkClone is the baseline: the copy the pipeline makes for a sink
// whose filter transforms.
func BenchmarkClone(b *testing.B) {
	e := benchEvent(event.MessageNew, "INBOX")
	b.ReportAllocs()
	for b.Loop() {
		c := e.Clone()
		_ = c
	}
}

func BenchmarkApply(b *testing.B) {
	for _, tc := range filterCases {
		b.Run(tc.name, func(b *testing.B) {
			f := mustCompile(b, tc.cfg)
			e := benchEvent(tc.t, "INBOX")
			b.ReportAllocs()
			for b.Loop() {
				if f.Apply(&e) != tc.keep {
					b.Fatal("wrong decision")
				}
			}
		})
	}
}

func BenchmarkCloneApply(b *testing.B) {
	for _, tc := range transformCases {
		b.Run(tc.name, func(b *testing.B) {
			f := mustCompile(b, tc.cfg)
			e := benchEvent(tc.t, "INBOX")
			b.ReportAllocs()
			for b.Loop() {
				c := e.Clone()
				if !f.Apply(&c) {
					b.Fatal("dropped")
				}
			}
		})
	}
}

// The common paths must not allocate: Apply runs once per event per sink.
// Transforms that add a parameter allocate only when the event's storage
// is full, which events from event.New, as the mappers make them, are not.
func TestApplyDoesNotAllocate(t *testing.T) {
	type run struct {
		name string
		cfg  Config
		t    event.Type
	}
	var runs []run
	for _, tc := range filterCases {
		runs = append(runs, run{tc.name, tc.cfg, tc.t})
	}
	for _, tc := range transformCases {
		runs = append(runs, run{tc.name, tc.cfg, tc.t})
	}
	for _, tc := range runs {
		f := mustCompile(t, tc.cfg)
		fresh := benchEvent(tc.t, "INBOX")
		e := benchEvent(tc.t, "INBOX")
		allocs := testing.AllocsPerRun(100, func() {
			// Restoring from a fresh event reuses e's storage, so only
			// Apply's own allocations count.
			e.Type = fresh.Type
			e.Delete(event.Tags) // the parameters a transform adds
			e.Delete(event.FlagNames)
			for p, v := range fresh.All() {
				e.Set(p, v)
			}
			f.Apply(&e)
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per Apply, want 0", tc.name, allocs)
		}
	}
}
