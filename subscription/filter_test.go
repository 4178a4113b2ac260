package subscription

import (
	"testing"

	"github.com/mailevents/mailevents/event"
)

const (
	alice = "alice@example.org"
	bob   = "bob@example.com"
)

func TestApplySelects(t *testing.T) {
	type probe struct {
		ev   ev
		keep bool
	}
	other := event.Type("vnd.example.Other") // a vendor type no config can name
	tests := []struct {
		name   string
		cfg    Config
		probes []probe
	}{
		{"empty config keeps all", Config{}, []probe{
			{ev{t: event.MessageNew, user: alice}, true},
			{ev{t: event.Login}, true},
			{ev{t: other}, true},
		}},
		{"groups include", Config{Groups: []string{"message"}}, []probe{
			{ev{t: event.MessageNew, user: alice}, true},
			{ev{t: event.MessageExpunge, user: alice}, true},
			{ev{t: event.Login, user: alice}, false},
			{ev{t: event.FlagsSet, user: alice}, false},
			{ev{t: other}, false},
		}},
		{"groups exclude", Config{ExcludeGroups: []string{"flags"}}, []probe{
			{ev{t: event.FlagsSet, user: alice}, false},
			{ev{t: event.MessageRead, user: alice}, false},
			{ev{t: event.MessageNew, user: alice}, true},
			{ev{t: other}, true},
		}},
		{"group include minus type exclude", Config{Groups: []string{"flags"}, ExcludeTypes: []string{"FlagsClear"}}, []probe{
			{ev{t: event.FlagsSet, user: alice}, true},
			{ev{t: event.FlagsClear, user: alice}, false},
			{ev{t: event.Login, user: alice}, false},
		}},
		{"group include and exclude: exclude wins", Config{Groups: []string{"flags", "access"}, ExcludeGroups: []string{"flags"}}, []probe{
			{ev{t: event.FlagsSet, user: alice}, false},
			{ev{t: event.Logout, user: alice}, true},
		}},
		{"groups and types are one include list", Config{Groups: []string{"message"}, Types: []string{"Login"}}, []probe{
			{ev{t: event.MessageNew, user: alice}, true},
			{ev{t: event.Login, user: alice}, true},
			{ev{t: event.Logout, user: alice}, false},
		}},
		{"type include and exclude: exclude wins", Config{Types: []string{"Login", "Logout"}, ExcludeTypes: []string{"Login"}}, []probe{
			{ev{t: event.Login, user: alice}, false},
			{ev{t: event.Logout, user: alice}, true},
		}},
		{"type exclude only", Config{ExcludeTypes: []string{"MessageAppend"}}, []probe{
			{ev{t: event.MessageAppend, user: alice}, false},
			{ev{t: event.MessageNew, user: alice}, true},
			{ev{t: other}, true},
		}},
		{"vendor type include", Config{Types: []string{"vnd.mailevents.LoginFailed"}}, []probe{
			{ev{t: event.LoginFailed, user: alice}, true},
			{ev{t: event.Login, user: alice}, false},
		}},
		{"vendor type in its group", Config{ExcludeGroups: []string{"access"}}, []probe{
			{ev{t: event.LoginFailed, user: alice}, false},
		}},
		{"flags-only: type rules see FlagsSet", Config{FlagEvents: "flags-only", Types: []string{"FlagsSet"}}, []probe{
			{ev{t: event.MessageRead, user: alice}, true},
			{ev{t: event.MessageTrash, user: alice}, true},
			{ev{t: event.FlagsClear, user: alice}, false},
		}},
		{"flags-only: excluding FlagsSet drops reads", Config{FlagEvents: "flags-only", ExcludeTypes: []string{"FlagsSet"}}, []probe{
			{ev{t: event.MessageRead, user: alice}, false},
			{ev{t: event.MessageNew, user: alice}, true},
		}},
		{"rfc-specific: FlagsSet is not MessageRead", Config{FlagEvents: "rfc-specific", Types: []string{"FlagsSet"}}, []probe{
			{ev{t: event.MessageRead, user: alice}, false},
			{ev{t: event.FlagsSet, user: alice}, true},
		}},
		{"users include", Config{Users: []string{"*@example.org"}}, []probe{
			{ev{t: event.Login, user: alice}, true},
			{ev{t: event.Login, user: bob}, false},
			{ev{t: event.MessageExpire}, false}, // no user: no include matches
		}},
		{"users literal is case-sensitive", Config{Users: []string{alice}}, []probe{
			{ev{t: event.Login, user: alice}, true},
			{ev{t: event.Login, user: "Alice@example.org"}, false},
		}},
		{"users exclude", Config{ExcludeUsers: []string{"bob@*"}}, []probe{
			{ev{t: event.Login, user: bob}, false},
			{ev{t: event.Login, user: alice}, true},
			{ev{t: event.MessageExpire}, true}, // no user: no exclude matches
		}},
		{"users include and exclude: exclude wins", Config{Users: []string{"*@example.org"}, ExcludeUsers: []string{"spam@example.org"}}, []probe{
			{ev{t: event.Login, user: "spam@example.org"}, false},
			{ev{t: event.Login, user: alice}, true},
			{ev{t: event.Login, user: bob}, false},
		}},
		{"mailboxes one level", Config{Mailboxes: []string{"Archive/*"}}, []probe{
			{ev{t: event.MessageNew, user: alice, mailbox: "Archive/2024"}, true},
			{ev{t: event.MessageNew, user: alice, mailbox: "Archive"}, false},
			{ev{t: event.MessageNew, user: alice, mailbox: "Archive/2024/Q1"}, false},
			{ev{t: event.Login, user: alice}, false}, // no mailbox: no include matches
		}},
		{"mailboxes subtree", Config{Mailboxes: []string{"Archive/**"}}, []probe{
			{ev{t: event.MessageNew, user: alice, mailbox: "Archive/2024"}, true},
			{ev{t: event.MessageNew, user: alice, mailbox: "Archive/2024/Q1"}, true},
			{ev{t: event.MailboxCreate, user: alice, mailbox: "Archive"}, false},
			{ev{t: event.MessageNew, user: alice, mailbox: "Archives/2024"}, false},
		}},
		{"mailboxes any", Config{Mailboxes: []string{"**"}}, []probe{
			{ev{t: event.MessageNew, user: alice, mailbox: "a/b/c"}, true},
			{ev{t: event.Logout, user: alice}, false},
		}},
		{"mailboxes decoded from the uri", Config{Mailboxes: []string{"Entwürfe 2025", "a;b"}}, []probe{
			{ev{t: event.MessageNew, user: alice, mailbox: "Entwürfe 2025"}, true},
			{ev{t: event.MailboxCreate, user: alice, mailbox: "a;b"}, true},
			{ev{t: event.MessageNew, user: alice, mailbox: "Entwurfe 2025"}, false},
		}},
		{"mailboxes exclude", Config{ExcludeMailboxes: []string{"Trash", "Trash/**", "Junk"}}, []probe{
			{ev{t: event.MessageNew, user: alice, mailbox: "Trash"}, false},
			{ev{t: event.MessageNew, user: alice, mailbox: "Trash/old/older"}, false},
			{ev{t: event.MessageNew, user: alice, mailbox: "Junk"}, false},
			{ev{t: event.MessageNew, user: alice, mailbox: "INBOX"}, true},
			{ev{t: event.Login, user: alice}, true}, // no mailbox: no exclude matches
		}},
		{"mailboxes include and exclude: exclude wins", Config{Mailboxes: []string{"Archive/**"}, ExcludeMailboxes: []string{"Archive/Private/**"}}, []probe{
			{ev{t: event.MessageNew, user: alice, mailbox: "Archive/2024"}, true},
			{ev{t: event.MessageNew, user: alice, mailbox: "Archive/Private/x"}, false},
		}},
		{"all rules together", Config{Groups: []string{"message"}, Users: []string{alice}, Mailboxes: []string{"INBOX"}}, []probe{
			{ev{t: event.MessageNew, user: alice, mailbox: "INBOX"}, true},
			{ev{t: event.MessageNew, user: alice, mailbox: "Sent"}, false},
			{ev{t: event.MessageNew, user: bob, mailbox: "INBOX"}, false},
			{ev{t: event.FlagsSet, user: alice, mailbox: "INBOX"}, false},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := mustCompile(t, tc.cfg)
			for _, p := range tc.probes {
				e := p.ev.build(t)
				if got := f.Apply(&e); got != p.keep {
					t.Errorf("Apply(%s user=%q mailbox=%q) = %v, want %v", p.ev.t, p.ev.user, p.ev.mailbox, got, p.keep)
				}
			}
		})
	}
}

