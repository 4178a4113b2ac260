package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailevents/mailevents/internal/mailtest"
)

func TestDoctorSavedDovecotConfig(t *testing.T) {
	code, out, errOut := runCLI(t, "", "doctor", "--dovecot-config", "doctor/testdata/dovecot-2.4.doveconf", "--imapd-conf", "")
	if code != exitRuntime || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut) // the subscriptions are not seen
	}
	for _, want := range []string{
		"Dovecot 2.4.1-4 (doctor/testdata/dovecot-2.4.doveconf): 15 seen, 0 partly, 2 not seen, 2 n/a\n",
		"\nMailboxSubscribe            not seen  Dovecot does not log (un)subscriptions",
		"\nMessageAppend               seen\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
}

func TestDoctorJSON(t *testing.T) {
	code, out, errOut := runCLI(t, "", "doctor", "--json", "--dovecot-config", "doctor/testdata/dovecot-2.4.doveconf", "--imapd-conf", "")
	if code != exitRuntime || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var r struct {
		OK      bool `json:"ok"`
		Servers []struct {
			Server, Version string
			Events          []struct{ Type, Status string }
		} `json:"servers"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if r.OK || len(r.Servers) != 1 || r.Servers[0].Server != "dovecot" || r.Servers[0].Version != "2.4.1-4" || len(r.Servers[0].Events) != 19 {
		t.Errorf("report %+v", r)
	}
}

// writeFile writes a file in a test directory and returns its path.
func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDoctorRunsDoveconf runs Debian's doveconf on a configuration with the
// packaged files: every event type Dovecot can report is seen, so the exit
// status is 0.
func TestDoctorRunsDoveconf(t *testing.T) {
	if _, err := exec.LookPath("doveconf"); err != nil {
		mailtest.Missing(t, err, "doveconf not installed", "MAILEVENTS_SKIP_DOVECOT", "scripts/install-test-deps")
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	conf := writeFile(t, "dovecot.conf", "protocols = imap pop3 lmtp\nmail_location = maildir:~/Maildir\n"+
		"!include "+filepath.Join(wd, "packaging/dovecot/95-mailevents.conf")+"\n"+
		"!include "+filepath.Join(wd, "packaging/dovecot/96-mailevents-push.conf")+"\n")
	code, out, errOut := runCLI(t, "", "doctor", "--doveconf", "doveconf -c "+conf, "--imapd-conf", "")
	if code != exitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q:\n%s", code, errOut, out)
	}
	// No quota plugin: QuotaExceed cannot happen.
	want := " (doveconf -c " + conf + " -n): 16 seen, 0 partly, 0 not seen, 3 n/a\n"
	if !strings.HasPrefix(out, "Dovecot 2.") || !strings.Contains(out, want) {
		t.Errorf("no %q in:\n%s", want, out)
	}
}

func TestDoctorCyrus(t *testing.T) {
	packaged, err := os.ReadFile("packaging/cyrus/imapd-mailevents.conf")
	if err != nil {
		t.Fatal(err)
	}
	conf := writeFile(t, "imapd.conf", string(packaged))
	code, out, errOut := runCLI(t, "", "doctor", "--doveconf", "", "--imapd-conf", conf)
	if code != exitRuntime || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut) // quota is left out on purpose
	}
	if want := "Cyrus IMAP (" + conf + "): 17 seen, 0 partly, 2 not seen, 0 n/a\n"; !strings.Contains(out, want) {
		t.Errorf("no %q in:\n%s", want, out)
	}

	// With the quota group every type is seen: exit 0, and a warning.
	all := strings.Replace(string(packaged), "event_groups: message flags access mailbox subscription",
		"event_groups: message quota flags access mailbox subscription", 1)
	conf = writeFile(t, "imapd.conf", all)
	code, out, errOut = runCLI(t, "", "doctor", "--doveconf", "", "--imapd-conf", conf)
	if code != exitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q:\n%s", code, errOut, out)
	}
	if !strings.Contains(out, "19 seen, 0 partly, 0 not seen, 0 n/a") || !strings.Contains(out, "warning  event_groups has quota") {
		t.Errorf("output:\n%s", out)
	}
}

func TestDoctorErrors(t *testing.T) {
	dovecotConf := writeFile(t, "dovecot.conf", "protocols = imap\n!include conf.d/*.conf\n")
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"both dovecot flags", []string{"--doveconf", "doveconf -c x", "--dovecot-config", "y"}, exitUsage, "give --doveconf or --dovecot-config, not both"},
		{"nothing to look at", []string{"--doveconf", "", "--imapd-conf", ""}, exitRuntime, "nothing to look at"},
		{"missing imapd.conf named", []string{"--doveconf", "", "--imapd-conf", "/nonexistent/imapd.conf"}, exitRuntime, "/nonexistent/imapd.conf: no such file"},
		{"missing doveconf named", []string{"--doveconf", "/nonexistent/doveconf", "--imapd-conf", ""}, exitRuntime, "--doveconf /nonexistent/doveconf"},
		{"a dovecot.conf", []string{"--dovecot-config", dovecotConf, "--imapd-conf", ""}, exitRuntime, "not the output of doveconf -n"},
		{"missing saved output", []string{"--dovecot-config", "/nonexistent/saved", "--imapd-conf", ""}, exitRuntime, "/nonexistent/saved"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", append([]string{"doctor"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errOut, tc.stderr) || out != "" {
				t.Errorf("exit %d, stderr %q, stdout %q; want exit %d and %q", code, errOut, out, tc.code, tc.stderr)
			}
		})
	}
}
