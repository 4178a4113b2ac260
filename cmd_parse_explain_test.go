package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExplain compares parse --explain, with the real grammars, on each
// testdata/explain/*.log with its .golden file; -update rewrites them.
func TestExplain(t *testing.T) {
	logs, err := filepath.Glob("testdata/explain/*.log")
	if err != nil || len(logs) == 0 {
		t.Fatalf("no testdata/explain/*.log: %v", err)
	}
	for _, log := range logs {
		t.Run(filepath.Base(log), func(t *testing.T) {
			var out, errOut bytes.Buffer
			e := env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, grammars: defaultGrammars()}
			if code := run(context.Background(), []string{"parse", "--explain", "--host", "mail.example.org", log}, e); code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			golden := strings.TrimSuffix(log, ".log") + ".golden"
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if out.String() != string(want) {
				t.Errorf("parse --explain %s differs from %s:\n%s", log, golden, out.String())
			}
			// Every line is explained, and each explanation ends in what
			// the line became.
			lines := bytes.Count(mustRead(t, log), []byte("\n"))
			if n := strings.Count(out.String(), "\n== "); n+1 != lines || strings.Count(out.String(), "  -> ") < lines {
				t.Errorf("%d lines, %d explanations", lines, n+1)
			}
		})
	}
	code, _, errOut := runCLI(t, "", "parse", "--explain", "--output", "-", "x.log")
	if code != exitUsage || !strings.Contains(errOut, "drop --output") {
		t.Errorf("--explain with --output: exit %d, %s", code, errOut)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
