package packaging

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testVersionSuffix marks the versions this test builds, so that a package
// left behind by an interrupted run is recognised and purged, and a real
// installation never is.
const testVersionSuffix = "~pkgtest"

// skipEnv skips the package test when set (it needs root and Debian).
const skipEnv = "MAILEVENTS_SKIP_PACKAGE"

// What the .deb installs, besides directories.
var packagedFiles = []string{
	"/usr/bin/mailevents",
	"/etc/mailevents/mailevents.toml",
	"/etc/default/mailevents",
	"/etc/logrotate.d/mailevents",
	"/usr/lib/systemd/system/mailevents.service",
	"/usr/lib/sysusers.d/mailevents.conf",
	"/usr/lib/tmpfiles.d/mailevents.conf",
	"/usr/share/mailevents/dovecot/95-mailevents.conf",
	"/usr/share/mailevents/dovecot/95-mailevents-2.4.conf",
	"/usr/share/mailevents/dovecot/96-mailevents-push.conf",
	"/usr/share/mailevents/dovecot/mailevents-push.lua",
	"/usr/share/mailevents/cyrus/imapd-mailevents.conf",
	"/usr/share/man/man1/mailevents.1.gz",
	"/usr/share/man/man5/mailevents.toml.5.gz",
	"/usr/share/man/man7/mailevents-events.7.gz",
}

// TestDebPackage builds the .deb with scripts/build-packages, installs it,
// checks what it installed, upgrades it over an edited configuration,
// removes and purges it. It never starts the service.
func TestDebPackage(t *testing.T) {
	if os.Getenv(skipEnv) != "" {
		t.Skipf("%s is set", skipEnv)
	}
	if os.Geteuid() != 0 {
		t.Fatalf("the package test installs a .deb and needs root (CI runs as root); set %s=1 to skip it", skipEnv)
	}
	for _, tool := range []string{"dpkg", "dpkg-deb", "dpkg-query", "systemd-analyze", "systemctl", "man", "logrotate", "git"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found (install it with scripts/install-test-deps, or set %s=1): %v", tool, skipEnv, err)
		}
	}
	ensureNotInstalled(t)
	t.Cleanup(func() {
		// Whatever happened, leave no test package behind.
		if status, _ := packageStatus(t); status != "" {
			run(t, "dpkg", "--purge", "mailevents")
		}
	})

	// Both packages first: the second differs only in its version.
	dist := t.TempDir()
	deb1 := buildDeb(t, dist, "0.0.1"+testVersionSuffix)
	deb2 := buildDeb(t, dist, "0.0.2"+testVersionSuffix)

	listing := run(t, "dpkg-deb", "--contents", deb1)
	for _, f := range packagedFiles {
		if !strings.Contains(listing, " ."+f+"\n") {
			t.Errorf("the .deb lacks %s:\n%s", f, listing)
		}
	}

	// --- Install ---------------------------------------------------------
	out := run(t, "dpkg", "--install", deb1)
	if !strings.Contains(out, "installed, not enabled") {
		t.Errorf("a fresh install does not tell the administrator what to do next:\n%s", out)
	}
	if _, version := packageStatus(t); version != "0.0.1"+testVersionSuffix+"-1" {
		t.Fatalf("installed version %q", version)
	}
	t.Run("files", checkInstalledFiles)
	t.Run("version", func(t *testing.T) {
		out := run(t, "/usr/bin/mailevents", "version")
		if !strings.HasPrefix(out, "mailevents 0.0.1"+testVersionSuffix+"\n") {
			t.Errorf("mailevents version: %q", out)
		}
	})
	t.Run("user", checkUser)
	t.Run("not-enabled", func(t *testing.T) {
		// is-enabled reads the unit files; it needs no running systemd.
		out, _ := exec.CommandContext(t.Context(), "systemctl", "is-enabled", "mailevents.service").CombinedOutput()
		if strings.TrimSpace(string(out)) != "disabled" {
			t.Errorf("systemctl is-enabled mailevents.service: %q, want disabled (the package must not enable it)", out)
		}
	})
	t.Run("systemd-analyze-verify", checkUnitVerifies)
	t.Run("check-config", func(t *testing.T) {
		stdout, stderr, err := runSplit(t, "/usr/bin/mailevents", "check", "--config", "/etc/mailevents/mailevents.toml")
		if err != nil {
			t.Fatalf("mailevents check of the installed configuration: %v\n%s%s", err, stdout, stderr)
		}
		if !strings.HasPrefix(stdout, "/etc/mailevents/mailevents.toml: OK\n") {
			t.Errorf("mailevents check: %q", stdout)
		}
		// The package created the directories the sinks write to.
		if strings.Contains(stderr, "does not exist; the daemon will not start") {
			t.Errorf("mailevents check finds a directory missing after installation:\n%s", stderr)
		}
	})
	t.Run("man", checkManPages)
	t.Run("logrotate", checkLogrotate)

	// --- Upgrade over an edited configuration ------------------------------
	const conf = "/etc/mailevents/mailevents.toml"
	orig, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	edited := bytes.Replace(orig, []byte(`checkpoint_interval = "2s"`), []byte(`checkpoint_interval = "5s" # the administrator's`), 1)
	if bytes.Equal(edited, orig) {
		t.Fatalf("%s has no checkpoint_interval line to edit", conf)
	}
	if err := os.WriteFile(conf, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	out = run(t, "dpkg", "--install", deb2)
	if strings.Contains(out, "installed, not enabled") {
		t.Errorf("an upgrade was taken for a fresh install:\n%s", out)
	}
	if _, version := packageStatus(t); version != "0.0.2"+testVersionSuffix+"-1" {
		t.Errorf("after the upgrade: version %q", version)
	}
	if got, err := os.ReadFile(conf); err != nil || !bytes.Equal(got, edited) {
		t.Errorf("the upgrade did not keep the administrator's %s (err %v; edit kept: %v)",
			conf, err, bytes.Contains(got, []byte("the administrator's")))
	}
	for _, leftover := range []string{conf + ".dpkg-dist", conf + ".dpkg-new", conf + ".dpkg-old"} {
		if _, err := os.Stat(leftover); err == nil {
			t.Errorf("the upgrade left %s", leftover)
		}
	}
	if out := run(t, "/usr/bin/mailevents", "version"); !strings.HasPrefix(out, "mailevents 0.0.2"+testVersionSuffix+"\n") {
		t.Errorf("after the upgrade, mailevents version: %q", out)
	}
	run(t, "/usr/bin/mailevents", "check", "--config", conf)

	// --- Remove, then purge ------------------------------------------------
	run(t, "dpkg", "--remove", "mailevents")
	for _, gone := range []string{"/usr/bin/mailevents", "/usr/lib/systemd/system/mailevents.service", "/usr/share/man/man1/mailevents.1.gz"} {
		assertGone(t, gone)
	}
	if got, err := os.ReadFile(conf); err != nil || !bytes.Equal(got, edited) {
		t.Errorf("remove (not purge) did not keep %s (err %v)", conf, err)
	}

	// Events in /var/log/mailevents are the administrator's: purge keeps
	// them (and their directory).
	events := "/var/log/mailevents/events.jsonl"
	if err := os.WriteFile(events, []byte("{}\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.Remove(events)
		os.Remove(filepath.Dir(events))
	})
	run(t, "dpkg", "--purge", "mailevents")
	if status, _ := packageStatus(t); status != "" {
		t.Errorf("after purge, dpkg still knows mailevents: %q", status)
	}
	for _, f := range packagedFiles {
		assertGone(t, f)
	}
	for _, gone := range []string{"/etc/mailevents", "/usr/share/mailevents", "/var/lib/mailevents"} {
		assertGone(t, gone)
	}
	if _, err := os.Stat(events); err != nil {
		t.Errorf("purge removed the events: %v", err)
	}
	if _, err := user.Lookup("mailevents"); err != nil {
		t.Errorf("purge removed the user mailevents (files it owns may remain): %v", err)
	}
}

