package subscription

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mailevents/mailevents/event"
)

// Config is a sink's subscription as the admin writes it under
// [sink.subscription]. The zero Config delivers every event unchanged.
type Config struct {
	// Groups includes only the events of these groups (event.Groups);
	// together with Types it forms one include list.
	Groups []string `toml:"groups"`
	// ExcludeGroups drops the events of these groups.
	ExcludeGroups []string `toml:"exclude_groups"`
	// Types includes only these event types (RFC 5423 spelling, or a
	// vendor type the project emits such as "vnd.mailevents.LoginFailed").
	Types []string `toml:"types"`
	// ExcludeTypes drops these event types.
	ExcludeTypes []string `toml:"exclude_types"`
	// Users includes only events whose user parameter matches one pattern.
	Users []string `toml:"users"`
	// ExcludeUsers drops events whose user parameter matches one pattern.
	ExcludeUsers []string `toml:"exclude_users"`
	// Mailboxes includes only events whose uri names a mailbox matching
	// one pattern.
	Mailboxes []string `toml:"mailboxes"`
	// ExcludeMailboxes drops events whose uri names a mailbox matching
	// one pattern.
	ExcludeMailboxes []string `toml:"exclude_mailboxes"`
	// Suppress names parameters to drop from every delivered event.
	Suppress []string `toml:"suppress"`
	// Tags are added to the RFC 5423 tags parameter of every delivered event.
	Tags []string `toml:"tags"`
	// FlagEvents is FlagEventsRFCSpecific ("" means the same) or
	// FlagEventsFlagsOnly.
	FlagEvents string `toml:"flag_events"`
}

// Values of Config.FlagEvents.
const (
	// FlagEventsRFCSpecific delivers MessageRead and MessageTrash as the
	// mapper emits them (RFC 5423 §4.2).
	FlagEventsRFCSpecific = "rfc-specific"
	// FlagEventsFlagsOnly delivers MessageRead as FlagsSet \Seen and
	// MessageTrash as FlagsSet \Deleted.
	FlagEventsFlagsOnly = "flags-only"
)

// Error is one problem of a Config. Compile joins one per bad value, so
// that an admin sees them all at once.
type Error struct {
	Key   string // the config key, e.g. "exclude_types"
	Value string // the offending value
	msg   string
	err   error
}

func (e *Error) Error() string { return "subscription." + e.Key + ": " + e.msg }

// Unwrap returns the underlying error, such as path.ErrBadPattern.
func (e *Error) Unwrap() error { return e.err }

// knownTypes are the types a config may name: the RFC's and the vendor
// types the event package assigns a group to, which are the ones this
// project emits. A typo in a vnd. name would otherwise silently match
// nothing.
var knownTypes = slices.Concat(event.RFCTypes, []event.Type{event.LoginFailed})

func knownType(t event.Type) bool {
	return t.IsRFC() || (t.IsVendor() && t.Group() != "")
}

// deliveredType is the type an event of type t has once the flag_events
// style is applied.
func deliveredType(t event.Type, flagsOnly bool) event.Type {
	if flagsOnly && (t == event.MessageRead || t == event.MessageTrash) {
		return event.FlagsSet
	}
	return t
}

// formatRequired are the parameters the output format (event/schema.json)
// requires of every event besides what Validate checks: consumers rely on
// the id to drop duplicates. TestFormatRequiredMatchesSchema keeps the list
// in step with the schema.
var formatRequired = []event.Param{event.ID, event.Server}

// requires reports whether Validate rejects an event of type t without p.
// TestRequiresMatchesValidate keeps it in step with event.Validate.
func requires(t event.Type, p event.Param) bool {
	switch p {
	case event.URI:
		return t.IsRFC()
	case event.UIDSetParam:
		switch t {
		case event.MessageExpire, event.MessageExpunge, event.MessageRead,
			event.MessageTrash, event.FlagsSet, event.FlagsClear:
			return true
		}
	case event.FlagNames:
		return t == event.FlagsSet || t == event.FlagsClear
	case event.MailboxID:
		return t == event.MailboxCreate || t == event.MailboxDelete || t == event.MailboxRename
	case event.OldMailboxID:
		return t == event.MailboxRename
	}
	return false
}

// compiler gathers the problems of one Config.
type compiler struct {
	errs []error
}

