// Package doctor reads a mail server's configuration — Dovecot's `doveconf -n`
// output or Cyrus IMAP's imapd.conf — and tells, per RFC 5423 event type,
// whether mailevents will see the event in what that server writes, and which
// setting to change when it will not. Everything here is a pure function of
// configuration text: running doveconf and reading files is the caller's.
//
// The verdicts follow what the grammars (parsers/dovecot, parsers/cyrus,
// parsers/dovecotpush, parsers/cyrusjson) and mapping/ make of each line: the
// README of each parser lists the evidence behind every event type.
package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/mailevents/mailevents/event"
)

// Status says whether mailevents will see an event type.
type Status string

// Statuses. Seen and NotApplicable are fine; Partly and NotSeen name a
// setting that would make the event (more) complete.
const (
	// Seen: the server writes everything mailevents needs for the event.
	Seen Status = "seen"
	// Partly: the event is seen, but without some of its parameters, or
	// only from some sessions (a protocol whose settings differ).
	Partly Status = "partly"
	// NotSeen: the server, configured as it is, writes nothing mailevents
	// turns into the event; a setting would change that.
	NotSeen Status = "not seen"
	// NotApplicable: no setting makes the server report the event to
	// mailevents (Dovecot never logs QuotaChange), or it cannot happen as
	// the server is configured (QuotaExceed without a quota).
	NotApplicable Status = "n/a"
)

// Level grades a finding.
type Level string

// Levels of findings.
const (
	// Error: the server will refuse the configuration or fail with it.
	Error Level = "error"
	// Warning: something mailevents relies on is off or doubtful.
	Warning Level = "warning"
	// Info: worth knowing; nothing to change for mailevents.
	Info Level = "info"
)

// EventStatus is the verdict for one event type on one server.
type EventStatus struct {
	Type   event.Type `json:"type"`
	Status Status     `json:"status"`
	// Via names the evidence the event comes from when seen: "login log",
	// "mail_log", "delivery log", "push script" (Dovecot); "syslog",
	// "auditlog", "notifications" (Cyrus).
	Via []string `json:"via,omitempty"`
	// Detail says what is missing and why, or why the type does not apply.
	Detail string `json:"detail,omitempty"`
	// Settings are the settings to change, named as the server names them.
	Settings []string `json:"settings,omitempty"`
}

// Finding is a remark about the configuration as a whole.
type Finding struct {
	Level   Level  `json:"level"`
	Setting string `json:"setting,omitempty"`
	Text    string `json:"text"`
}

// Change is a configuration line to add (or to put in place of the current
// one), ready to paste.
type Change struct {
	Setting string `json:"setting"`
	// Section is the block the lines go in ("plugin", "protocol imap"); ""
	// for the top level.
	Section string `json:"section,omitempty"`
	// Lines are the configuration lines, in the server's syntax.
	Lines []string `json:"lines"`
	// Note says what the lines are for, when not for every event.
	Note string `json:"note,omitempty"`
	// Current is the line in force now, which the new one replaces; "" when
	// the setting is not set (its default applies).
	Current string `json:"current,omitempty"`
}

// ServerReport is the verdict for one server's configuration.
type ServerReport struct {
	Server  string `json:"server"` // "dovecot" or "cyrus"
	Version string `json:"version,omitempty"`
	// Source is where the configuration was read from ("doveconf -n", a
	// file name).
	Source   string        `json:"source"`
	Events   []EventStatus `json:"events"`
	Findings []Finding     `json:"findings"`
	Changes  []Change      `json:"changes"`
	OK       bool          `json:"ok"`
}

// Report is the verdict for every server found.
type Report struct {
	Servers []ServerReport `json:"servers"`
	// OK is true when every server's is.
	OK bool `json:"ok"`
}

// EventTypes are the types a report covers, in its order: the RFC's, then
// vnd.mailevents.LoginFailed.
func EventTypes() []event.Type {
	return append(append([]event.Type{}, event.RFCTypes...), event.LoginFailed)
}

// finish sets OK: every event seen or not applicable, and no error finding.
func (s *ServerReport) finish() {
	s.OK = true
	for _, e := range s.Events {
		if e.Status == Partly || e.Status == NotSeen {
			s.OK = false
		}
	}
	for _, f := range s.Findings {
		if f.Level == Error {
			s.OK = false
		}
	}
	if s.Findings == nil {
		s.Findings = []Finding{}
	}
	if s.Changes == nil {
		s.Changes = []Change{}
	}
}

