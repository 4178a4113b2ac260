package follow

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestParseRotated(t *testing.T) {
	tests := []struct {
		base, name string
		want       rotName
		ok         bool
	}{
		{"mail.log", "mail.log.1", rotName{kind: numbered, num: 1}, true},
		{"mail.log", "mail.log.12.gz", rotName{kind: numbered, num: 12, comp: ".gz"}, true},
		{"mail.log", "mail.log-20250101", rotName{kind: dated, date: "20250101"}, true},
		{"mail.log", "mail.log-2025-01-01.bz2", rotName{kind: dated, date: "20250101", comp: ".bz2"}, true},
		{"mail.log", "mail.log-20250101-1735689600.gz", rotName{kind: dated, date: "202501011735689600", comp: ".gz"}, true},
		{"mail.log", "mail.log.0", rotName{kind: numbered}, true}, // savelog
		{"mail.log", "mail.log_2025-01-01_10:00", rotName{kind: dated, date: "202501011000"}, true},
		{"mail.log", "mail-20250101.log", rotName{kind: dated, date: "20250101"}, true}, // logrotate "extension"
		{"mail.log", "mail.3.log.gz", rotName{kind: numbered, num: 3, comp: ".gz"}, true},
		{"mail.log", "mail.log.xz", rotName{}, false},
		{"mail.log", "mail.log", rotName{}, false},
		{"mail.log", "mail.log.old", rotName{}, false},
		{"mail.log", "mail.log.1a", rotName{}, false},
		{"mail.log", "mail.log.", rotName{}, false},
		{"mail.log", "mail.logx1", rotName{}, false},
		{"mail", "mail.err", rotName{}, false}, // a sibling log, not a rotation
		{"mail", "mail.1", rotName{kind: numbered, num: 1}, true},
		{"dovecot.log", "dovecot-info.log", rotName{}, false},
	}
	for _, tt := range tests {
		got, ok := parseRotated(tt.base, tt.name)
		if ok != tt.ok || got != tt.want {
			t.Errorf("parseRotated(%q, %q) = %+v, %v; want %+v, %v", tt.base, tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRotationOf(t *testing.T) {
	bases := map[string]bool{"/l/mail.log": true, "/l/imap.log": true, "/l/mail": true}
	tests := map[string]string{
		"/l/mail.log.1":            "/l/mail.log",
		"/l/mail.log.2.gz":         "/l/mail.log",
		"/l/mail.log-20250101":     "/l/mail.log",
		"/l/imap-20250101.log":     "/l/imap.log",
		"/l/imap-20250101.log.gz":  "/l/imap.log",
		"/l/mail.7":                "/l/mail",
		"/l/mail.err":              "",
		"/l/pop3.log.1":            "",
		"/other/mail.log.1":        "",
		"/l/mail.log":              "",
		"/l/mail.log.1.retry-info": "",
	}
	for path, want := range tests {
		got, ok := rotationOf(path, bases)
		if got != want || ok != (want != "") {
			t.Errorf("rotationOf(%q) = %q, %v; want %q", path, got, ok, want)
		}
	}
}

// writeAged writes a file whose modification time is age ago.
func writeAged(t *testing.T, name, data string, age time.Duration) {
	t.Helper()
	must(t, os.WriteFile(name, []byte(data), 0o644))
	at := time.Now().Add(-age)
	must(t, os.Chtimes(name, at, at))
}

func TestListRotatedOrder(t *testing.T) {
	t.Run("numbers beat modification times", func(t *testing.T) {
		// delaycompress compressed path.2.gz after path.1 was last
		// written, so times alone would put it last.
		path := logPath(t)
		writeAged(t, path+".1", "b\n", 2*time.Hour)
		writeAged(t, path+".3", "d\n", time.Hour)
		writeAged(t, path+".11", "e\n", 3*time.Hour)
		must(t, os.WriteFile(path+".1.gz.tmp", []byte("x\n"), 0o644)) // not a rotation
		mustGzip(t, path+".2.gz", "c\n", 0)
		checkNames(t, path, ".11", ".3", ".2.gz", ".1")
	})
	t.Run("dates", func(t *testing.T) {
		path := logPath(t)
		writeAged(t, path+"-20250102", "b\n", 3*time.Hour)
		mustGzip(t, path+"-20241231.gz", "a\n", 0)
		writeAged(t, path+"-20250103", "c\n", 4*time.Hour)
		checkNames(t, path, "-20241231.gz", "-20250102", "-20250103")
	})
	t.Run("mixed schemes by time", func(t *testing.T) {
		path := logPath(t)
		writeAged(t, path+".1", "b\n", 2*time.Hour)
		writeAged(t, path+"-20250103", "c\n", time.Hour)
		writeAged(t, path+".2", "a\n", 3*time.Hour)
		checkNames(t, path, ".2", ".1", "-20250103")
	})
	t.Run("compressed copy of a plain file counts once, empty files not at all", func(t *testing.T) {
		path := logPath(t)
		writeAged(t, path+".1", "b\n", 0)
		mustGzip(t, path+".1.gz", "b\n", 0) // being made from path.1
		writeAged(t, path+".2", "", 0)
		checkNames(t, path, ".1")
	})
}

func mustGzip(t *testing.T, name, data string, age time.Duration) {
	t.Helper()
	plain := name + ".plain"
	writeAged(t, plain, data, 0)
	compress(t, plain, name)
	at := time.Now().Add(-age)
	must(t, os.Chtimes(name, at, at))
}

func checkNames(t *testing.T, path string, want ...string) {
	t.Helper()
	rs := listRotated(path, testLogger(t))
	defer closeAll(rs)
	var got []string
	for _, r := range rs {
		got = append(got, r.name[len(path):])
	}
	if !slices.Equal(got, want) {
		t.Fatalf("rotated files of %s, oldest first: %q, want %q", filepath.Base(path), got, want)
	}
}