func (c *compiler) fail(key, value string, err error, format string, args ...any) {
	c.errs = append(c.errs, &Error{Key: key, Value: value, msg: fmt.Sprintf(format, args...), err: err})
}

// Compile checks cfg and prepares it for Apply. The error joins one *Error
// per problem.
func Compile(cfg Config) (*Filter, error) {
	var c compiler
	f := &Filter{}

	switch cfg.FlagEvents {
	case "", FlagEventsRFCSpecific:
	case FlagEventsFlagsOnly:
		f.flagsOnly = true
	default:
		c.fail("flag_events", cfg.FlagEvents, nil, "unknown value %q (want %q or %q)",
			cfg.FlagEvents, FlagEventsRFCSpecific, FlagEventsFlagsOnly)
	}

	groups := c.groups("groups", cfg.Groups)
	exGroups := c.groups("exclude_groups", cfg.ExcludeGroups)
	types := c.types("types", cfg.Types, f.flagsOnly)
	exTypes := c.types("exclude_types", cfg.ExcludeTypes, f.flagsOnly)
	f.compileTypes(groups, exGroups, types, exTypes)

	f.users = c.patterns("users", cfg.Users, false)
	f.excludeUsers = c.patterns("exclude_users", cfg.ExcludeUsers, false)
	f.mailboxes = c.patterns("mailboxes", cfg.Mailboxes, true)
	f.excludeMailboxes = c.patterns("exclude_mailboxes", cfg.ExcludeMailboxes, true)

	f.suppress = c.suppress(cfg.Suppress, f)
	f.tags = c.tags(cfg.Tags)
	if len(f.tags) > 0 {
		f.tagsValue = event.String(strings.Join(f.tags, ","))
	}

	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	f.zero = !f.typeRules && !f.flagsOnly && f.users.empty() && f.excludeUsers.empty() &&
		f.mailboxes.empty() && f.excludeMailboxes.empty() && len(f.suppress) == 0 && len(f.tags) == 0
	return f, nil
}

func (c *compiler) groups(key string, names []string) map[event.Group]bool {
	set := make(map[event.Group]bool, len(names))
	for _, n := range names {
		g := event.Group(n)
		if slices.Contains(event.Groups, g) {
			set[g] = true
			continue
		}
		known := make([]string, len(event.Groups))
		for i, g := range event.Groups {
			known[i] = string(g)
		}
		c.fail(key, n, nil, "unknown group %q%s (known: %s)", n, suggest(n, known), strings.Join(known, ", "))
	}
	return set
}

func (c *compiler) types(key string, names []string, flagsOnly bool) map[event.Type]bool {
	set := make(map[event.Type]bool, len(names))
	for _, n := range names {
		t := event.Type(n)
		switch {
		case !knownType(t):
			var known, vendor []string
			for _, t := range knownTypes {
				known = append(known, string(t))
				if !t.IsRFC() {
					vendor = append(vendor, string(t))
				}
			}
			c.fail(key, n, nil, "unknown event type %q%s (RFC 5423 types are case-sensitive; vendor types: %s)",
				n, suggest(n, known), strings.Join(vendor, ", "))
		case deliveredType(t, flagsOnly) != t:
			c.fail(key, n, nil, "%q is never delivered with flag_events = %q: it becomes %s",
				n, FlagEventsFlagsOnly, deliveredType(t, flagsOnly))
		default:
			set[t] = true
		}
	}
	return set
}

// suggest names the known spelling of a name that differs only in case,
// the likeliest slip with RFC 5423's camel-case names.
func suggest(name string, known []string) string {
	for _, k := range known {
		if strings.EqualFold(k, name) {
			return fmt.Sprintf(" (did you mean %q?)", k)
		}
	}
	return ""
}

func (c *compiler) patterns(key string, pats []string, mailbox bool) matcher {
	var m matcher
	for _, p := range pats {
		g, err := compileGlob(p, mailbox)
		if err != nil {
			c.fail(key, p, err, "bad pattern %q: %v", p, err)
			continue
		}
		m.add(g)
	}
	return m
}