// NewReport gathers server reports.
func NewReport(servers ...ServerReport) Report {
	r := Report{Servers: servers, OK: len(servers) > 0}
	if r.Servers == nil {
		r.Servers = []ServerReport{}
	}
	for _, s := range servers {
		r.OK = r.OK && s.OK
	}
	return r
}

// WriteJSON writes r as one indented JSON document.
func (r Report) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteText writes r for a person: per server a table of event types, then
// the findings and the lines to add.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for i, s := range r.Servers {
		if i > 0 {
			b.WriteString("\n")
		}
		s.writeText(&b)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (s ServerReport) writeText(b *strings.Builder) {
	name := map[string]string{"dovecot": "Dovecot", "cyrus": "Cyrus IMAP"}[s.Server]
	if name == "" {
		name = s.Server
	}
	if s.Version != "" {
		name += " " + s.Version
	}
	counts := map[Status]int{}
	for _, e := range s.Events {
		counts[e.Status]++
	}
	fmt.Fprintf(b, "%s (%s): %d seen, %d partly, %d not seen, %d n/a\n\n", name, s.Source,
		counts[Seen], counts[Partly], counts[NotSeen], counts[NotApplicable])

	typeWidth, statusWidth := len("EVENT"), len("STATUS")
	for _, e := range s.Events {
		typeWidth = max(typeWidth, len(e.Type))
		statusWidth = max(statusWidth, len(e.Status))
	}
	row := func(t, st, what string) {
		line := fmt.Sprintf("%-*s  %-*s  %s", typeWidth, t, statusWidth, st, what)
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	row("EVENT", "STATUS", "WHAT TO CHANGE")
	for _, e := range s.Events {
		what := e.Detail
		if e.Status == Seen {
			what = ""
		}
		row(string(e.Type), string(e.Status), what)
	}

	if len(s.Findings) > 0 {
		b.WriteString("\nFindings:\n")
		for _, f := range s.Findings {
			fmt.Fprintf(b, "  %-7s  %s\n", f.Level, f.Text)
		}
	}
	if len(s.Changes) > 0 {
		b.WriteString("\nLines to add (in place of the current ones, where shown):\n")
		writeChanges(b, s.Changes)
	}
}

// writeChanges writes the changes as configuration text, those of one
// section (and note) in one block.
func writeChanges(b *strings.Builder, changes []Change) {
	type group struct{ section, note string }
	var order []group
	byGroup := map[group][]Change{}
	for _, c := range changes {
		g := group{c.Section, c.Note}
		if _, ok := byGroup[g]; !ok {
			order = append(order, g)
		}
		byGroup[g] = append(byGroup[g], c)
	}
	// The lines for every event first, those for some after them.
	rank := func(g group) int {
		if g.note == "" {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(order, func(a, b group) int { return rank(a) - rank(b) })
	lastNote := ""
	for _, g := range order {
		if g.note != "" && g.note != lastNote {
			fmt.Fprintf(b, "  # %s\n", g.note)
		}
		lastNote = g.note
		indent := "  "
		if g.section != "" {
			fmt.Fprintf(b, "  %s {\n", g.section)
			indent = "    "
		}
		for _, c := range byGroup[g] {
			if c.Current != "" {
				fmt.Fprintf(b, "%s# now: %s\n", indent, c.Current)
			}
			for _, l := range c.Lines {
				b.WriteString(indent + l + "\n")
			}
		}
		if g.section != "" {
			b.WriteString("  }\n")
		}
	}
}

// verdict gathers what is known about one event type while a server's
// configuration is examined.
type verdict struct {
	status   Status
	via      []string
	detail   []string
	settings []string
}

func (v *verdict) addVia(s ...string) {
	for _, x := range s {
		if !slices.Contains(v.via, x) {
			v.via = append(v.via, x)
		}
	}
}

func (v *verdict) addSetting(s ...string) {
	for _, x := range s {
		if x != "" && !slices.Contains(v.settings, x) {
			v.settings = append(v.settings, x)
		}
	}
}

func (v *verdict) addDetail(s string) {
	if s != "" && !slices.Contains(v.detail, s) {
		v.detail = append(v.detail, s)
	}
}

func (v *verdict) result(t event.Type) EventStatus {
	return EventStatus{Type: t, Status: v.status, Via: v.via, Detail: strings.Join(v.detail, "; "), Settings: v.settings}
}

// findings collects findings without repeats.
type findings []Finding

func (f *findings) add(level Level, setting, format string, args ...any) {
	n := Finding{Level: level, Setting: setting, Text: fmt.Sprintf(format, args...)}
	for _, x := range *f {
		if x == n {
			return
		}
	}
	*f = append(*f, n)
}

// joinAnd joins words as a sentence does: "a", "a and b", "a, b and c".
func joinAnd(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
