package subscription

import (
	"encoding/json"
	"errors"
	"path"
	"slices"
	"testing"

	"github.com/mailevents/mailevents/event"
)

func TestCompileErrors(t *testing.T) {
	const knownGroups = "(known: message, quota, flags, access, mailbox, subscription)"
	const typeHint = "(RFC 5423 types are case-sensitive; vendor types: vnd.mailevents.LoginFailed)"
	tests := []struct {
		name string
		cfg  Config
		key  string // of the first *Error
		msg  string // the whole error text
	}{
		{"unknown group", Config{Groups: []string{"mesage"}}, "groups",
			`subscription.groups: unknown group "mesage" ` + knownGroups},
		{"group in wrong case", Config{ExcludeGroups: []string{"Flags"}}, "exclude_groups",
			`subscription.exclude_groups: unknown group "Flags" (did you mean "flags"?) ` + knownGroups},
		{"unknown type", Config{Types: []string{"MessageMove"}}, "types",
			`subscription.types: unknown event type "MessageMove" ` + typeHint},
		{"type in wrong case", Config{ExcludeTypes: []string{"messageread"}}, "exclude_types",
			`subscription.exclude_types: unknown event type "messageread" (did you mean "MessageRead"?) ` + typeHint},
		{"unknown vendor type", Config{Types: []string{"vnd.cmu.MessageCopy"}}, "types",
			`subscription.types: unknown event type "vnd.cmu.MessageCopy" ` + typeHint},
		{"type never delivered", Config{FlagEvents: "flags-only", Types: []string{"MessageRead"}}, "types",
			`subscription.types: "MessageRead" is never delivered with flag_events = "flags-only": it becomes FlagsSet`},
		{"excluded type never delivered", Config{FlagEvents: "flags-only", ExcludeTypes: []string{"MessageTrash"}}, "exclude_types",
			`subscription.exclude_types: "MessageTrash" is never delivered with flag_events = "flags-only": it becomes FlagsSet`},
		{"bad user glob", Config{Users: []string{"[a-"}}, "users",
			`subscription.users: bad pattern "[a-": syntax error in pattern`},
		{"empty user pattern", Config{ExcludeUsers: []string{""}}, "exclude_users",
			`subscription.exclude_users: bad pattern "": empty pattern`},
		{"bad mailbox glob", Config{Mailboxes: []string{`Archive\`}}, "mailboxes",
			`subscription.mailboxes: bad pattern "Archive\\": syntax error in pattern`},
		{"bad glob before /**", Config{ExcludeMailboxes: []string{"[/**"}}, "exclude_mailboxes",
			`subscription.exclude_mailboxes: bad pattern "[/**": syntax error in pattern`},
		{"** inside a mailbox pattern", Config{Mailboxes: []string{"a/**/b"}}, "mailboxes",
			`subscription.mailboxes: bad pattern "a/**/b": "**" is allowed only as a whole last level ("Archive/**") or alone`},
		{"** within a level", Config{ExcludeMailboxes: []string{"Arch**"}}, "exclude_mailboxes",
			`subscription.exclude_mailboxes: bad pattern "Arch**": "**" is allowed only as a whole last level ("Archive/**") or alone`},
		{"/** alone", Config{Mailboxes: []string{"/**"}}, "mailboxes",
			`subscription.mailboxes: bad pattern "/**": nothing before "/**" (write "**" for every mailbox)`},
		{"suppress event", Config{Suppress: []string{"event"}}, "suppress",
			`subscription.suppress: "event" is the event type, not a parameter; it cannot be suppressed`},
		{"suppress unknown", Config{Suppress: []string{"subject"}}, "suppress",
			`subscription.suppress: unknown parameter "subject" (RFC 5423 names are case-sensitive; vendor names begin with "vnd.")`},
		{"suppress in wrong case", Config{Suppress: []string{"messagecontent"}}, "suppress",
			`subscription.suppress: unknown parameter "messagecontent" (did you mean "messageContent"?) (RFC 5423 names are case-sensitive; vendor names begin with "vnd.")`},
		{"suppress uri", Config{Types: []string{"Login"}, Suppress: []string{"uri"}}, "suppress",
			`subscription.suppress: cannot drop "uri": delivered Login events are invalid without it (RFC 5423); exclude those types to drop it`},
		{"suppress uidset", Config{Groups: []string{"flags"}, Suppress: []string{"uidset"}}, "suppress",
			`subscription.suppress: cannot drop "uidset": delivered MessageRead, MessageTrash, FlagsSet, FlagsClear events are invalid without it (RFC 5423); exclude those types to drop it`},
		{"suppress uidset flags-only", Config{Groups: []string{"flags"}, FlagEvents: "flags-only", Suppress: []string{"uidset"}}, "suppress",
			`subscription.suppress: cannot drop "uidset": delivered FlagsSet, FlagsClear events are invalid without it (RFC 5423); exclude those types to drop it`},
		{"suppress flagNames", Config{ExcludeTypes: []string{"FlagsClear"}, Suppress: []string{"flagNames"}}, "suppress",
			`subscription.suppress: cannot drop "flagNames": delivered FlagsSet events are invalid without it (RFC 5423); exclude those types to drop it`},
		{"suppress oldMailboxID", Config{Suppress: []string{"oldMailboxID"}}, "suppress",
			`subscription.suppress: cannot drop "oldMailboxID": delivered MailboxRename events are invalid without it (RFC 5423); exclude those types to drop it`},
		{"suppress id", Config{Suppress: []string{"vnd.mailevents.id"}}, "suppress",
			`subscription.suppress: cannot drop "vnd.mailevents.id": the output format requires it on every event (event/schema.json)`},
		{"suppress server", Config{Groups: []string{"access"}, Suppress: []string{"vnd.mailevents.server"}}, "suppress",
			`subscription.suppress: cannot drop "vnd.mailevents.server": the output format requires it on every event (event/schema.json)`},
		{"empty tag", Config{Tags: []string{""}}, "tags", `subscription.tags: invalid tag "": empty`},
		{"tag with comma", Config{Tags: []string{"a,b"}}, "tags",
			`subscription.tags: invalid tag "a,b": contains a comma, which separates tags`},
		{"tag with edge space", Config{Tags: []string{" a"}}, "tags",
			`subscription.tags: invalid tag " a": leading or trailing white space`},
		{"tag with control", Config{Tags: []string{"a\tb"}}, "tags",
			`subscription.tags: invalid tag "a\tb": contains a control character`},
		{"tag not UTF-8", Config{Tags: []string{"\xff"}}, "tags", `subscription.tags: invalid tag "\xff": not UTF-8`},
		{"unknown flag style", Config{FlagEvents: "flags"}, "flag_events",
			`subscription.flag_events: unknown value "flags" (want "rfc-specific" or "flags-only")`},
		{"every problem reported", Config{Groups: []string{"x"}, Tags: []string{""}}, "groups",
			`subscription.groups: unknown group "x" ` + knownGroups + "\n" + `subscription.tags: invalid tag "": empty`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Compile(tc.cfg)
			if err == nil {
				t.Fatalf("Compile gave no error (filter %+v)", f)
			}
			if f != nil {
				t.Error("Compile returned a filter with its error")
			}
			if err.Error() != tc.msg {
				t.Errorf("error:\n got %s\nwant %s", err, tc.msg)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Key != tc.key {
				t.Errorf("first *Error = %+v, want key %q", ce, tc.key)
			}
		})
	}
}

func TestCompileBadPatternWraps(t *testing.T) {
	_, err := Compile(Config{Users: []string{"["}})
	if !errors.Is(err, path.ErrBadPattern) {
		t.Errorf("error %v does not wrap path.ErrBadPattern", err)
	}
	var ce *Error
	if !errors.As(err, &ce) || ce.Value != "[" {
		t.Errorf("*Error = %+v, want Value %q", ce, "[")
	}
}

// Configs that look suspicious but mean something: they must compile.
func TestCompileAccepts(t *testing.T) {
	for _, cfg := range []Config{
		{Groups: []string{"access"}, Suppress: []string{"uidset", "flagNames", "mailboxID", "oldMailboxID"}},
		{Types: []string{"vnd.mailevents.LoginFailed"}, Suppress: []string{"uri"}},
		{Groups: []string{"quota"}, ExcludeGroups: []string{"quota"}},              // delivers nothing
		{Types: []string{"Login"}, ExcludeTypes: []string{"Login"}},                // exclude wins
		{Suppress: []string{"tags", "vnd.mailevents.source"}, Tags: []string{"x"}}, // replace upstream tags
		{Suppress: []string{"envelope", "envelope"}, Tags: []string{"a", "a"}},     // duplicates collapse
		{Users: []string{`\*`, "[^a]*"}, Mailboxes: []string{"**", "INBOX/**"}},    // escapes, negated classes
		{FlagEvents: "flags-only", Types: []string{"FlagsSet"}, Tags: []string{"Δ ünïcode"}},
	} {
		if _, err := Compile(cfg); err != nil {
			t.Errorf("Compile(%+v): %v", cfg, err)
		}
	}
}

// requires stands in for event.Validate at Compile time; this keeps the two
// in step: for every type, an event lacking exactly one of the parameters
// Validate may demand fails Validate precisely when requires says so.
func TestRequiresMatchesValidate(t *testing.T) {
	u := event.URL{Host: "mx", Mailbox: "INBOX", UIDValidity: 1, UID: 1}
	full := map[event.Param]event.Value{
		event.URI:          event.URLValue(u),
		event.UIDSetParam:  event.UIDValue(1),
		event.FlagNames:    event.String(`\Seen`),
		event.MailboxID:    event.URLValue(event.URL{Host: "mx", Mailbox: "INBOX"}),
		event.OldMailboxID: event.URLValue(event.URL{Host: "mx", Mailbox: "Old"}),
	}
	for _, ty := range slices.Concat(knownTypes, []event.Type{"vnd.example.Other"}) {
		for missing := range full {
			e := event.New(ty)
			for p, v := range full {
				if p != missing {
					e.Set(p, v)
				}
			}
			invalid := e.Validate() != nil
			if want := requires(ty, missing); invalid != want {
				t.Errorf("%s without %s: Validate fails = %v, requires = %v", ty, missing, invalid, want)
			}
		}
	}
	// Every other RFC parameter is optional everywhere.
	for _, p := range event.RFCParams {
		if _, ok := full[p]; ok {
			continue
		}
		for _, ty := range knownTypes {
			if requires(ty, p) {
				t.Errorf("requires(%s, %s) is true, but Validate does not demand it", ty, p)
			}
		}
	}
}

func TestKnownTypesHaveGroups(t *testing.T) {
	for _, ty := range knownTypes {
		if ty.Group() == "" {
			t.Errorf("%s has no group: group rules could never select it", ty)
		}
		if !knownType(ty) {
			t.Errorf("knownType(%s) = false", ty)
		}
	}
	if knownType("vnd.example.Other") || knownType("messageNew") {
		t.Error("knownType accepts a type the project never emits")
	}
}

func TestFormatRequiredMatchesSchema(t *testing.T) {
	var schema struct {
		Required []event.Param `json:"required"`
	}
	if err := json.Unmarshal(event.SchemaJSON, &schema); err != nil {
		t.Fatal(err)
	}
	want := slices.DeleteFunc(schema.Required, func(p event.Param) bool { return p == "event" })
	slices.Sort(want)
	got := slices.Sorted(slices.Values(formatRequired))
	if !slices.Equal(got, want) {
		t.Errorf("formatRequired = %v, the schema requires %v", got, want)
	}
}