// ensureNotInstalled stops the test if mailevents is installed, unless it
// is a package of an earlier, interrupted run of this test, which it purges.
func ensureNotInstalled(t *testing.T) {
	t.Helper()
	status, version := packageStatus(t)
	if status != "" {
		if !strings.Contains(version, testVersionSuffix) {
			t.Fatalf("mailevents %s is on this machine (%s); this test installs and purges the package: remove it, or set %s=1",
				version, status, skipEnv)
		}
		t.Logf("purging mailevents %s, left by an earlier run", version)
		run(t, "dpkg", "--purge", "mailevents")
	}
	for _, f := range []string{"/usr/bin/mailevents", "/etc/mailevents"} {
		if _, err := os.Lstat(f); err == nil {
			t.Fatalf("%s exists without the package; this test would overwrite and then delete it: move it away, or set %s=1", f, skipEnv)
		}
	}
}

// packageStatus returns dpkg's status and version of mailevents; status is
// empty when dpkg knows nothing of it (never installed, or purged).
func packageStatus(t *testing.T) (status, version string) {
	t.Helper()
	out, err := exec.Command("dpkg-query", "--show", "--showformat=${db:Status-Status} ${Version}", "mailevents").Output()
	if err != nil {
		return "", "" // "no packages found matching mailevents"
	}
	status, version, _ = strings.Cut(strings.TrimSpace(string(out)), " ")
	if status == "not-installed" {
		return "", ""
	}
	return status, version
}

