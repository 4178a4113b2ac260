package doctor

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mailevents/mailevents/event"
)

func TestParseDoveconf(t *testing.T) {
	// Shapes doveconf -n prints: the version line, quoted values (white
	// space at an end, '#'), nested sections with quoted names, the hidden
	// marker, 2.4's boolean lists as sections.
	text := `# 2.3.19.1 (9b53102964): /etc/dovecot/dovecot.conf
# Pigeonhole version 0.5.19 (4eae2f79)
# OS: Linux 6.1.0-18-amd64 x86_64 Debian 12.5 
mail_plugins = " quota notify mail_log"
mail_log_prefix = "%s(%u)<%{pid}><%{session}>: "
odd = "a \"quoted\" \\ value # with hash"
empty = 
namespace inbox {
  inbox = yes
  location = 
  mailbox "Sent Messages" {
    special_use = \Sent
  }
  mailbox Trash {
    auto = create
  }
}
plugin {
  mail_log_events = save copy
}
ssl_key = # hidden, use -P to show it
protocol imap {
  mail_plugins = " quota imap_quota"
  plugin {
    mail_log_fields = uid box
  }
}
`
	c, err := ParseDoveconf(text)
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != "2.3.19.1" || c.Path != "/etc/dovecot/dovecot.conf" || c.Is24() {
		t.Errorf("version %q path %q is24 %v", c.Version, c.Path, c.Is24())
	}
	get := func(s *DovecotSection, key string) string {
		t.Helper()
		v, ok := s.Get(key)
		if !ok {
			t.Errorf("%s not set in %q", key, s.Label())
		}
		return v
	}
	for key, want := range map[string]string{
		"mail_plugins":    " quota notify mail_log",
		"mail_log_prefix": "%s(%u)<%{pid}><%{session}>: ",
		"odd":             `a "quoted" \ value # with hash`,
		"empty":           "",
		"ssl_key":         "# hidden, use -P to show it",
	} {
		if got := get(c.Root, key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	ns := c.Root.Section("namespace", "inbox")
	if ns == nil || ns.Section("mailbox", "Sent Messages") == nil || ns.Section("mailbox", "Trash") == nil {
		t.Fatalf("namespace inbox and its mailboxes not found: %+v", ns)
	}
	if got := get(ns.Section("mailbox", "Sent Messages"), "special_use"); got != `\Sent` {
		t.Errorf("special_use = %q", got)
	}
	imap := c.Root.Section("protocol", "imap")
	if got := get(imap, "mail_plugins"); got != " quota imap_quota" {
		t.Errorf("protocol imap mail_plugins = %q", got)
	}
	if got := get(imap.Section("plugin", ""), "mail_log_fields"); got != "uid box" {
		t.Errorf("protocol imap plugin mail_log_fields = %q", got)
	}
	if _, ok := c.Root.Get("mail_log_fields"); ok {
		t.Error("a setting of a section leaked to the top level")
	}
	if got := ns.Section("mailbox", "Sent Messages").Label(); got != `mailbox "Sent Messages"` {
		t.Errorf("label %q", got)
	}
}

func TestParseDoveconfVersions(t *testing.T) {
	for _, tc := range []struct {
		name, text, version string
		is24, is22          bool
	}{
		{"2.3", "# 2.3.19.1 (9b53102964): /etc/dovecot/dovecot.conf\nx = 1\n", "2.3.19.1", false, false},
		{"2.4 debian", "# 2.4.1-4 (7d8c0e5759): /etc/dovecot/dovecot.conf\nx = 1\n", "2.4.1-4", true, false},
		{"2.2", "# 2.2.36.4 (baf9232c1): /etc/dovecot/dovecot.conf\nx = 1\n", "2.2.36.4", false, true},
		{"3.0", "# 3.0.0 (abc): /etc/dovecot/dovecot.conf\nx = 1\n", "3.0.0", true, false},
		{"no header, 2.4 by its setting", "dovecot_config_version = 2.4.1\n", "", true, false},
		{"no header", "mail_plugins = quota\n", "", false, false},
		{"comment that is no version", "# OS: Linux\nx = 1\n", "", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseDoveconf(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			if c.Version != tc.version || c.Is24() != tc.is24 || c.is22() != tc.is22 {
				t.Errorf("version %q is24 %v is22 %v, want %q %v %v", c.Version, c.Is24(), c.is22(), tc.version, tc.is24, tc.is22)
			}
		})
	}
}

func TestParseDoveconfErrors(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"unclosed section", "plugin {\n  a = b\n", `section "plugin" opened on line 1 is not closed`},
		{"stray brace", "a = b\n}\n", "line 2: } without a section"},
		{"a dovecot.conf", "protocols = imap\n!include conf.d/*.conf\n", "not the output of doveconf -n"},
		{"not a setting", "hello world\n", `line 1: "hello world" is neither`},
		{"bad quoting", "a = \"x\"y\"\n", "line 1: a: unescaped quote"},
		{"empty", "\n\n", "no settings"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseDoveconf(tc.text)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestDovecotPlugins: the plugins a protocol runs, from 2.3's strings (a
// filter's value replaces the global one: doveconf has already expanded
// $mail_plugins) and 2.4's boolean lists (a filter's adds to it).
func TestDovecotPlugins(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       map[string][]string
	}{
		{"2.3 global", "mail_plugins = \" quota notify mail_log\"\n",
			map[string][]string{"imap": {"quota", "notify", "mail_log"}, "lmtp": {"quota", "notify", "mail_log"}}},
		{"2.3 filter replaces", "mail_plugins = \" notify mail_log\"\nprotocol imap {\n  mail_plugins = \" imap_quota\"\n}\n",
			map[string][]string{"imap": {"imap_quota"}, "pop3": {"notify", "mail_log"}}},
		{"2.4 boolean lists", "dovecot_config_version = 2.4.1\nmail_plugins {\n  mail_log = yes\n  notify = yes\n}\nprotocol imap {\n  mail_plugins {\n    imap_quota = yes\n    mail_log = no\n  }\n}\n",
			map[string][]string{"imap": {"notify", "imap_quota"}, "lmtp": {"mail_log", "notify"}}},
		{"2.4 string replaces", "dovecot_config_version = 2.4.1\nmail_plugins {\n  mail_log = yes\n}\nprotocol lmtp {\n  mail_plugins = sieve\n}\n",
			map[string][]string{"lmtp": {"sieve"}, "imap": {"mail_log"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseDoveconf(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			d := &dovecotCheck{cfg: c, v24: c.Is24()}
			for p, want := range tc.want {
				got, _ := d.plugins(p)
				if !slices.Equal(got, want) {
					t.Errorf("%s: %q, want %q", p, got, want)
				}
			}
		})
	}
}

func TestUsesVar(t *testing.T) {
	for _, tc := range []struct {
		s    string
		vars []string
		want bool
	}{
		{"%b", []string{"b", "rport"}, true},
		{"<%{rport}>", []string{"rport"}, true},
		{"%{remote_port}", []string{"remote_port"}, true},
		{"%{remote_port | hex}", []string{"remote_port"}, true},
		{"%{process:pid}", []string{"process"}, true},
		{"%Lu", []string{"u"}, true},
		{"%r", []string{"b", "rport"}, false},
		{"%%b", []string{"b"}, false},
		{"port", []string{"rport"}, false},
	} {
		if got := usesVar(tc.s, tc.vars); got != tc.want {
			t.Errorf("usesVar(%q, %q) = %v, want %v", tc.s, tc.vars, got, tc.want)
		}
	}
}

// dovecotReport checks a doveconf -n text, failing the test on error.
func dovecotReport(t *testing.T, text string) ServerReport {
	t.Helper()
	r, err := CheckDovecot(DovecotInput{Source: "test", Text: text})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// complete23 is the part of a doveconf -n output that 95-mailevents.conf
// makes, for the table below to take apart.
const complete23 = `# 2.3.19.1 (9b53102964): /etc/dovecot/dovecot.conf
login_log_format_elements = user=<%u> method=%m rip=%r rport=%b lip=%l lport=%a mpid=%e %c session=<%{session}>
mail_plugins = " quota notify mail_log"
plugin {
  mail_log_events = save copy delete undelete expunge flag_change mailbox_create mailbox_delete mailbox_rename
  mail_log_fields = uid box msgid size vsize flags from subject
}
protocols = imap pop3 lmtp
`

// TestCheckDovecotSettings takes the complete configuration apart one
// setting at a time and checks which event types each loss costs.
func TestCheckDovecotSettings(t *testing.T) {
	na := map[event.Type]Status{event.QuotaWithin: NotApplicable, event.QuotaChange: NotApplicable,
		event.MailboxSubscribe: NotSeen, event.MailboxUnSubscribe: NotSeen}
	with := func(m map[event.Type]Status) map[event.Type]Status {
		out := map[event.Type]Status{}
		for k, v := range na {
			out[k] = v
		}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	for _, tc := range []struct {
		name, old, new string
		want           map[event.Type]Status
		change         string // a proposed line
	}{
		{"complete", "", "", with(nil), ""},
		{"no flag_change", " flag_change", "",
			with(map[event.Type]Status{event.MessageRead: NotSeen, event.FlagsSet: NotSeen, event.FlagsClear: Partly}),
			"plugin: mail_log_events = save copy delete undelete expunge mailbox_create mailbox_delete mailbox_rename flag_change"},
		{"no flags field", " flags from", " from",
			with(map[event.Type]Status{event.MessageRead: NotSeen, event.FlagsSet: NotSeen, event.FlagsClear: Partly}),
			"plugin: mail_log_fields = uid box msgid size vsize from subject flags"},
		{"no box field", "uid box", "uid",
			with(map[event.Type]Status{event.MessageAppend: NotSeen, event.MessageExpunge: NotSeen, event.MessageExpire: NotSeen,
				event.MessageRead: NotSeen, event.MessageTrash: NotSeen, event.FlagsSet: NotSeen, event.FlagsClear: NotSeen, event.MessageNew: Partly}),
			"plugin: mail_log_fields = uid msgid size vsize flags from subject box"},
		{"no uid field", "uid box", "box",
			with(map[event.Type]Status{event.MessageAppend: Partly, event.MessageNew: Partly, event.MessageExpunge: NotSeen, event.MessageExpire: NotSeen,
				event.MessageRead: NotSeen, event.MessageTrash: NotSeen, event.FlagsSet: NotSeen, event.FlagsClear: NotSeen}),
			"plugin: mail_log_fields = box msgid size vsize flags from subject uid"},
		{"no sizes", "size vsize ", "",
			with(map[event.Type]Status{event.MessageAppend: Partly, event.MessageNew: Partly}),
			"plugin: mail_log_fields = uid box msgid flags from subject vsize"},
		{"no mailbox_create", " mailbox_create", "", with(map[event.Type]Status{event.MailboxCreate: NotSeen}), ""},
		{"no copy", "save copy", "save", with(map[event.Type]Status{event.MessageAppend: Partly}), ""},
		{"no rport", " rport=%b", "", with(map[event.Type]Status{event.Login: Partly, event.LoginFailed: Partly}),
			"login_log_format_elements = user=<%u> method=%m rip=%r rport=%b lip=%l lport=%a mpid=%e %c session=<%{session}>"},
		{"no session element", " session=<%{session}>", "", with(map[event.Type]Status{event.Logout: Partly}), ""},
		{"no mail_log", " notify mail_log", "",
			with(map[event.Type]Status{event.MessageAppend: NotSeen, event.MessageExpunge: NotSeen, event.MessageExpire: NotSeen,
				event.MessageRead: NotSeen, event.MessageTrash: NotSeen, event.FlagsSet: NotSeen, event.FlagsClear: NotSeen,
				event.MailboxCreate: NotSeen, event.MailboxDelete: NotSeen, event.MailboxRename: NotSeen, event.MessageNew: Partly}),
			"mail_plugins = $mail_plugins notify mail_log"},
		{"no quota", " quota notify", " notify", with(map[event.Type]Status{event.QuotaExceed: NotApplicable}), ""},
		{"pop3 filter without mail_log", "protocols = imap pop3 lmtp\n", "protocols = imap pop3 lmtp\nprotocol pop3 {\n  mail_plugins = \" quota\"\n}\n",
			with(map[event.Type]Status{event.MessageExpunge: Partly, event.MessageExpire: Partly}),
			"protocol pop3: mail_plugins = quota notify mail_log"},
		{"lmtp filter without mail_log", "protocols = imap pop3 lmtp\n", "protocols = imap pop3 lmtp\nprotocol lmtp {\n  mail_plugins = \" quota sieve\"\n}\n",
			with(map[event.Type]Status{event.MessageNew: Partly}),
			"protocol lmtp: mail_plugins = quota sieve notify mail_log"},
		{"deliver_log_format changed and no mail_log", " notify mail_log\"", "\"\ndeliver_log_format = %$",
			with(map[event.Type]Status{event.MessageAppend: NotSeen, event.MessageExpunge: NotSeen, event.MessageExpire: NotSeen,
				event.MessageRead: NotSeen, event.MessageTrash: NotSeen, event.FlagsSet: NotSeen, event.FlagsClear: NotSeen,
				event.MailboxCreate: NotSeen, event.MailboxDelete: NotSeen, event.MailboxRename: NotSeen, event.MessageNew: NotSeen, event.QuotaExceed: NotSeen}),
			""},
		{"mail_log_prefix without session", "protocols", "mail_log_prefix = \"%s(%u): \"\nprotocols",
			with(map[event.Type]Status{event.Logout: Partly}), `mail_log_prefix = "%s(%u)<%{pid}><%{session}>: "`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := complete23
			if tc.old != "" {
				if !strings.Contains(text, tc.old) {
					t.Fatalf("%q not in the configuration", tc.old)
				}
				text = strings.Replace(text, tc.old, tc.new, 1)
			}
			r := dovecotReport(t, text)
			wantStatuses(t, r, Seen, tc.want)
			if tc.change != "" && !slices.Contains(changeLines(r), tc.change) {
				t.Errorf("no change %q in %q", tc.change, changeLines(r))
			}
			if tc.name == "complete" && len(changeLines(r)) != 3 {
				// Only the push script's lines, for the subscriptions.
				t.Errorf("changes %q", changeLines(r))
			}
		})
	}
}

func TestCheckDovecotFindings(t *testing.T) {
	r := dovecotReport(t, strings.Replace(complete23, " notify mail_log", " mail_log", 1))
	if !hasFinding(r, Error, "without notify") {
		t.Errorf("no error for mail_log without notify: %+v", r.Findings)
	}
	if r.OK {
		t.Error("OK with an error finding")
	}
	r = dovecotReport(t, strings.Replace(complete23, "size vsize", "size", 1))
	if !hasFinding(r, Warning, "mail_log_fields lacks vsize: messageSize is the size on disk") {
		t.Errorf("no warning for the missing vsize: %+v", r.Findings)
	}
	if got := statuses(r)[event.MessageNew]; got != Seen {
		t.Errorf("MessageNew %s with size but no vsize", got)
	}
	r = dovecotReport(t, complete23+"mail_log_prefix = \"%{user}: \"\n")
	if !hasFinding(r, Error, "does not start with {service}({user})") || statuses(r)[event.Logout] != NotSeen {
		t.Errorf("an unreadable mail_log_prefix: Logout %s, findings %+v", statuses(r)[event.Logout], r.Findings)
	}
	r = dovecotReport(t, complete23+"remote 10.0.0.0/8 {\n  login_log_format_elements = user=<%u>\n}\n")
	if !hasFinding(r, Info, "login_log_format_elements is also set inside remote 10.0.0.0/8 { }") {
		t.Errorf("no finding for a remote filter: %+v", r.Findings)
	}
	r, err := CheckDovecot(DovecotInput{Source: "test", Text: complete23,
		Stderr: "doveconf: Warning: /etc/dovecot/conf.d/95-mailevents.conf line 10: Global setting mail_plugins won't change the setting inside an earlier filter\n"})
	if err != nil {
		t.Fatal(err)
	}
	if !hasFinding(r, Warning, "doveconf: Warning: /etc/dovecot/conf.d/95-mailevents.conf line 10: Global setting mail_plugins") {
		t.Errorf("doveconf's warning is not a finding: %+v", r.Findings)
	}
}

// TestCheckDovecotPush: with the push script the subscriptions are seen,
// and mail_log's events come from both.
func TestCheckDovecotPush(t *testing.T) {
	text := strings.Replace(complete23, "quota notify mail_log", "quota notify mail_log mail_lua push_notification push_notification_lua", 1)
	text = strings.Replace(text, "plugin {\n", "plugin {\n  push_notification_driver = lua:file=/etc/dovecot/mailevents-push.lua\n", 1)
	r := dovecotReport(t, text)
	wantStatuses(t, r, Seen, map[event.Type]Status{event.QuotaWithin: NotApplicable, event.QuotaChange: NotApplicable})
	if !r.OK {
		t.Error("not OK")
	}
	if got := eventOf(r, event.MailboxSubscribe).Via; !slices.Equal(got, []string{"push script"}) {
		t.Errorf("MailboxSubscribe via %q", got)
	}
	if got := eventOf(r, event.FlagsSet).Via; !slices.Equal(got, []string{"mail_log", "push script"}) {
		t.Errorf("FlagsSet via %q", got)
	}
	if !hasFinding(r, Info, "both report message and mailbox changes") {
		t.Errorf("no finding about the double report: %+v", r.Findings)
	}
	if len(r.Changes) != 0 {
		t.Errorf("changes %+v", r.Changes)
	}

	// Another script, or one plugin short.
	other := strings.Replace(text, "mailevents-push.lua", "ox-push.lua", 1)
	r = dovecotReport(t, other)
	if statuses(r)[event.MailboxSubscribe] != NotSeen || !hasFinding(r, Info, "runs /etc/dovecot/ox-push.lua") {
		t.Errorf("another script: %s, %+v", statuses(r)[event.MailboxSubscribe], r.Findings)
	}
	short := strings.Replace(text, " mail_lua", "", 1)
	r = dovecotReport(t, short)
	if statuses(r)[event.MailboxSubscribe] != NotSeen || !hasFinding(r, Error, "without mail_lua") {
		t.Errorf("without mail_lua: %s, %+v", statuses(r)[event.MailboxSubscribe], r.Findings)
	}
}

// TestCheckDovecot24 reads a Dovecot 2.4 doveconf -n output. No Dovecot 2.4
// is installed here: testdata/dovecot-2.4.doveconf is written by hand in
// the form 2.4's doveconf prints, with packaging/dovecot/95-mailevents-2.4.conf
// merged in.
func TestCheckDovecot24(t *testing.T) {
	saved, err := os.ReadFile("testdata/dovecot-2.4.doveconf")
	if err != nil {
		t.Fatal(err)
	}
	r, err := CheckDovecot(DovecotInput{Source: "testdata/dovecot-2.4.doveconf", Text: string(saved)})
	if err != nil {
		t.Fatal(err)
	}
	if r.Version != "2.4.1-4" {
		t.Errorf("version %q", r.Version)
	}
	wantStatuses(t, r, Seen, map[event.Type]Status{event.QuotaWithin: NotApplicable, event.QuotaChange: NotApplicable,
		event.MailboxSubscribe: NotSeen, event.MailboxUnSubscribe: NotSeen})
	golden(t, "dovecot-2.4", render(t, r))

	// Without the snippet's settings: 2.4's defaults, and its syntax in
	// the lines proposed.
	bare := "# 2.4.1-4 (7d8c0e5759): /etc/dovecot/dovecot.conf\ndovecot_config_version = 2.4.1\nmail_plugins {\n  quota = yes\n}\nprotocols = imap lmtp\n"
	r = dovecotReport(t, bare)
	if got := statuses(r); got[event.MessageAppend] != NotSeen || got[event.Login] != Partly || got[event.Logout] != Seen {
		t.Errorf("2.4 defaults: %v", got)
	}
	lines := changeLines(r)
	for _, want := range []string{
		"mail_plugins {", "  mail_log = yes",
		"mail_log_events = save copy delete undelete expunge flag_change mailbox_create mailbox_delete mailbox_rename",
		"login_log_format_elements = user=<%{user}> method=%{mechanism} rip=%{remote_ip} rport=%{remote_port} lip=%{local_ip} lport=%{local_port} mpid=%{mail_pid} %{secured} session=<%{session}>",
	} {
		if !slices.Contains(lines, want) {
			t.Errorf("no line %q in %q", want, lines)
		}
	}
	if slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "plugin:") }) {
		t.Errorf("a plugin { } section proposed for 2.4: %q", lines)
	}
	// 2.4 names the mailbox in the line's prefix: box is not needed.
	r = dovecotReport(t, strings.Replace(string(saved), "uid box msgid", "uid msgid", 1))
	if got := statuses(r)[event.MessageExpunge]; got != Seen {
		t.Errorf("2.4 without box: MessageExpunge %s", got)
	}
}

func TestMergeLacks(t *testing.T) {
	got := mergeLacks([]string{"a lacks x", "b lacks y", "a lacks z", "something else", "c lacks p (why)"})
	want := []string{"a lacks x and z", "b lacks y", "something else", "c lacks p (why)"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
}
