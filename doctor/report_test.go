package doctor

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mailevents/mailevents/event"
)

func TestEventTypes(t *testing.T) {
	types := EventTypes()
	if len(types) != 19 || types[len(types)-1] != event.LoginFailed {
		t.Errorf("%d types, last %s", len(types), types[len(types)-1])
	}
	for _, typ := range types[:18] {
		if !typ.IsRFC() {
			t.Errorf("%s is no RFC 5423 type", typ)
		}
	}
}

func TestReportOK(t *testing.T) {
	all := func(s Status) []EventStatus {
		var out []EventStatus
		for _, typ := range EventTypes() {
			out = append(out, EventStatus{Type: typ, Status: s})
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		events []EventStatus
		f      []Finding
		want   bool
	}{
		{"all seen", all(Seen), nil, true},
		{"n/a is fine", append(all(Seen)[1:], EventStatus{Type: event.MessageAppend, Status: NotApplicable}), nil, true},
		{"partly", append(all(Seen)[1:], EventStatus{Type: event.MessageAppend, Status: Partly}), nil, false},
		{"not seen", append(all(Seen)[1:], EventStatus{Type: event.MessageAppend, Status: NotSeen}), nil, false},
		{"a warning is fine", all(Seen), []Finding{{Level: Warning, Text: "w"}}, true},
		{"an error", all(Seen), []Finding{{Level: Error, Text: "e"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ServerReport{Server: "cyrus", Events: tc.events, Findings: tc.f}
			s.finish()
			if s.OK != tc.want {
				t.Errorf("OK %v, want %v", s.OK, tc.want)
			}
			ok := ServerReport{Server: "dovecot", Events: all(Seen)}
			ok.finish()
			if r := NewReport(ok, s); r.OK != tc.want {
				t.Errorf("report OK %v, want %v", r.OK, tc.want)
			}
		})
	}
	if NewReport().OK {
		t.Error("a report of no server is OK")
	}
}

// TestReportJSON: the JSON document for scripts holds what the text shows,
// and reads back into the same report.
func TestReportJSON(t *testing.T) {
	saved, err := os.ReadFile("testdata/dovecot-2.4.doveconf")
	if err != nil {
		t.Fatal(err)
	}
	d, err := CheckDovecot(DovecotInput{Source: "testdata/dovecot-2.4.doveconf", Text: string(saved)})
	if err != nil {
		t.Fatal(err)
	}
	c := cyrusReport("auditlog: yes\nsyslog_facility: LOCAL6\n")
	r := NewReport(d, c)
	var b bytes.Buffer
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "report-json", b.String())
	var back Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	var raw struct {
		OK      bool `json:"ok"`
		Servers []struct {
			Server string `json:"server"`
			Events []struct {
				Type, Status string
			} `json:"events"`
			Changes []struct {
				Lines []string `json:"lines"`
			} `json:"changes"`
		} `json:"servers"`
	}
	if err := json.Unmarshal(b.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	if raw.OK || len(raw.Servers) != 2 || raw.Servers[1].Server != "cyrus" || len(raw.Servers[1].Events) != 19 ||
		raw.Servers[1].Events[0].Type != "MessageAppend" || raw.Servers[1].Events[0].Status != "seen" ||
		len(raw.Servers[1].Changes) == 0 {
		t.Errorf("JSON %+v", raw)
	}
}

func TestWriteText(t *testing.T) {
	s := ServerReport{Server: "cyrus", Source: "imapd.conf", Events: []EventStatus{
		{Type: event.Login, Status: Seen, Detail: "a note for JSON only"},
		{Type: event.MailboxSubscribe, Status: NotSeen, Detail: "event_groups lacks subscription"},
	}, Findings: []Finding{{Level: Info, Text: "one finding"}}, Changes: []Change{
		{Setting: "event_groups", Lines: []string{"event_groups: message subscription"}, Current: "event_groups: message"},
		{Setting: "x", Section: "plugin", Note: "for a few", Lines: []string{"a = 1"}},
		{Setting: "auditlog", Lines: []string{"auditlog: yes"}},
		{Setting: "y", Section: "plugin", Note: "for a few", Lines: []string{"b = 2"}},
	}}
	s.finish()
	var b strings.Builder
	if err := NewReport(s).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := `Cyrus IMAP (imapd.conf): 1 seen, 0 partly, 1 not seen, 0 n/a

EVENT             STATUS    WHAT TO CHANGE
Login             seen
MailboxSubscribe  not seen  event_groups lacks subscription

Findings:
  info     one finding

Lines to add (in place of the current ones, where shown):
  # now: event_groups: message
  event_groups: message subscription
  auditlog: yes
  # for a few
  plugin {
    a = 1
    b = 2
  }
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestJoinAnd(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{{nil, ""}, {[]string{"a"}, "a"}, {[]string{"a", "b"}, "a and b"}, {[]string{"a", "b", "c"}, "a, b and c"}} {
		if got := joinAnd(tc.in); got != tc.want {
			t.Errorf("joinAnd(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
