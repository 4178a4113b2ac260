package packaging

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailevents/mailevents/config"
	"github.com/mailevents/mailevents/pipeline"
)

// The files these tests read, relative to this directory.
const (
	unitFile      = "systemd/mailevents.service"
	sysusersFile  = "systemd/mailevents.sysusers"
	tmpfilesFile  = "systemd/mailevents.tmpfiles"
	logrotateFile = "logrotate/mailevents"
	defaultConfig = "mailevents.toml"
	nfpmFile      = "nfpm.yaml"
)

// maxRetryWait is the longest the pipeline waits between two attempts at a
// failing output, during which it beats no heartbeat (README: "retried with
// backoff (100 ms to 30 s)").
const maxRetryWait = 30 * time.Second

// unit is a parsed systemd unit file: section → key → values, in order.
type unit map[string]map[string][]string

// get returns the last value of key in section (systemd's rule for
// single-valued settings) and whether it is set.
func (u unit) get(section, key string) (string, bool) {
	vs := u[section][key]
	if len(vs) == 0 {
		return "", false
	}
	return vs[len(vs)-1], true
}

// parseUnit reads a unit file. It also returns, for each directive, whether
// a comment justifies it: a comment line right above it, or above the run
// of directives it belongs to.
func parseUnit(t *testing.T, path string) (u unit, unjustified []string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	u = unit{}
	section := ""
	commented := false // the current run of directives follows a comment
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
			commented = false
		case strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
			commented = true
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
			u[section] = map[string][]string{}
			commented = false
		default:
			key, value, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: not a directive: %q", path, i+1, line)
			}
			if !commented {
				unjustified = append(unjustified, fmt.Sprintf("%s:%d: %s", path, i+1, line))
			}
			u[section][key] = append(u[section][key], value)
		}
	}
	return u, unjustified
}

// systemdSeconds parses the time spans this unit uses ("120s", "2min", "90").
func systemdSeconds(t *testing.T, s string) time.Duration {
	t.Helper()
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Second
	}
	d, err := time.ParseDuration(strings.Replace(s, "min", "m", 1))
	if err != nil {
		t.Fatalf("time span %q: %v", s, err)
	}
	return d
}

// loadDefaultConfig loads packaging/mailevents.toml as the daemon would.
func loadDefaultConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Load(defaultConfig)
	if err != nil {
		t.Fatalf("the default configuration does not load: %v", err)
	}
	return cfg
}

// fileSinkPaths returns the paths the configuration's file sinks and dead
// letters write to.
func fileSinkPaths(cfg *config.Config) []string {
	var paths []string
	sinks := slices.Clone(cfg.Sinks)
	if cfg.DeadLetter != nil {
		sinks = append(sinks, *cfg.DeadLetter)
	}
	for _, s := range sinks {
		if s.Type == config.SinkFile {
			paths = append(paths, s.Path)
		}
	}
	return paths
}

func TestUnitDirectivesAreJustified(t *testing.T) {
	u, unjustified := parseUnit(t, unitFile)
	for _, d := range unjustified {
		t.Errorf("directive without a comment saying why: %s", d)
	}
	if len(u["Service"]) < 20 {
		t.Errorf("[Service] has %d settings; parsing went wrong", len(u["Service"]))
	}
}

