package subscription

import (
	"path"
	"slices"
	"strings"

	"github.com/mailevents/mailevents/event"
)

// Filter is a compiled Config. It is immutable, so sinks on several
// goroutines may share one. A nil *Filter delivers everything unchanged.
type Filter struct {
	zero bool

	// typeRules is set when some group or type rule exists; accept then
	// holds the decision for every known type, keyed by the type the
	// mapper emitted (flags-only folds the conversion in).
	typeRules   bool
	accept      map[event.Type]bool
	acceptOther bool

	users, excludeUsers         matcher
	mailboxes, excludeMailboxes matcher

	suppress  []event.Param
	tags      []string
	tagsValue event.Value // tags joined, set as is on events without tags
	flagsOnly bool
}

// IsZero reports whether the filter neither drops nor changes any event,
// as the empty Config compiles to. A dead-letter sink's subscription must
// be zero: dead letters are not events and have no type, user or uri.
func (f *Filter) IsZero() bool { return f == nil || f.zero }

// Transforms reports whether Apply may change an event. When it does not,
// the pipeline may hand the sink the shared event instead of a copy.
func (f *Filter) Transforms() bool {
	return f != nil && (f.flagsOnly || len(f.suppress) > 0 || len(f.tags) > 0)
}

// The flagNames of converted events.
var (
	seenFlag    = event.String(`\Seen`)
	deletedFlag = event.String(`\Deleted`)
)

// Apply reports whether the sink receives ev and, if so, transforms it in
// place: suppressed parameters dropped, flag events restyled, tags added.
// ev is changed only when Apply returns true. ev must be a valid event
// (the pipeline validates before delivery); it stays valid.
func (f *Filter) Apply(ev *event.Event) bool {
	if f == nil || f.zero {
		return true
	}
	if !f.acceptsType(ev.Type) {
		return false
	}
	if !f.users.empty() || !f.excludeUsers.empty() {
		if !admit(&f.users, &f.excludeUsers, ev.GetString(event.User)) {
			return false
		}
	}
	if !f.mailboxes.empty() || !f.excludeMailboxes.empty() {
		if !admit(&f.mailboxes, &f.excludeMailboxes, mailboxOf(ev.GetString(event.URI))) {
			return false
		}
	}
	for _, p := range f.suppress {
		ev.Delete(p)
	}
	if f.flagsOnly {
		toFlagsSet(ev)
	}
	if len(f.tags) > 0 {
		f.addTags(ev)
	}
	return true
}

func (f *Filter) acceptsType(t event.Type) bool {
	if f.accept == nil {
		return true
	}
	if ok, known := f.accept[t]; known {
		return ok
	}
	return f.acceptOther
}

// admit applies an include and an exclude list to one value; "" is an
// absent value, which no include pattern matches and no exclude drops.
func admit(include, exclude *matcher, s string) bool {
	if s == "" {
		return include.empty()
	}
	if !include.empty() && !include.match(s) {
		return false
	}
	return !exclude.match(s)
}

// toFlagsSet turns MessageRead into FlagsSet \Seen and MessageTrash into
// FlagsSet \Deleted, keeping every other parameter.
func toFlagsSet(ev *event.Event) {
	var flag event.Value
	switch ev.Type {
	case event.MessageRead:
		flag = seenFlag
	case event.MessageTrash:
		flag = deletedFlag
	default:
		return
	}
	ev.Type = event.FlagsSet
	have := ev.GetString(event.FlagNames)
	switch {
	case have == "":
		ev.Set(event.FlagNames, flag)
	case !hasFlag(have, flag.Str()):
		// No mapper sends flagNames with these types today; should one,
		// the flag joins the list, sorted as the mappers sort theirs.
		flags := append(strings.Split(have, " "), flag.Str())
		slices.Sort(flags)
		ev.SetString(event.FlagNames, strings.Join(flags, " "))
	}
}

// hasFlag reports whether the space-separated list has flag; IMAP flag
// names are case-insensitive (RFC 3501 §2.3.2).
func hasFlag(list, flag string) bool {
	for f := range strings.SplitSeq(list, " ") {
		if strings.EqualFold(f, flag) {
			return true
		}
	}
	return false
}

