// Package sharedref finds, for tests, the reference material kept beside the
// repository (../shared: the RFC text and the public corpus of real log
// lines). A test that needs it fails when it is missing, unless the
// developer opted out with an environment variable: it never passes by
// skipping in CI.
package sharedref

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Dir returns the shared directory: $MAILEVENTS_SHARED, or "shared" beside
// the module root.
func Dir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("MAILEVENTS_SHARED")
	if dir == "" {
		dir = filepath.Join(moduleRoot(t), "..", "shared")
	}
	return mustExist(t, dir, "MAILEVENTS_SHARED", "MAILEVENTS_SKIP_SHARED")
}

// Corpus returns the public corpus directory: $MAILEVENTS_CORPUS, or
// corpus/public under Dir.
func Corpus(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("MAILEVENTS_CORPUS")
	if dir == "" {
		if os.Getenv("MAILEVENTS_SKIP_CORPUS") == "1" && os.Getenv("MAILEVENTS_SHARED") == "" {
			t.Skip("public corpus skipped by MAILEVENTS_SKIP_CORPUS=1")
		}
		dir = filepath.Join(Dir(t), "corpus", "public")
	}
	return mustExist(t, dir, "MAILEVENTS_CORPUS", "MAILEVENTS_SKIP_CORPUS")
}

// Read returns the content of a file under Dir.
func Read(t testing.TB, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(Dir(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustExist(t testing.TB, dir, setVar, skipVar string) string {
	t.Helper()
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv(skipVar) == "1" {
			t.Skipf("%v; skipped by %s=1", err, skipVar)
		}
		t.Fatalf("reference material not found: %v (set %s, or %s=1 to skip on a laptop)", err, setVar, skipVar)
	}
	return dir
}

// moduleRoot walks up from the test's working directory (its package
// directory) to the directory holding go.mod.
func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// CorpusLine is one non-empty line of a public corpus file.
type CorpusLine struct {
	File string // base name of the file
	N    int    // 1-based line number in the file
	Text string
}

// ID names the line as "file:N", the form test expectations use.
func (l CorpusLine) ID() string { return l.File + ":" + strconv.Itoa(l.N) }

// CorpusLines returns the non-empty lines of the corpus files matching glob,
// in file and line order, exactly as the files hold them. No match fails the
// test: a grammar's corpus test must never pass on an empty corpus.
func CorpusLines(t testing.TB, glob string) []CorpusLine {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(Corpus(t), glob))
	if err != nil || len(files) == 0 {
		t.Fatalf("no %s in the corpus: %v", glob, err)
	}
	var out []CorpusLine
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for n, text := range strings.Split(string(data), "\n") {
			if text = strings.TrimSuffix(text, "\r"); text != "" {
				out = append(out, CorpusLine{File: filepath.Base(f), N: n + 1, Text: text})
			}
		}
	}
	return out
}
