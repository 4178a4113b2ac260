package doctor

// The tests in this file read configurations the real servers accept: the
// output of Debian's doveconf -n for the configurations the Dovecot test
// harness runs, with and without packaging/dovecot/95-mailevents.conf; the
// imapd.conf the Cyrus harness runs, with and without
// packaging/cyrus/imapd-mailevents.conf; Debian's own imapd.conf. They fail
// when Dovecot or the unpacked Cyrus is missing, unless
// MAILEVENTS_SKIP_DOVECOT=1 or MAILEVENTS_SKIP_CYRUS=1 is set.

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mailevents/mailevents/event"
	"github.com/mailevents/mailevents/internal/cyrustest"
	"github.com/mailevents/mailevents/internal/dovecottest"
	"github.com/mailevents/mailevents/internal/mailtest"
)

// doveconf runs `doveconf -c conf -n`.
func doveconf(t *testing.T, conf string) DovecotInput {
	t.Helper()
	bin, err := exec.LookPath("doveconf")
	if err != nil {
		mailtest.Missing(t, err, "doveconf not installed", "MAILEVENTS_SKIP_DOVECOT", "scripts/install-test-deps")
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "-c", conf, "-n")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("doveconf -c %s -n: %v: %s", conf, err, stderr.Bytes())
	}
	return DovecotInput{Source: "doveconf -n", Text: stdout.String(), Stderr: stderr.String()}
}

func checkDovecot(t *testing.T, in DovecotInput) ServerReport {
	t.Helper()
	r, err := CheckDovecot(in)
	if err != nil {
		t.Fatalf("%v\n%s", err, in.Text)
	}
	return r
}

// dovecotConfText renders changes as dovecot.conf text to append.
func dovecotConfText(changes []Change) string {
	var b strings.Builder
	for _, c := range changes {
		if c.Section != "" {
			b.WriteString(c.Section + " {\n")
		}
		for _, l := range c.Lines {
			b.WriteString(l + "\n")
		}
		if c.Section != "" {
			b.WriteString("}\n")
		}
	}
	return b.String()
}