// buildDeb runs scripts/build-packages for a .deb of version into dist.
func buildDeb(t *testing.T, dist, version string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute) // the first build compiles everything
	defer cancel()
	cmd := exec.CommandContext(ctx, "../scripts/build-packages", "deb")
	cmd.Env = append(os.Environ(), "VERSION="+version, "DIST="+dist)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("scripts/build-packages deb (VERSION=%s): %v\n%s", version, err, stderr.String())
	}
	t.Logf("built %s in %s", version, time.Since(start).Round(time.Millisecond))
	lines := strings.Fields(stdout.String())
	if len(lines) != 1 || !strings.HasSuffix(lines[0], ".deb") {
		t.Fatalf("build-packages printed %q, want the path of one .deb", stdout.String())
	}
	if _, err := os.Stat(lines[0]); err != nil {
		t.Fatal(err)
	}
	return lines[0]
}

func checkInstalledFiles(t *testing.T) {
	for _, f := range packagedFiles {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("not installed: %v", err)
		}
	}
	// The repository's files, unchanged.
	for src, dst := range map[string]string{
		"mailevents.toml":             "/etc/mailevents/mailevents.toml",
		"default/mailevents":          "/etc/default/mailevents",
		"logrotate/mailevents":        "/etc/logrotate.d/mailevents",
		"systemd/mailevents.service":  "/usr/lib/systemd/system/mailevents.service",
		"cyrus/imapd-mailevents.conf": "/usr/share/mailevents/cyrus/imapd-mailevents.conf",
	} {
		if want, got := mustRead(t, src), mustRead(t, dst); got != want {
			t.Errorf("%s differs from packaging/%s", dst, src)
		}
	}
	for path, want := range map[string]fs.FileMode{
		"/usr/bin/mailevents":             0o755,
		"/etc/mailevents/mailevents.toml": 0o644,
		"/etc/default/mailevents":         0o600,
	} {
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
	// dpkg treats the administrator's files as conffiles: kept on upgrade,
	// removed on purge.
	out := run(t, "dpkg-query", "--show", "--showformat=${Conffiles}", "mailevents")
	for _, c := range []string{"/etc/mailevents/mailevents.toml", "/etc/default/mailevents", "/etc/logrotate.d/mailevents"} {
		if !strings.Contains(out, " "+c+" ") {
			t.Errorf("%s is not a conffile: %q", c, out)
		}
	}
}

func checkUser(t *testing.T) {
	u, err := user.Lookup("mailevents")
	if err != nil {
		t.Fatalf("the package created no user mailevents: %v", err)
	}
	adm, err := user.LookupGroup("adm")
	if err != nil {
		t.Fatal(err)
	}
	gids, err := u.GroupIds()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(gids, adm.Gid) {
		t.Errorf("mailevents is in groups %v, not in adm (%s): it cannot read /var/log/mail.log", gids, adm.Gid)
	}
	if uid, _ := strconv.Atoi(u.Uid); uid == 0 || uid >= 1000 {
		t.Errorf("mailevents has uid %d, want a system uid", uid)
	}
	entry := run(t, "getent", "passwd", "mailevents")
	if !strings.HasSuffix(strings.TrimSpace(entry), "nologin") {
		t.Errorf("mailevents can log in: %q", entry)
	}
	// Its directories, as tmpfiles.d and the unit create them.
	for _, dir := range []string{"/var/lib/mailevents", "/var/log/mailevents"} {
		fi, err := os.Stat(dir)
		if err != nil {
			t.Errorf("not created at installation: %v", err)
			continue
		}
		st := fi.Sys().(*syscall.Stat_t)
		if strconv.Itoa(int(st.Uid)) != u.Uid || fi.Mode().Perm() != 0o750 || !fi.IsDir() {
			t.Errorf("%s: uid %d mode %v, want a directory of uid %s, mode 0750", dir, st.Uid, fi.Mode(), u.Uid)
		}
	}
}

// verifyNoise matches lines systemd-analyze verify may print about the
// machine rather than about the unit: in a container without systemd as
// PID 1 there is no manager to ask, and some images lack units the unit's
// dependencies pull in (systemd-analyze(1): verify "loads unit files and
// prints warnings if any errors are detected", for the units they reach).
// A line that names mailevents is never noise.
var verifyNoise = regexp.MustCompile(`^(` +
	`Failed to connect to bus: .*|` +
	`System has not been booted with systemd as init system .*|` +
	`[-\w@.\\]+\.(target|slice|mount|socket|path|timer|swap|device|service): .*|` +
	`/[^:]+\.(target|slice|mount|socket|path|timer|swap|device|service):\d+: .*` +
	`)$`)

