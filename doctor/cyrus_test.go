package doctor

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/mailevents/mailevents/event"
)

// imapdCases are imapd.conf texts with what libconfig makes of them; the
// same table is checked against Cyrus's own reading (cyr_info) in
// TestImapdConfLikeCyrus.
var imapdCases = []struct {
	name, text string
	want       map[string]string // option → value; nil with problems
	problems   []string          // substrings of the problems, in order
}{
	{name: "plain",
		text: "auditlog: yes\nsyslog_prefix: cyrus\n",
		want: map[string]string{"auditlog": "yes", "syslog_prefix": "cyrus"}},
	{name: "odd spacing and case",
		text: "   AuditLog:yes   \n\tEvent_Groups:\t message   flags \t\n",
		want: map[string]string{"auditlog": "yes", "event_groups": "message   flags"}},
	{name: "comments",
		text: "# auditlog: yes\n  # indented comment\nevent_notifier: log # not a comment here\n\n",
		want: map[string]string{"event_notifier": "log # not a comment here"}},
	{name: "continuation",
		text: "event_groups: message \\\nflags   access\nsyslog_prefix: cy\\\nrus\n",
		want: map[string]string{"event_groups": "message flags   access", "syslog_prefix": "cyrus"}},
	{name: "a comment continues too",
		text: "# a comment \\\nauditlog: yes\nevent_notifier: log\n",
		want: map[string]string{"event_notifier": "log"}},
	{name: "CRLF",
		text: "auditlog: yes\r\nevent_groups: message flags\r\n",
		want: map[string]string{"auditlog": "yes", "event_groups": "message flags"}},
	{name: "service-specific",
		text: "imap_event_notifier: log\nlmtp_auditlog: yes\n",
		want: map[string]string{"imap_event_notifier": "log", "lmtp_auditlog": "yes"}},
	{name: "twice",
		text:     "auditlog: yes\nAUDITLOG: no\n",
		problems: []string{":2: option auditlog given twice (first on test.conf:1)"}},
	{name: "empty value",
		text:     "event_notifier:   \n",
		problems: []string{":1: empty option value for event_notifier"}},
	{name: "space before the colon",
		text:     "syslog_facility :LOCAL6\n",
		problems: []string{":1: invalid option name"}},
	{name: "space in a key",
		text:     "event groups: message\n",
		problems: []string{":1: invalid option name"}},
	{name: "unknown directive",
		text:     "@import: other.conf\n",
		problems: []string{":1: invalid directive @import"}},
}

func TestParseImapdConf(t *testing.T) {
	for _, tc := range imapdCases {
		t.Run(tc.name, func(t *testing.T) {
			c := ParseImapdConf("test.conf", []byte(tc.text), nil)
			if len(c.Problems) != len(tc.problems) {
				t.Fatalf("problems %q, want %q", c.Problems, tc.problems)
			}
			for i, p := range tc.problems {
				if !strings.Contains(c.Problems[i], p) {
					t.Errorf("problem %q, want one containing %q", c.Problems[i], p)
				}
			}
			for key, want := range tc.want {
				o, ok := c.Get(key)
				if !ok || o.Value != want {
					t.Errorf("%s = %q (set %v), want %q", key, o.Value, ok, want)
				}
			}
			if tc.problems == nil && len(c.Options) != len(tc.want) {
				t.Errorf("options %+v, want %d", c.Options, len(tc.want))
			}
		})
	}
}

func TestParseImapdConfInclude(t *testing.T) {
	files := map[string]string{
		"/etc/imapd.d/events.conf": "event_notifier: log\n@include: /etc/imapd.d/more.conf\n",
		"/etc/imapd.d/more.conf":   "event_groups: message\n",
		"/etc/imapd.d/loop.conf":   "@include: /etc/imapd.conf\n",
	}
	read := func(f string) ([]byte, error) {
		if s, ok := files[f]; ok {
			return []byte(s), nil
		}
		return nil, errors.New("open " + f + ": no such file or directory")
	}
	c := ParseImapdConf("/etc/imapd.conf", []byte("auditlog: yes\n@include: /etc/imapd.d/events.conf\n@include: /etc/imapd.d/loop.conf\n@include: /etc/imapd.d/missing.conf\n"), read)
	for key, file := range map[string]string{"auditlog": "/etc/imapd.conf", "event_notifier": "/etc/imapd.d/events.conf", "event_groups": "/etc/imapd.d/more.conf"} {
		if o, ok := c.Get(key); !ok || o.File != file {
			t.Errorf("%s: %+v, want it from %s", key, o, file)
		}
	}
	want := []string{
		"/etc/imapd.d/loop.conf:1: configuration file /etc/imapd.conf included twice",
		"/etc/imapd.conf:4: @include: open /etc/imapd.d/missing.conf: no such file or directory",
	}
	if !slices.Equal(c.Problems, want) {
		t.Errorf("problems %q, want %q", c.Problems, want)
	}
	if c := ParseImapdConf("x", []byte("@include: /y\n"), nil); len(c.Problems) != 1 || !strings.Contains(c.Problems[0], "not read") {
		t.Errorf("an @include without a reader: %q", c.Problems)
	}
}

