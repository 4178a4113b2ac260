package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheck runs check on every testdata/check/*.toml and compares the exit
// status and output with its .golden file (notes about this machine's files
// are left out: they depend on the machine). -update rewrites them.
func TestCheck(t *testing.T) {
	files, err := filepath.Glob("testdata/check/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/check/*.toml: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			code, out, errOut := runCLI(t, "", "check", "--config", file)
			var kept []string
			for _, l := range strings.SplitAfter(errOut, "\n") {
				if !strings.HasPrefix(l, "note: ") {
					kept = append(kept, l)
				}
			}
			got := fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", code, out, strings.Join(kept, ""))
			golden := strings.TrimSuffix(file, ".toml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if got != string(want) {
				t.Errorf("check %s:\n%s\nwant (%s):\n%s", file, got, golden, want)
			}
		})
	}
}

func TestCheckNotes(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "m.toml")
	toml := fmt.Sprintf("[[input]]\npaths = [%q]\n[[sink]]\npath = %q\n", filepath.Join(dir, "*.log"), filepath.Join(dir, "missing", "e.jsonl"))
	if err := os.WriteFile(conf, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "", "check", "--config", conf)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"nothing matches " + filepath.Join(dir, "*.log"), "directory " + filepath.Join(dir, "missing") + " does not exist"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("notes lack %q:\n%s", want, errOut)
		}
	}
}