// appendConf writes conf with the changes appended to a new file, and
// returns its path.
func appendConf(t *testing.T, conf string, changes []Change) string {
	t.Helper()
	text, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dovecot.conf")
	if err := os.WriteFile(path, append(text, "\n# Proposed by the report:\n"+dovecotConfText(changes)...), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func abs(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(rel)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// wantFixed checks that a configuration with the proposed lines sees
// everything a Dovecot can report.
func wantFixed(t *testing.T, r ServerReport) {
	t.Helper()
	wantStatuses(t, r, Seen, map[event.Type]Status{event.QuotaWithin: NotApplicable, event.QuotaChange: NotApplicable})
	if !r.OK || len(r.Changes) != 0 {
		t.Errorf("OK %v, changes %+v, findings %+v", r.OK, r.Changes, r.Findings)
	}
}

// TestDovecotHarnessConfigs starts the Dovecot of internal/dovecottest as
// the end-to-end tests do and examines what doveconf -n makes of its
// configuration: without packaging/dovecot/95-mailevents.conf (the
// harness then leaves mail_log and the login format at Debian's defaults)
// many event types are not seen; with it everything Dovecot logs is;
// adding the push script makes the subscriptions seen too. The lines the
// report proposes are then appended, and doveconf must find everything
// seen.
func TestDovecotHarnessConfigs(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty.conf")
	if err := os.WriteFile(empty, []byte("# nothing\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	packaged := abs(t, "../packaging/dovecot/95-mailevents.conf")
	for _, tc := range []struct {
		name string
		opts dovecottest.Options
		want map[event.Type]Status
	}{
		{"dovecot-harness-defaults", dovecottest.Options{Include: []string{empty}}, map[event.Type]Status{
			event.MessageAppend: NotSeen, event.MessageExpire: NotSeen, event.MessageExpunge: NotSeen,
			event.MessageNew: Partly, event.QuotaExceed: Seen, event.QuotaWithin: NotApplicable, event.QuotaChange: NotApplicable,
			event.MessageRead: NotSeen, event.MessageTrash: NotSeen, event.FlagsSet: NotSeen, event.FlagsClear: NotSeen,
			event.Login: Partly, event.Logout: Seen, event.MailboxCreate: NotSeen, event.MailboxDelete: NotSeen,
			event.MailboxRename: NotSeen, event.MailboxSubscribe: NotSeen, event.MailboxUnSubscribe: NotSeen,
			event.LoginFailed: Partly}},
		{"dovecot-harness-packaged", dovecottest.Options{Include: []string{packaged}}, map[event.Type]Status{
			event.QuotaWithin: NotApplicable, event.QuotaChange: NotApplicable,
			event.MailboxSubscribe: NotSeen, event.MailboxUnSubscribe: NotSeen}},
		{"dovecot-harness-packaged-push", dovecottest.Options{Include: []string{packaged}, PushLua: "../packaging/dovecot/mailevents-push.lua"},
			map[event.Type]Status{event.QuotaWithin: NotApplicable, event.QuotaChange: NotApplicable}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := dovecottest.Start(t, tc.opts)
			r := checkDovecot(t, doveconf(t, s.Conf))
			if r.Version == "" || !strings.HasPrefix(s.Version, r.Version) {
				t.Errorf("version %q, dovecot --version %q", r.Version, s.Version)
			}
			wantStatuses(t, r, Seen, tc.want)
			golden(t, tc.name, render(t, r))

			fixed := checkDovecot(t, doveconf(t, appendConf(t, s.Conf, r.Changes)))
			wantFixed(t, fixed)
		})
	}
}

// TestDovecotEarlierFilter is the trap doveconf warns about: a
// `protocol imap { mail_plugins = … }` read before 95-mailevents.conf keeps
// mail_log out of IMAP sessions (Debian's conf.d/20-imap.conf comes before
// 95-*.conf). The report must see it, pass on doveconf's warning, and
// propose the line for the filter.
func TestDovecotEarlierFilter(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "dovecot.conf")
	text := fmt.Sprintf(`protocols = imap pop3 lmtp
mail_location = maildir:~/Maildir
mail_plugins = $mail_plugins quota
protocol imap {
  mail_plugins = $mail_plugins imap_quota
}
plugin {
  quota = maildir:User quota
}
!include %s
`, abs(t, "../packaging/dovecot/95-mailevents.conf"))
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	in := doveconf(t, conf)
	if !strings.Contains(in.Stderr, "won't change the setting inside an earlier filter") {
		t.Errorf("doveconf's stderr: %q", in.Stderr)
	}
	r := checkDovecot(t, in)
	wantStatuses(t, r, NotSeen, map[event.Type]Status{
		event.MessageNew: Seen, event.QuotaExceed: Seen, event.Login: Seen, event.Logout: Seen, event.LoginFailed: Seen,
		event.QuotaWithin: NotApplicable, event.QuotaChange: NotApplicable,
		// POP3 sessions still log their expunges.
		event.MessageExpunge: Partly, event.MessageExpire: Partly})
	if !hasFinding(r, Warning, "Global setting mail_plugins won't change the setting inside an earlier filter") {
		t.Errorf("doveconf's warning is not a finding: %+v", r.Findings)
	}
	if !slices.Contains(changeLines(r), "protocol imap: mail_plugins = quota imap_quota notify mail_log") {
		t.Errorf("changes %q", changeLines(r))
	}
	// doveconf's warnings name the files: make them the same on every run.
	out := strings.ReplaceAll(render(t, r), filepath.Dir(conf), "$TMP")
	golden(t, "dovecot-earlier-filter", strings.ReplaceAll(out, abs(t, ".."), "$REPO"))
	wantFixed(t, checkDovecot(t, doveconf(t, appendConf(t, conf, r.Changes))))
}

// cyrusPrefix returns where scripts/install-cyrus unpacked Cyrus.
func cyrusPrefix(t *testing.T) string {
	t.Helper()
	prefix := os.Getenv("MAILEVENTS_CYRUS_PREFIX")
	if prefix == "" {
		prefix = cyrustest.DefaultPrefix
	}
	if _, err := os.Stat(filepath.Join(prefix, "usr/lib/cyrus/bin/cyr_info")); err != nil {
		mailtest.Missing(t, err, "Cyrus not unpacked", "MAILEVENTS_SKIP_CYRUS", "scripts/install-cyrus (or scripts/install-test-deps)")
	}
	return prefix
}

// cyrInfo runs Cyrus's `cyr_info conf` (the options that differ from their
// defaults, as Cyrus reads them) on text, with a private configdirectory
// and the mail user as cyrus_user put first. It returns cyr_info's output
// and whether Cyrus accepted the file.
func cyrInfo(t *testing.T, prefix, text string) (string, bool) {
	t.Helper()
	dir, err := mailtest.ShortDir("doc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	configdir := filepath.Join(dir, "config")
	if err := os.Mkdir(configdir, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "imapd.conf")
	if err := os.WriteFile(conf, []byte("configdirectory: "+configdir+"\ncyrus_user: mail\n"+text), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(prefix, "usr/lib/cyrus/bin/cyr_info"), "-C", conf, "conf")
	cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+
		filepath.Join(prefix, "usr/lib/x86_64-linux-gnu")+":"+filepath.Join(prefix, "lib/x86_64-linux-gnu"))
	out, err := cmd.CombinedOutput()
	if err != nil && !bytes.Contains(out, []byte("fatal error")) {
		t.Fatalf("cyr_info: %v: %s", err, out)
	}
	return string(out), err == nil
}

// cyrInfoValues reads cyr_info conf's "key: value" lines.
func cyrInfoValues(out string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(l, ": "); ok {
			m[k] = v
		}
	}
	return m
}

// TestImapdConfLikeCyrus checks the parser's table against Cyrus's own
// reading: a text the parser finds problems in is one Cyrus refuses, and
// every value the parser reads is the one Cyrus reads (lists compared as
// sets: cyr_info prints them in its own order).
func TestImapdConfLikeCyrus(t *testing.T) {
	prefix := cyrusPrefix(t)
	for _, tc := range imapdCases {
		t.Run(tc.name, func(t *testing.T) {
			out, accepted := cyrInfo(t, prefix, tc.text)
			if accepted != (len(tc.problems) == 0) {
				t.Fatalf("Cyrus accepted %v, the parser found %d problems:\n%s", accepted, len(tc.problems), out)
			}
			got := cyrInfoValues(out)
			for key, want := range tc.want {
				v, ok := got[key]
				if on, isSwitch := cyrusSwitch(want); isSwitch && key == "auditlog" {
					want = map[bool]string{true: "yes", false: "no"}[on]
				}
				a, b := strings.Fields(v), strings.Fields(want)
				slices.Sort(a)
				slices.Sort(b)
				if !ok || !slices.Equal(a, b) {
					t.Errorf("Cyrus reads %s as %q (set %v), the parser %q\n%s", key, v, ok, want, out)
				}
			}
		})
	}
	// The switches: what Cyrus refuses, the report calls an error.
	for _, v := range []string{"on", "true", "1", "off", "Yes", "maybe"} {
		_, accepted := cyrInfo(t, prefix, "auditlog: "+v+"\n")
		_, valid := cyrusSwitch(v)
		if accepted != valid {
			t.Errorf("auditlog: %s: Cyrus accepts %v, the parser %v", v, accepted, valid)
		}
	}
	// The list values the report knows are the ones Cyrus accepts.
	for _, g := range append(slices.Clone(cyKnownGroups), "jmap") {
		_, accepted := cyrInfo(t, prefix, "event_groups: "+g+"\n")
		if accepted != slices.Contains(cyKnownGroups, g) {
			t.Errorf("event_groups: %s: Cyrus accepts %v", g, accepted)
		}
	}
	_, accepted := cyrInfo(t, prefix, "event_extra_params: "+strings.Join(cyKnownExtra, " ")+"\n")
	if !accepted {
		t.Error("Cyrus refuses the event_extra_params the report knows")
	}
}

// mergeImapdConf puts the changes into text as an admin must: an option
// that is set already is replaced (Cyrus refuses one given twice).
func mergeImapdConf(text string, changes []Change) string {
	set := map[string]string{}
	for _, c := range changes {
		set[c.Setting] = c.Lines[0]
	}
	var b strings.Builder
	for _, l := range strings.SplitAfter(text, "\n") {
		k, _, ok := strings.Cut(strings.TrimSpace(l), ":")
		if _, replace := set[strings.ToLower(k)]; ok && replace {
			continue
		}
		b.WriteString(l)
	}
	for _, c := range changes {
		b.WriteString(c.Lines[0] + "\n")
	}
	return b.String()
}

// TestCyrusDebianConf reads the imapd.conf Debian ships (as unpacked by
// scripts/install-cyrus): syslog only, so most event types are not seen.
// With the proposed lines merged in, everything but the quota crossings
// is, and Cyrus accepts the file.
func TestCyrusDebianConf(t *testing.T) {
	prefix := cyrusPrefix(t)
	stock, err := os.ReadFile(filepath.Join(prefix, "etc/imapd.conf"))
	if err != nil {
		t.Fatal(err)
	}
	r := CheckCyrus(CyrusInput{Source: "/etc/imapd.conf", Text: stock})
	wantStatuses(t, r, NotSeen, map[event.Type]Status{event.LoginFailed: Seen, event.MailboxDelete: Seen, event.MailboxRename: Seen,
		event.Login: Partly, event.Logout: Partly, event.MessageNew: Partly})
	golden(t, "cyrus-debian", render(t, r))

	merged := mergeImapdConf(string(stock), r.Changes)
	fixed := CheckCyrus(CyrusInput{Source: "/etc/imapd.conf", Text: []byte(merged)})
	wantStatuses(t, fixed, Seen, map[event.Type]Status{event.QuotaExceed: NotSeen, event.QuotaWithin: NotSeen})
	if len(fixed.Changes) != 0 {
		t.Errorf("still changes: %+v", fixed.Changes)
	}
	// Debian's configdirectory and cyrus_user give way to cyr_info's.
	merged = mergeImapdConf(merged, []Change{{Setting: "configdirectory", Lines: []string{"# configdirectory"}}})
	out, accepted := cyrInfo(t, prefix, merged)
	if !accepted {
		t.Fatalf("Cyrus refuses the merged file:\n%s\n%s", out, merged)
	}
	got := cyrInfoValues(out)
	if got["auditlog"] != "yes" || got["event_notifier"] != "log" || !strings.Contains(got["event_groups"], "subscription") {
		t.Errorf("Cyrus reads the merged file as %v", got)
	}
}

// TestCyrusHarnessConfigs starts the Cyrus of internal/cyrustest and
// examines the imapd.conf it runs: the harness's own (every event group,
// no client address), and with packaging/cyrus/imapd-mailevents.conf
// merged in as source/cyrusnotify's TestPackagedConf does (its socket left
// to the harness).
func TestCyrusHarnessConfigs(t *testing.T) {
	raw, err := os.ReadFile("../packaging/cyrus/imapd-mailevents.conf")
	if err != nil {
		t.Fatal(err)
	}
	var packaged strings.Builder
	for l := range strings.Lines(string(raw)) {
		if !strings.HasPrefix(l, "notifysocket:") {
			packaged.WriteString(l)
		}
	}
	for _, tc := range []struct {
		name string
		opts cyrustest.Options
		want map[event.Type]Status
	}{
		{"cyrus-harness", cyrustest.Options{Users: []string{"alice"}}, map[event.Type]Status{event.Login: Partly}},
		{"cyrus-harness-packaged", cyrustest.Options{Users: []string{"alice"}, ExtraConf: packaged.String()},
			map[event.Type]Status{event.QuotaExceed: NotSeen, event.QuotaWithin: NotSeen}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := cyrustest.Start(t, tc.opts)
			conf, err := os.ReadFile(s.IMAPDConf)
			if err != nil {
				t.Fatal(err)
			}
			r := CheckCyrus(CyrusInput{Source: "imapd.conf", Text: conf, Include: os.ReadFile})
			wantStatuses(t, r, Seen, tc.want)
			if hasFinding(r, Error, "") {
				t.Errorf("errors in a configuration Cyrus runs with: %+v", r.Findings)
			}
			golden(t, tc.name, render(t, r))
		})
	}
}