func TestCyrusSwitch(t *testing.T) {
	for v, want := range map[string][2]bool{
		"yes": {true, true}, "on": {true, true}, "true": {true, true}, "1": {true, true}, "y": {true, true},
		"no": {false, true}, "off": {false, true}, "false": {false, true}, "0": {false, true},
		"Yes": {false, false}, "maybe": {false, false}, "o": {false, false},
	} {
		on, ok := cyrusSwitch(v)
		if on != want[0] || ok != want[1] {
			t.Errorf("%q: on %v ok %v, want %v %v", v, on, ok, want[0], want[1])
		}
	}
}

func cyrusReport(text string) ServerReport {
	return CheckCyrus(CyrusInput{Source: "imapd.conf", Text: []byte(text)})
}

// TestCheckCyrusSettings: which event types each path gives.
func TestCheckCyrusSettings(t *testing.T) {
	notify := "event_notifier: log\nnotifysocket: dlist:/run/cyrus/socket/mailevents\n"
	all := "event_groups: message quota flags access mailbox subscription\nevent_extra_params: timestamp clientAddress messageSize vnd.cmu.sessionId\n"
	for _, tc := range []struct {
		name, text string
		def        Status
		want       map[event.Type]Status
		change     []string
	}{
		{"syslog only", "configdirectory: /var/lib/cyrus\n", NotSeen,
			map[event.Type]Status{event.LoginFailed: Seen, event.MailboxDelete: Seen, event.MailboxRename: Seen,
				event.Login: Partly, event.Logout: Partly, event.MessageNew: Partly},
			[]string{"auditlog: yes", "event_notifier: log", "notifysocket: dlist:/run/cyrus/socket/mailevents",
				"event_groups: message mailbox flags access subscription", "event_extra_params: timestamp clientAddress vnd.cmu.sessionId"}},
		{"auditlog", "auditlog: yes\n", Seen,
			map[event.Type]Status{event.Login: Partly, event.FlagsSet: Partly, event.FlagsClear: Partly, event.QuotaExceed: NotSeen, event.QuotaWithin: NotSeen,
				event.MailboxSubscribe: NotSeen, event.MailboxUnSubscribe: NotSeen},
			[]string{"event_notifier: log"}},
		{"notifications with Cyrus's default groups", notify, NotSeen,
			map[event.Type]Status{event.LoginFailed: Seen, event.MailboxDelete: Seen, event.MailboxRename: Seen, event.MailboxCreate: Seen,
				event.MessageExpunge: Seen, event.MessageExpire: Seen, event.MessageAppend: Partly, event.MessageNew: Partly,
				event.Login: Partly, event.Logout: Partly},
			[]string{"event_groups: message mailbox flags access subscription"}},
		{"notifications, every group", notify + all, Seen, nil, nil},
		{"notifications without clientAddress", notify + strings.Replace(all, " clientAddress", "", 1), Seen,
			map[event.Type]Status{event.Login: Partly}, []string{"event_extra_params: timestamp messageSize vnd.cmu.sessionId clientAddress"}},
		{"notifyd's socket, log method", "event_notifier: log\nnotifysocket: /run/cyrus/socket/notify\n" + all, Seen, nil, nil},
		{"notifyd's socket, another method", "event_notifier: mailto\n" + all, NotSeen,
			map[event.Type]Status{event.LoginFailed: Seen, event.MailboxDelete: Seen, event.MailboxRename: Seen,
				event.Login: Partly, event.Logout: Partly, event.MessageNew: Partly},
			[]string{"event_notifier: log", "notifysocket: dlist:/run/cyrus/socket/mailevents"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cyrusReport(tc.text)
			wantStatuses(t, r, tc.def, tc.want)
			lines := changeLines(r)
			for _, c := range tc.change {
				if !slices.Contains(lines, c) {
					t.Errorf("no change %q in %q", c, lines)
				}
			}
			if tc.change == nil && len(lines) > 0 {
				t.Errorf("changes %q", lines)
			}
			if r.OK != (tc.def == Seen && tc.want == nil) {
				t.Errorf("OK %v", r.OK)
			}
		})
	}
}