func TestUnitFitsTheDaemon(t *testing.T) {
	u, _ := parseUnit(t, unitFile)
	cfg := loadDefaultConfig(t)

	want := map[string]string{
		"Type":                    "notify",
		"ExecStart":               "/usr/bin/mailevents run --config /etc/mailevents/mailevents.toml $MAILEVENTS_OPTS",
		"ExecReload":              "/bin/kill -HUP $MAINPID",
		"EnvironmentFile":         "-/etc/default/mailevents",
		"Restart":                 "on-failure",
		"User":                    "mailevents",
		"SupplementaryGroups":     "adm",
		"StateDirectory":          "mailevents",
		"LogsDirectory":           "mailevents",
		"ProtectSystem":           "strict",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"NoNewPrivileges":         "yes",
		"ProtectKernelTunables":   "yes",
		"ProtectKernelModules":    "yes",
		"ProtectKernelLogs":       "yes",
		"RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
		"SystemCallFilter":        "@system-service",
		"CapabilityBoundingSet":   "",
	}
	for key, value := range want {
		got, ok := u.get("Service", key)
		if !ok || got != value {
			t.Errorf("[Service] %s=%q (set: %v), want %q", key, got, ok, value)
		}
	}

	// The watchdog must outlast every pause of the heartbeat.
	checkpoint := orDefault(cfg.CheckpointInterval.Std(), pipeline.DefaultSaveInterval)
	watchdog, ok := u.get("Service", "WatchdogSec")
	if !ok {
		t.Fatal("no WatchdogSec")
	}
	if w := systemdSeconds(t, watchdog); w <= checkpoint || w <= maxRetryWait {
		t.Errorf("WatchdogSec=%s: must exceed checkpoint_interval (%s) and the longest retry wait (%s)", watchdog, checkpoint, maxRetryWait)
	}
	// A stop must have time to drain and save before SIGKILL.
	shutdown := orDefault(cfg.ShutdownTimeout.Std(), pipeline.DefaultShutdownTimeout)
	stop, ok := u.get("Service", "TimeoutStopSec")
	if !ok {
		t.Fatal("no TimeoutStopSec")
	}
	if s := systemdSeconds(t, stop); s <= shutdown {
		t.Errorf("TimeoutStopSec=%s: must exceed shutdown_timeout (%s)", stop, shutdown)
	}

	// What the default configuration writes lies in the unit's writable
	// directories.
	if cfg.StateDir != "/var/lib/mailevents" {
		t.Errorf("state_dir %q is not StateDirectory=mailevents (/var/lib/mailevents)", cfg.StateDir)
	}
	paths := fileSinkPaths(cfg)
	if len(paths) == 0 {
		t.Fatal("the default configuration has no file sink; the logrotate and LogsDirectory tests would prove nothing")
	}
	for _, p := range paths {
		if filepath.Dir(p) != "/var/log/mailevents" {
			t.Errorf("file sink %s is outside LogsDirectory=mailevents (/var/log/mailevents), read-only under ProtectSystem=strict", p)
		}
	}
}

// orDefault returns d, or def when d is zero (the configuration left it out).
func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func TestSysusersAndTmpfilesMatchTheUnit(t *testing.T) {
	u, _ := parseUnit(t, unitFile)
	user, _ := u.get("Service", "User")
	group, _ := u.get("Service", "Group")
	sysusers := nonCommentLines(t, sysusersFile)
	if !slices.ContainsFunc(sysusers, func(l string) bool { return fieldsPrefix(l, "u", user) }) {
		t.Errorf("%s creates no user %q: %q", sysusersFile, user, sysusers)
	}
	if !slices.ContainsFunc(sysusers, func(l string) bool { return fieldsPrefix(l, "m", user, "adm") }) {
		t.Errorf("%s does not put %q into group adm: %q", sysusersFile, user, sysusers)
	}

	// tmpfiles.d creates the unit's directories, as the unit would.
	tmpfiles := nonCommentLines(t, tmpfilesFile)
	for _, d := range []struct{ dir, modeKey, path string }{
		{"StateDirectory", "StateDirectoryMode", "/var/lib/"},
		{"LogsDirectory", "LogsDirectoryMode", "/var/log/"},
	} {
		name, _ := u.get("Service", d.dir)
		mode, _ := u.get("Service", d.modeKey)
		line := strings.Join([]string{"d", d.path + name, mode, user, group, "-"}, " ")
		if !slices.ContainsFunc(tmpfiles, func(l string) bool { return strings.Join(strings.Fields(l), " ") == line }) {
			t.Errorf("%s lacks %q (from %s=%s, %s=%s)", tmpfilesFile, line, d.dir, name, d.modeKey, mode)
		}
	}
}

// fieldsPrefix reports whether line's fields start with want.
func fieldsPrefix(line string, want ...string) bool {
	f := strings.Fields(line)
	return len(f) >= len(want) && slices.Equal(f[:len(want)], want)
}

func nonCommentLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	return lines
}