func checkUnitVerifies(t *testing.T) {
	const unit = "/usr/lib/systemd/system/mailevents.service"
	cmd := exec.CommandContext(t.Context(), "systemd-analyze", "verify", unit)
	out, err := cmd.CombinedOutput()
	var own, noise []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		switch {
		case line == "":
		case strings.Contains(line, "mailevents") || !verifyNoise.MatchString(line):
			own = append(own, line)
		default:
			noise = append(noise, line)
		}
	}
	if len(noise) > 0 {
		t.Logf("systemd-analyze verify, about this machine rather than the unit:\n%s", strings.Join(noise, "\n"))
	}
	if len(own) > 0 {
		t.Errorf("systemd-analyze verify %s:\n%s", unit, strings.Join(own, "\n"))
	}
	if err != nil && len(noise) == 0 {
		t.Errorf("systemd-analyze verify %s: %v", unit, err)
	}
}

func checkManPages(t *testing.T) {
	for _, page := range [][2]string{{"1", "mailevents"}, {"5", "mailevents.toml"}, {"7", "mailevents-events"}} {
		want := "/usr/share/man/man" + page[0] + "/" + page[1] + "." + page[0] + ".gz"
		if _, err := os.Stat(want); errors.Is(err, fs.ErrNotExist) && dpkgExcludesManPages(t) {
			// The .deb has them (checked above); dpkg was told to drop
			// them on this machine (a slim container image). Only this
			// check is left out: the rest of the install test goes on.
			t.Logf("dpkg's path-exclude drops /usr/share/man on this machine: man -w not checked")
			return
		}
		out := run(t, "man", "-w", page[0], page[1])
		if strings.TrimSpace(out) != want {
			t.Errorf("man -w %s %s: %q, want %s", page[0], page[1], out, want)
		}
	}
}

// dpkgExcludesManPages reports whether dpkg's configuration drops man pages.
func dpkgExcludesManPages(t *testing.T) bool {
	files, _ := filepath.Glob("/etc/dpkg/dpkg.cfg.d/*")
	for _, f := range append(files, "/etc/dpkg/dpkg.cfg") {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "path-exclude") && strings.Contains(l, "/usr/share/man") {
				t.Logf("%s: %s", f, l)
				return true
			}
		}
	}
	return false
}

// checkLogrotate checks the installed rules with logrotate itself, then
// rotates a file sink's output in a directory of its own with them: the
// file is renamed (not copied and truncated), no new one is created, and it
// is compressed only at the next rotation.
func checkLogrotate(t *testing.T) {
	const rules = "/etc/logrotate.d/mailevents"
	state := filepath.Join(t.TempDir(), "state")
	out, err := exec.CommandContext(t.Context(), "logrotate", "--debug", "--state", state, rules).CombinedOutput()
	if err != nil || strings.Contains(string(out), "error:") {
		t.Fatalf("logrotate --debug %s: %v\n%s", rules, err, out)
	}

	// A directory like /var/log/mailevents: owned by the service's user,
	// reachable from /tmp by that user.
	dir, err := os.MkdirTemp("", "mailevents-logrotate-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	u, err := user.Lookup("mailevents")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chmod(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(t.TempDir(), "mailevents")
	text := strings.ReplaceAll(mustRead(t, rules), "/var/log/mailevents/", dir+"/")
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	events := filepath.Join(dir, "events.jsonl")
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(events, []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(events, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	rotate := func() {
		t.Helper()
		out, err := exec.CommandContext(t.Context(), "logrotate", "--force", "--state", state, conf).CombinedOutput()
		if err != nil {
			t.Fatalf("logrotate --force: %v\n%s", err, out)
		}
	}

	write("{\"event\":\"first\"}\n")
	rotate()
	if got, err := os.ReadFile(events + ".1"); err != nil || string(got) != "{\"event\":\"first\"}\n" {
		t.Errorf("after a rotation, events.jsonl.1: %q, %v", got, err)
	}
	// nocreate: the daemon makes the new file when it reopens.
	assertGone(t, events)
	// delaycompress: the renamed file may still be written to.
	assertGone(t, events+".1.gz")

	write("{\"event\":\"second\"}\n")
	rotate()
	if got, err := os.ReadFile(events + ".1"); err != nil || string(got) != "{\"event\":\"second\"}\n" {
		t.Errorf("after two rotations, events.jsonl.1: %q, %v", got, err)
	}
	fi, err := os.Stat(events + ".2.gz")
	if err != nil {
		t.Fatalf("the first rotated file was not compressed at the second rotation: %v", err)
	}
	// The daemon (the service's user) must still own what it wrote.
	if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != uid {
		t.Errorf("events.jsonl.2.gz belongs to uid %d, want the service's %d", st.Uid, uid)
	}
}

func assertGone(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s still exists (%v)", path, err)
	}
}

// run runs a command, fails the test if it fails, and returns its combined
// output.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func runSplit(t *testing.T, name string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	cmd := exec.CommandContext(t.Context(), name, args...)
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}
