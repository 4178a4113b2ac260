package cyrus_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mailevents/mailevents/internal/sharedref"
	"github.com/mailevents/mailevents/mapping"
	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/parsers/parsertest"
	"github.com/mailevents/mailevents/source"
)

// corpusLines returns the non-empty lines of the public Cyrus syslog files.
func corpusLines(t testing.TB) []sharedref.CorpusLine {
	return sharedref.CorpusLines(t, "fail2ban-cyrus-*.log")
}

// TestCorpus: every public Cyrus line (all failed logins, in five shapes
// across 2.x and 3.x) is a login_failed whose event is valid.
func TestCorpus(t *testing.T) {
	g := newTestGrammar()
	m := mapping.NewCyrus(mapping.CyrusOptions{})
	for _, l := range corpusLines(t) {
		id, text := l.ID(), l.Text
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

func FuzzParse(f *testing.F) {
	for _, l := range corpusLines(f) {
		f.Add(l.Text)
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