func TestLogrotateCoversTheFileSinks(t *testing.T) {
	lines := nonCommentLines(t, logrotateFile)
	if len(lines) == 0 || !strings.HasSuffix(lines[0], "{") {
		t.Fatalf("%s: want a pattern and '{' first, got %q", logrotateFile, lines)
	}
	patterns := strings.Fields(strings.TrimSuffix(lines[0], "{"))
	for _, p := range fileSinkPaths(loadDefaultConfig(t)) {
		if !slices.ContainsFunc(patterns, func(pat string) bool { ok, _ := filepath.Match(pat, p); return ok }) {
			t.Errorf("file sink %s is rotated by none of %q", p, patterns)
		}
	}

	directives := map[string]bool{}
	for _, l := range lines[1:] {
		directives[strings.Fields(l)[0]] = true
	}
	// copytruncate (or copy) would lose what is written between the copy
	// and the truncation, after the daemon committed it.
	for _, bad := range []string{"copytruncate", "copy"} {
		if directives[bad] {
			t.Errorf("%s uses %s", logrotateFile, bad)
		}
	}
	// The renamed file is written to until the reload reopens it: it must
	// not be compressed in the same run.
	for _, need := range []string{"compress", "delaycompress", "sharedscripts", "postrotate", "endscript", "su"} {
		if !directives[need] {
			t.Errorf("%s lacks %s", logrotateFile, need)
		}
	}
	if !slices.Contains(lines, "systemctl reload mailevents.service") {
		t.Errorf("%s: the postrotate script does not reload mailevents.service: %q", logrotateFile, lines)
	}
	u, _ := parseUnit(t, unitFile)
	user, _ := u.get("Service", "User")
	group, _ := u.get("Service", "Group")
	if !slices.Contains(lines, "su "+user+" "+group) {
		t.Errorf("%s does not rotate as the service's user (su %s %s)", logrotateFile, user, group)
	}
}

// nfpmContent is one entry of nfpm.yaml's contents.
type nfpmContent struct{ src, dst, typ, mode string }