func TestApplyTransforms(t *testing.T) {
	msgNew := ev{t: event.MessageNew, user: alice, mailbox: "INBOX"}
	tagged := func(d ev, tags string) ev {
		d.extra = map[event.Param]string{event.Tags: tags}
		return d
	}
	tests := []struct {
		name string
		cfg  Config
		in   ev
		// want edits a copy of the input into the expected output.
		want func(e *event.Event)
	}{
		{"suppress", Config{Suppress: []string{"vnd.mailevents.subject", "messageContent"}}, msgNew,
			func(e *event.Event) { e.Delete("vnd.mailevents.subject"); e.Delete(event.MessageContent) }},
		{"suppress an absent parameter", Config{Suppress: []string{"envelope"}}, msgNew,
			func(*event.Event) {}},
		{"tags stamped", Config{Tags: []string{"audit", "eu"}}, msgNew,
			func(e *event.Event) { e.SetString(event.Tags, "audit,eu") }},
		{"tags deduplicated in config", Config{Tags: []string{"a", "b", "a"}}, msgNew,
			func(e *event.Event) { e.SetString(event.Tags, "a,b") }},
		{"tags merged after existing", Config{Tags: []string{"audit", "eu"}}, tagged(msgNew, "eu, x"),
			func(e *event.Event) { e.SetString(event.Tags, "eu,x,audit") }},
		{"tags already there", Config{Tags: []string{"audit"}}, tagged(msgNew, "audit"),
			func(*event.Event) {}},
		{"existing duplicate tags collapse", Config{Tags: []string{"b"}}, tagged(msgNew, "a,a"),
			func(e *event.Event) { e.SetString(event.Tags, "a,b") }},
		{"suppressed tags are replaced", Config{Suppress: []string{"tags"}, Tags: []string{"mine"}}, tagged(msgNew, "upstream"),
			func(e *event.Event) { e.SetString(event.Tags, "mine") }},
		{"flags-only read", Config{FlagEvents: "flags-only"}, ev{t: event.MessageRead, user: alice},
			func(e *event.Event) { e.Type = event.FlagsSet; e.SetString(event.FlagNames, `\Seen`) }},
		{"flags-only trash", Config{FlagEvents: "flags-only"}, ev{t: event.MessageTrash, user: alice},
			func(e *event.Event) { e.Type = event.FlagsSet; e.SetString(event.FlagNames, `\Deleted`) }},
		{"flags-only read with flagNames", Config{FlagEvents: "flags-only"},
			ev{t: event.MessageRead, user: alice, extra: map[event.Param]string{event.FlagNames: "$Label1"}},
			func(e *event.Event) { e.Type = event.FlagsSet; e.SetString(event.FlagNames, `$Label1 \Seen`) }},
		{"flags-only read already naming seen", Config{FlagEvents: "flags-only"},
			ev{t: event.MessageRead, user: alice, extra: map[event.Param]string{event.FlagNames: `\seen`}},
			func(e *event.Event) { e.Type = event.FlagsSet }},
		{"flags-only leaves FlagsSet", Config{FlagEvents: "flags-only"}, ev{t: event.FlagsSet, user: alice},
			func(*event.Event) {}},
		{"flags-only leaves FlagsClear", Config{FlagEvents: "flags-only"}, ev{t: event.FlagsClear, user: alice},
			func(*event.Event) {}},
		{"rfc-specific leaves read", Config{FlagEvents: "rfc-specific"}, ev{t: event.MessageRead, user: alice},
			func(*event.Event) {}},
		{"all transforms", Config{FlagEvents: "flags-only", Suppress: []string{"modseq", "user"}, Tags: []string{"t"}},
			ev{t: event.MessageTrash, user: alice},
			func(e *event.Event) {
				e.Type = event.FlagsSet
				e.SetString(event.FlagNames, `\Deleted`)
				e.Delete(event.Modseq)
				e.Delete(event.User)
				e.SetString(event.Tags, "t")
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := mustCompile(t, tc.cfg)
			got := tc.in.build(t)
			want := got.Clone()
			tc.want(&want)
			if !f.Apply(&got) {
				t.Fatal("Apply dropped the event")
			}
			if !got.Equal(&want) {
				t.Errorf("Apply gave\n%s\nwant\n%s", got.AppendJSON(nil), want.AppendJSON(nil))
			}
			if err := got.Validate(); err != nil {
				t.Errorf("transformed event is invalid: %v", err)
			}
		})
	}
}