func TestCheckCyrusFindings(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		level      Level
		finding    string
	}{
		{"refused", "auditlog: yes\nauditlog: yes\n", Error, "Cyrus refuses this file: imapd.conf:2: option auditlog given twice"},
		{"bad switch", "auditlog: Yes\n", Error, "auditlog: Yes is not a switch"},
		{"unknown group", "event_groups: message jmap\n", Warning, "event_groups: jmap is not a value Cyrus 3.6.1 knows"},
		{"service-specific", "lmtp_auditlog: yes\n", Warning, "lmtp_auditlog: yes sets auditlog for the service lmtp only"},
		{"quota crash", "event_notifier: log\nnotifysocket: /run/me\nevent_groups: quota\n", Warning, "lmtpd dies on an assertion"},
		{"datagrams", "event_notifier: log\nnotifysocket: /run/me\nevent_extra_params: messageContent\n", Warning, "datagrams that grow too large are dropped"},
		{"facility", "syslog_facility: LOCAL6\n", Info, "Cyrus logs with facility LOCAL6"},
		{"both paths", "auditlog: on\nevent_notifier: log\nnotifysocket: /run/me\n", Warning, "lacks vnd.cmu.sessionId: --dedup cannot pair"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cyrusReport(tc.text)
			if !hasFinding(r, tc.level, tc.finding) {
				t.Errorf("no %s %q in %+v", tc.level, tc.finding, r.Findings)
			}
			if tc.level == Error && r.OK {
				t.Error("OK with an error")
			}
		})
	}
	// The harness's datagram socket is named "notify" too, but is not
	// notifyd's.
	r := cyrusReport("configdirectory: /tmp/cyt1/config\nevent_notifier: log\nnotifysocket: /tmp/cyt1/notify\n")
	if hasFinding(r, Info, "notifications go to notifyd") {
		t.Errorf("a socket outside configdirectory taken for notifyd's: %+v", r.Findings)
	}
	r = cyrusReport("configdirectory: /var/lib/cyrus\nevent_notifier: log\nnotifysocket: /var/lib/cyrus/socket/notify\n")
	if !hasFinding(r, Info, "notifications go to notifyd") {
		t.Errorf("{configdirectory}/socket/notify not taken for notifyd's: %+v", r.Findings)
	}
}

func TestCheckCyrusChangesReplace(t *testing.T) {
	r := cyrusReport("auditlog: no\nevent_groups: message\nevent_notifier: log\nnotifysocket: /run/me\n")
	var got []string
	for _, c := range r.Changes {
		got = append(got, c.Current+" => "+strings.Join(c.Lines, "|"))
	}
	want := []string{
		"auditlog: no => auditlog: yes",
		"event_groups: message => event_groups: message flags access mailbox subscription",
		" => event_extra_params: timestamp clientAddress messageSize vnd.cmu.sessionId",
	}
	if !slices.Equal(got, want) {
		t.Errorf("changes %q, want %q", got, want)
	}
}

func TestCyrusPackagedConf(t *testing.T) {
	text, err := os.ReadFile("../packaging/cyrus/imapd-mailevents.conf")
	if err != nil {
		t.Fatal(err)
	}
	r := CheckCyrus(CyrusInput{Source: "packaging/cyrus/imapd-mailevents.conf", Text: text})
	// quota is left out on purpose (it crashes 3.6.1's lmtpd).
	wantStatuses(t, r, Seen, map[event.Type]Status{event.QuotaExceed: NotSeen, event.QuotaWithin: NotSeen})
	if len(r.Changes) != 0 {
		t.Errorf("changes %+v: quota must not be proposed", r.Changes)
	}
	if !strings.Contains(eventOf(r, event.QuotaExceed).Detail, "crash") {
		t.Errorf("QuotaExceed: %q", eventOf(r, event.QuotaExceed).Detail)
	}
}