// addTags merges the configured tags into the event's tags parameter,
// after any it has, without repeating one.
func (f *Filter) addTags(ev *event.Event) {
	have := ev.GetString(event.Tags)
	if have == "" {
		ev.Set(event.Tags, f.tagsValue)
		return
	}
	var merged []string
	for t := range strings.SplitSeq(have, ",") {
		if t = strings.TrimSpace(t); t != "" && !slices.Contains(merged, t) {
			merged = append(merged, t)
		}
	}
	for _, t := range f.tags {
		if !slices.Contains(merged, t) {
			merged = append(merged, t)
		}
	}
	if s := strings.Join(merged, ","); s != have {
		ev.SetString(event.Tags, s)
	}
}

// matcher is a compiled pattern list: literal patterns in a set, the
// others tried in order.
type matcher struct {
	literal map[string]struct{}
	globs   []glob
}

type glob struct {
	pattern string
	kind    globKind
	fixed   string // the pattern without its "*" for globPrefix and globSuffix
	subtree bool   // "P/**": names strictly below a mailbox matching pattern
	all     bool   // "**": every mailbox
}

// globKind sorts out the shapes most patterns have ("*@example.org",
// "Junk/*", "INBOX"), which are matched without path.Match: it costs
// several times more than comparing a prefix or suffix.
type globKind uint8

const (
	globGeneral globKind = iota // path.Match
	globLiteral                 // no glob syntax: the value itself
	globPrefix                  // "abc*"
	globSuffix                  // "*abc"
)

func (m *matcher) add(g glob) {
	if g.kind == globLiteral && !g.subtree {
		if m.literal == nil {
			m.literal = make(map[string]struct{})
		}
		m.literal[g.pattern] = struct{}{}
		return
	}
	m.globs = append(m.globs, g)
}

func (m *matcher) empty() bool { return len(m.literal) == 0 && len(m.globs) == 0 }

func (m *matcher) match(s string) bool {
	if _, ok := m.literal[s]; ok {
		return true
	}
	for i := range m.globs {
		if m.globs[i].match(s) {
			return true
		}
	}
	return false
}

func (g *glob) match(s string) bool {
	switch {
	case g.all:
		return true
	case g.subtree:
		// Each "/" that has something after it ends an ancestor.
		for i := 0; i < len(s)-1; i++ {
			if s[i] == '/' && g.matchWhole(s[:i]) {
				return true
			}
		}
		return false
	}
	return g.matchWhole(s)
}

// matchWhole is path.Match(g.pattern, s); FuzzGlob holds it to that. As
// in path.Match, "*" matches no "/".
func (g *glob) matchWhole(s string) bool {
	switch g.kind {
	case globLiteral:
		return s == g.pattern
	case globPrefix:
		return strings.HasPrefix(s, g.fixed) && strings.IndexByte(s[len(g.fixed):], '/') < 0
	case globSuffix:
		return strings.HasSuffix(s, g.fixed) && strings.IndexByte(s[:len(s)-len(g.fixed)], '/') < 0
	}
	// Compile checked the pattern, so Match cannot fail.
	ok, _ := path.Match(g.pattern, s)
	return ok
}

// mailboxOf returns the decoded mailbox name of an IMAP URL, "" for a
// server URL. It reads the common, unescaped form in place, as
// event.ParseURL would, and leaves anything else to ParseURL, which
// allocates; FuzzMailboxOf holds the two to the same answer.
func mailboxOf(uri string) string {
	const scheme = "imap://"
	if !hasPrefixFoldASCII(uri, scheme) {
		return parsedMailbox(uri)
	}
	_, rest, ok := strings.Cut(uri[len(scheme):], "/")
	if !ok || rest == "" {
		return ""
	}
	raw, params, hasParams := strings.Cut(rest, ";")
	if strings.IndexByte(raw, '%') >= 0 {
		return parsedMailbox(uri)
	}
	if hasParams && hasPrefixFoldASCII(params, "uid=") {
		// "/;UID=" follows the mailbox directly: its "/" is no part of it.
		if raw, ok = strings.CutSuffix(raw, "/"); !ok {
			return parsedMailbox(uri)
		}
	}
	return raw
}

func parsedMailbox(uri string) string {
	u, err := event.ParseURL(uri)
	if err != nil {
		return ""
	}
	return u.Mailbox
}

// hasPrefixFoldASCII is strings.HasPrefix ignoring ASCII case; prefix must
// be lower case. Unicode folding would let "K" (Kelvin) pass for "k".
func hasPrefixFoldASCII(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}