// A dropped event may be one the pipeline still hands to other sinks
// unchanged, so Apply must not touch it.
func TestApplyLeavesDroppedEvents(t *testing.T) {
	f := mustCompile(t, Config{
		Users: []string{alice}, Suppress: []string{"vnd.mailevents.subject"},
		Tags: []string{"x"}, FlagEvents: "flags-only",
	})
	for _, d := range []ev{
		{t: event.MessageNew, user: bob},
		{t: event.MessageRead, user: bob},
	} {
		e := d.build(t)
		orig := e.Clone()
		if f.Apply(&e) {
			t.Fatalf("Apply kept %s of %s", d.t, d.user)
		}
		if !e.Equal(&orig) {
			t.Errorf("dropped %s changed:\n%s\nwas\n%s", d.t, e.AppendJSON(nil), orig.AppendJSON(nil))
		}
	}
}

func TestZeroAndTransforms(t *testing.T) {
	tests := []struct {
		name             string
		cfg              Config
		zero, transforms bool
	}{
		{"empty", Config{}, true, false},
		{"explicit default style", Config{FlagEvents: "rfc-specific"}, true, false},
		{"empty lists", Config{Groups: []string{}, Tags: []string{}}, true, false},
		{"groups", Config{Groups: []string{"message"}}, false, false},
		{"exclude types", Config{ExcludeTypes: []string{"Login"}}, false, false},
		{"users", Config{Users: []string{"*"}}, false, false},
		{"exclude mailboxes", Config{ExcludeMailboxes: []string{"Trash"}}, false, false},
		{"suppress", Config{Suppress: []string{"envelope"}}, false, true},
		{"tags", Config{Tags: []string{"a"}}, false, true},
		{"flags-only", Config{FlagEvents: "flags-only"}, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := mustCompile(t, tc.cfg)
			if got := f.IsZero(); got != tc.zero {
				t.Errorf("IsZero() = %v, want %v", got, tc.zero)
			}
			if got := f.Transforms(); got != tc.transforms {
				t.Errorf("Transforms() = %v, want %v", got, tc.transforms)
			}
		})
	}
}

func TestNilFilter(t *testing.T) {
	var f *Filter
	e := ev{t: event.MessageNew, user: alice}.build(t)
	orig := e.Clone()
	if !f.IsZero() || f.Transforms() || !f.Apply(&e) || !e.Equal(&orig) {
		t.Error("a nil Filter must keep every event unchanged")
	}
}