// parseNfpmContents reads the contents list of nfpm.yaml, line by line (the
// file keeps to one key per line).
func parseNfpmContents(t *testing.T) []nfpmContent {
	t.Helper()
	var cs []nfpmContent
	in := false
	for _, raw := range strings.Split(mustRead(t, nfpmFile), "\n") {
		line := strings.TrimSpace(raw)
		if c, _, _ := strings.Cut(line, " #"); c != line {
			line = strings.TrimSpace(c)
		}
		switch {
		case raw == "contents:":
			in = true
			continue
		case !in || line == "" || strings.HasPrefix(line, "#"):
			continue
		case !strings.HasPrefix(raw, " "):
			in = false
			continue
		}
		if rest, ok := strings.CutPrefix(line, "- "); ok {
			cs = append(cs, nfpmContent{})
			line = rest
		}
		if len(cs) == 0 {
			t.Fatalf("%s: %q before the first entry of contents", nfpmFile, line)
		}
		c := &cs[len(cs)-1]
		key, value, _ := strings.Cut(line, ": ")
		switch key {
		case "src":
			c.src = value
		case "dst":
			c.dst = value
		case "type":
			c.typ = value
		case "mode":
			c.mode = value
		}
	}
	if len(cs) == 0 {
		t.Fatalf("%s: no contents", nfpmFile)
	}
	return cs
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestNfpmContents(t *testing.T) {
	cs := parseNfpmContents(t)
	byDst := map[string]nfpmContent{}
	for _, c := range cs {
		byDst[c.dst] = c
		if c.typ == "dir" || strings.Contains(c.src, "${") {
			continue // no source, or made by scripts/build-packages
		}
		// Paths are relative to the repository's root.
		m, err := filepath.Glob(filepath.Join("..", c.src))
		if err != nil || len(m) == 0 {
			t.Errorf("nfpm.yaml: src %s matches no file", c.src)
		}
	}
	u, _ := parseUnit(t, unitFile)
	execStart, _ := u.get("Service", "ExecStart")
	for _, w := range []nfpmContent{
		{"${MAILEVENTS_BIN}", strings.Fields(execStart)[0], "", "0755"},
		{"packaging/mailevents.toml", "/etc/mailevents/mailevents.toml", "config|noreplace", "0644"},
		{"packaging/default/mailevents", "/etc/default/mailevents", "config|noreplace", "0600"},
		{"packaging/logrotate/mailevents", "/etc/logrotate.d/mailevents", "config|noreplace", "0644"},
		{unitFile, "/usr/lib/systemd/system/mailevents.service", "", "0644"},
		{sysusersFile, "/usr/lib/sysusers.d/mailevents.conf", "", "0644"},
		{tmpfilesFile, "/usr/lib/tmpfiles.d/mailevents.conf", "", "0644"},
		{"packaging/dovecot/*", "/usr/share/mailevents/dovecot/", "", "0644"},
		{"packaging/cyrus/*", "/usr/share/mailevents/cyrus/", "", "0644"},
		{"${MAILEVENTS_MAN}/man1/*.1.gz", "/usr/share/man/man1/", "", "0644"},
		{"${MAILEVENTS_MAN}/man5/*.5.gz", "/usr/share/man/man5/", "", "0644"},
		{"${MAILEVENTS_MAN}/man7/*.7.gz", "/usr/share/man/man7/", "", "0644"},
	} {
		src := w.src
		if !strings.HasPrefix(src, "packaging/") && !strings.HasPrefix(src, "$") {
			src = "packaging/" + src
		}
		got, ok := byDst[w.dst]
		if !ok {
			t.Errorf("nfpm.yaml installs nothing as %s", w.dst)
			continue
		}
		if got.src != src || got.typ != w.typ || got.mode != w.mode {
			t.Errorf("nfpm.yaml: %s from %s, type %q, mode %s; want from %s, type %q, mode %s",
				w.dst, got.src, got.typ, got.mode, src, w.typ, w.mode)
		}
	}
	// rpm removes only the directories the package names.
	for _, dir := range []string{"/etc/mailevents", "/usr/share/mailevents", "/usr/share/doc/mailevents"} {
		if byDst[dir].typ != "dir" {
			t.Errorf("nfpm.yaml does not own the directory %s", dir)
		}
	}
	// The unit reads the configuration where the package puts it.
	if !strings.Contains(execStart, "--config /etc/mailevents/mailevents.toml") {
		t.Errorf("ExecStart %q does not read /etc/mailevents/mailevents.toml", execStart)
	}
}

// TestBuildPackagesNeedsManPages runs scripts/build-packages in a copy of
// the repository's skeleton without man pages: it must stop and say so,
// before building anything.
func TestBuildPackagesNeedsManPages(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "scripts"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "man"), 0o755); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(root, "scripts", "build-packages")
	if err := os.WriteFile(script, []byte(mustRead(t, "../scripts/build-packages")), 0o755); err != nil {
		t.Fatal(err)
	}
	// Only mailevents.1 is there: the other two are missing.
	if err := os.WriteFile(filepath.Join(root, "man", "mailevents.1"), []byte(".TH MAILEVENTS 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), script, "deb")
	cmd.Env = append(os.Environ(), "VERSION=1.0.0", "DIST="+filepath.Join(root, "dist"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err == nil {
		t.Fatalf("build-packages succeeded without man/mailevents.toml.5; stdout %q", stdout.String())
	}
	if !strings.Contains(stderr.String(), "man page man/mailevents.toml.5 is missing") {
		t.Errorf("build-packages failed without naming the missing man page: %v\n%s", err, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(root, "dist")); !os.IsNotExist(err) {
		t.Errorf("build-packages created dist/ before checking the man pages (stat: %v)", err)
	}
}

func TestBuildPackagesRejectsBadVersions(t *testing.T) {
	for _, v := range []string{"latest", "1.0-rc1", "1.0 beta"} {
		cmd := exec.CommandContext(t.Context(), "../scripts/build-packages", "deb")
		cmd.Env = append(os.Environ(), "VERSION="+v, "DIST="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "VERSION") {
			t.Errorf("VERSION=%q: want a failure naming VERSION, got %v: %s", v, err, out)
		}
	}
}