func (c *compiler) suppress(names []string, f *Filter) []event.Param {
	var out []event.Param
	for _, n := range names {
		p := event.Param(n)
		switch {
		case n == "event":
			c.fail("suppress", n, nil, `"event" is the event type, not a parameter; it cannot be suppressed`)
			continue
		case !p.IsRFC() && !p.IsVendor():
			known := make([]string, len(event.RFCParams))
			for i, p := range event.RFCParams {
				known[i] = string(p)
			}
			c.fail("suppress", n, nil, "unknown parameter %q%s (RFC 5423 names are case-sensitive; vendor names begin with \"vnd.\")",
				n, suggest(n, known))
			continue
		}
		if slices.Contains(formatRequired, p) {
			c.fail("suppress", n, nil, "cannot drop %q: the output format requires it on every event (event/schema.json)", n)
			continue
		}
		if needers := f.typesRequiring(p); len(needers) > 0 {
			c.fail("suppress", n, nil, "cannot drop %q: delivered %s events are invalid without it (RFC 5423); exclude those types to drop it",
				n, strings.Join(needers, ", "))
			continue
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func (c *compiler) tags(tags []string) []string {
	var out []string
	for _, t := range tags {
		if msg := tagProblem(t); msg != "" {
			c.fail("tags", t, nil, "invalid tag %q: %s", t, msg)
			continue
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// tagProblem says why t cannot be one tag of the comma-separated list RFC
// 5423 §5 describes, or "".
func tagProblem(t string) string {
	switch {
	case t == "":
		return "empty"
	case !utf8.ValidString(t):
		return "not UTF-8"
	case strings.IndexByte(t, ',') >= 0:
		return "contains a comma, which separates tags"
	case strings.TrimSpace(t) != t:
		return "leading or trailing white space"
	}
	for _, r := range t {
		if unicode.IsControl(r) {
			return "contains a control character"
		}
	}
	return ""
}

// compileTypes decides, once per known type, whether its events are
// delivered, so that Apply needs one lookup.
func (f *Filter) compileTypes(groups, exGroups map[event.Group]bool, types, exTypes map[event.Type]bool) {
	include := len(groups) > 0 || len(types) > 0
	f.typeRules = include || len(exGroups) > 0 || len(exTypes) > 0
	// Types of no group (a vendor type the config cannot name) pass
	// exactly when there is no include list.
	f.acceptOther = !include
	if !f.typeRules {
		return // every type passes, converted or not
	}
	f.accept = make(map[event.Type]bool, len(knownTypes))
	for _, t := range knownTypes {
		d := deliveredType(t, f.flagsOnly)
		in := !include || groups[d.Group()] || types[d]
		f.accept[t] = in && !exGroups[d.Group()] && !exTypes[d]
	}
}

// typesRequiring lists the delivered types that Validate rejects without
// p, in the RFC's order.
func (f *Filter) typesRequiring(p event.Param) []string {
	var out []string
	for _, t := range knownTypes {
		d := deliveredType(t, f.flagsOnly)
		if f.acceptsType(t) && requires(d, p) && !slices.Contains(out, string(d)) {
			out = append(out, string(d))
		}
	}
	return out
}

// compileGlob checks one user or mailbox pattern. Mailbox patterns also
// take "**" alone (every mailbox) or as the last level, "P/**" (every
// mailbox below one matching P); anywhere else "**" would quietly mean
// "*", which is not what its writer meant.
func compileGlob(p string, mailbox bool) (glob, error) {
	if p == "" {
		return glob{}, errors.New("empty pattern")
	}
	g := glob{pattern: p}
	if mailbox {
		switch {
		case p == "**":
			return glob{all: true}, nil
		case p == "/**":
			return glob{}, errors.New(`nothing before "/**" (write "**" for every mailbox)`)
		case strings.HasSuffix(p, "/**"):
			g.pattern, g.subtree = strings.TrimSuffix(p, "/**"), true
		}
		if strings.Contains(g.pattern, "**") {
			return glob{}, errors.New(`"**" is allowed only as a whole last level ("Archive/**") or alone`)
		}
	}
	if _, err := path.Match(g.pattern, ""); err != nil {
		return glob{}, err
	}
	const meta = `*?[\`
	switch q := g.pattern; {
	case !strings.ContainsAny(q, meta):
		g.kind = globLiteral
	case strings.HasSuffix(q, "*") && !strings.ContainsAny(q[:len(q)-1], meta):
		g.kind, g.fixed = globPrefix, q[:len(q)-1]
	case strings.HasPrefix(q, "*") && !strings.ContainsAny(q[1:], meta):
		g.kind, g.fixed = globSuffix, q[1:]
	}
	return g, nil
}
