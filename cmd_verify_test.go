package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailevents/mailevents/event/eventtest"
	"github.com/mailevents/mailevents/seal"
)

// sealedParse runs parse --seal-key on sampleInput repeated and returns the
// key's directory and the output.
func sealedParse(t *testing.T) (dir, out string) {
	t.Helper()
	dir = t.TempDir()
	key := filepath.Join(dir, "seal.key")
	if code, _, errOut := runCLI(t, "", "keygen", "--out", key); code != exitOK {
		t.Fatalf("keygen: %s", errOut)
	}
	code, out, errOut := runCLI(t, strings.Repeat(sampleInput, 5), "parse", "--seal-key", key)
	if code != exitOK {
		t.Fatalf("parse --seal-key: exit %d: %s", code, errOut)
	}
	eventtest.CheckLines(t, []byte(out))
	return dir, out
}

func TestVerifySealedParse(t *testing.T) {
	dir, out := sealedParse(t)
	pub := filepath.Join(dir, "seal.key.pub")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 11 || !strings.Contains(lines[10], `"event":"vnd.mailevents.Seal"`) || !strings.Contains(lines[10], `"vnd.mailevents.final":true`) {
		t.Fatalf("parse --seal-key output:\n%s", out)
	}
	file := filepath.Join(dir, "events.jsonl")
	if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(out))
	zw.Close()
	if err := os.WriteFile(file+".gz", gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, args := range [][]string{{file}, {file + ".gz"}, {}} {
		code, stdout, errOut := runCLI(t, out, append([]string{"verify", "--key", pub}, args...)...)
		if code != exitOK || !strings.Contains(stdout, ": intact\n") {
			t.Fatalf("verify %v: exit %d\n%s%s", args, code, stdout, errOut)
		}
	}
	code, stdout, _ := runCLI(t, "", "verify", "--key", pub, "--json", file)
	var rep seal.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != exitOK || !rep.Intact || len(rep.Streams) != 1 || rep.Streams[0].LastSeq != 10 {
		t.Fatalf("verify --json: exit %d, %v\n%s", code, err, stdout)
	}

	// A changed user, and an archive cut before its final seal.
	tampered := strings.Replace(out, `"user":"alice"`, `"user":"mallory"`, 1)
	code, stdout, _ = runCLI(t, tampered, "verify", "--key", pub)
	if code != exitRuntime || !strings.Contains(stdout, "problem: altered: seq 1 ") || !strings.Contains(stdout, "NOT INTACT") {
		t.Fatalf("a tampered archive: exit %d\n%s", code, stdout)
	}
	cut := strings.Join(lines[:7], "\n") + "\n"
	if code, stdout, _ = runCLI(t, cut, "verify", "--key", pub); code != exitRuntime || !strings.Contains(stdout, "unsealed-tail") {
		t.Fatalf("a cut archive: exit %d\n%s", code, stdout)
	}
	if code, stdout, _ = runCLI(t, cut, "verify", "--key", pub, "--live"); code != exitOK || !strings.Contains(stdout, "note: unsealed-tail") {
		t.Fatalf("a cut archive with --live: exit %d\n%s", code, stdout)
	}
}

func TestVerifyExitCodes(t *testing.T) {
	dir, out := sealedParse(t)
	pub := filepath.Join(dir, "seal.key.pub")
	for _, tc := range []struct {
		name  string
		args  []string
		code  int
		error string
	}{
		{"no key", []string{"verify", "x"}, exitUsage, "missing flags: --key"},
		{"unreadable key", []string{"verify", "--key", filepath.Join(dir, "nope.pub")}, exitUsage, "public key"},
		{"bad kafka URL", []string{"verify", "--key", pub, "--input", "kafka://nohost"}, exitUsage, "--input"},
		{"missing file", []string{"verify", "--key", pub, filepath.Join(dir, "missing.jsonl")}, exitRuntime, "missing.jsonl"},
		{"missing file among good ones", []string{"verify", "--key", pub, "-", filepath.Join(dir, "missing.jsonl")}, exitRuntime, "missing.jsonl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, out, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.error) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, errOut, tc.code, tc.error)
			}
		})
	}
}

// A private key others may read is refused before anything is written.
func TestSealKeyMode(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "seal.key")
	if code, _, errOut := runCLI(t, "", "keygen", "--out", key); code != exitOK {
		t.Fatal(errOut)
	}
	if err := os.Chmod(key, 0o640); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, sampleInput, "parse", "--seal-key", key)
	if code != exitRuntime || out != "" || !strings.Contains(errOut, "chmod 600") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, _, errOut = runCLI(t, "", "run", "--config", filepath.Join(dir, "c.toml"), "--seal-key", key)
	if code != exitUsage || !strings.Contains(errOut, "--seal-key") {
		t.Fatalf("run --config --seal-key: exit %d, %q", code, errOut)
	}
}
