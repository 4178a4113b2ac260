package cyrus_test

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/mailevents/mailevents/internal/sharedref"
	"github.com/mailevents/mailevents/mapping"
	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/parsers/parsertest"
	"github.com/mailevents/mailevents/source"
)

// corpusLines returns the non-empty lines of the public Cyrus syslog files.
func corpusLines(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(sharedref.Corpus(t), "fail2ban-cyrus-*.log"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fail2ban-cyrus-*.log in the corpus: %v", err)
	}
	var out []string
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for n := 1; sc.Scan(); n++ {
			if sc.Text() != "" {
				out = append(out, filepath.Base(f)+":"+strconv.Itoa(n)+"\x00"+sc.Text())
			}
		}
		fh.Close()
	}
	return out
}

// TestCorpus: every public Cyrus line (all failed logins, in five shapes
// across 2.x and 3.x) is a login_failed whose event is valid.
func TestCorpus(t *testing.T) {
	g := newTestGrammar()
	m := mapping.NewCyrus(mapping.CyrusOptions{})
	for _, l := range corpusLines(t) {
		id, text, _ := cutNUL(l)
		rec, err := g.Parse(source.Line{Text: []byte(text)})
		if err != nil || rec.Action != "login_failed" {
			t.Errorf("%s: %v, action %q: %s", id, err, rec.Action, text)
			continue
		}
		evs, err := m.Map(nil, &rec)
		if err != nil || len(evs) != 1 {
			t.Errorf("%s: Map: %v (%d events)", id, err, len(evs))
			continue
		}
		if err := evs[0].Validate(); err != nil {
			t.Errorf("%s: %v", id, err)
		}
		if evs[0].GetString("clientIP") == "" {
			t.Errorf("%s: no clientIP", id)
		}
	}
}

func cutNUL(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return s[:i], s[i+1:], true
		}
	}
	return "", s, false
}

func FuzzParse(f *testing.F) {
	for _, l := range corpusLines(f) {
		_, text, _ := cutNUL(l)
		f.Add(text)
	}
	for _, tc := range lineCases {
		f.Add(tc.line)
	}
	sample, err := os.ReadFile(filepath.Join("testdata", "real-syslog.log"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(sample))
	g := newTestGrammar()
	f.Fuzz(func(t *testing.T, input string) {
		parsertest.CheckInvariants(t, []parsers.Parser{g}, newMappers, input)
		rec, err := g.Parse(source.Line{Text: []byte(input)})
		_ = outcome(t, err)
		if err != nil {
			return
		}
		evs, err := mapping.NewCyrus(mapping.CyrusOptions{}).Map(nil, &rec)
		if err != nil && !errors.Is(err, mapping.ErrUnmapped) {
			t.Fatalf("Map: %v", err)
		}
		for _, e := range evs {
			if err := e.Validate(); err != nil {
				t.Fatalf("invalid event from %q: %v", input, err)
			}
		}
	})
}
