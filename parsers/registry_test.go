package parsers_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/source"
)

// prefixGrammar recognises lines starting with its prefix; "!" after the
// prefix makes the line malformed and "~" makes it ignorable.
type prefixGrammar struct {
	name, server, prefix string
	calls                *int
}

func (g prefixGrammar) Name() string   { return g.name }
func (g prefixGrammar) Server() string { return g.server }
func (g prefixGrammar) Parse(l source.Line) (parsers.Record, error) {
	*g.calls++
	rest, ok := strings.CutPrefix(string(l.Text), g.prefix)
	switch {
	case !ok:
		return parsers.Record{}, parsers.Unrecognised("no prefix")
	case strings.HasPrefix(rest, "!"):
		return parsers.Record{}, parsers.Malformation("bang", rest)
	case strings.HasPrefix(rest, "~"):
		return parsers.Record{}, parsers.ErrIgnored
	}
	return parsers.Record{Server: g.server, Action: rest}, nil
}

func TestDetector(t *testing.T) {
	var dovecotCalls, cyrusCalls int
	reg := new(parsers.Registry)
	reg.Register(prefixGrammar{"dovecot", "dovecot", "D:", &dovecotCalls}, prefixGrammar{"cyrus", "cyrus", "C:", &cyrusCalls})

	all, err := reg.ForServer("auto")
	if err != nil || len(all) != 2 {
		t.Fatalf("ForServer(auto) = %v, %v", all, err)
	}
	d := parsers.NewDetector(all)
	tests := []struct {
		line, grammar, action string
		errIs                 error
		kind                  parsers.Kind
	}{
		{"D:save", "dovecot", "save", nil, 0},
		{"C:append", "cyrus", "append", nil, 0},
		{"D:!x", "dovecot", "", nil, parsers.Malformed},
		{"C:~", "cyrus", "", parsers.ErrIgnored, 0},
		{"postfix", "", "", nil, parsers.Unknown},
	}
	for _, tt := range tests {
		g, rec, err := d.Parse(source.Line{Text: []byte(tt.line)})
		name := ""
		if g != nil {
			name = g.Name()
		}
		var se *parsers.SyntaxError
		switch {
		case name != tt.grammar:
			t.Errorf("%q: grammar %q, want %q", tt.line, name, tt.grammar)
		case tt.errIs != nil && !errors.Is(err, tt.errIs):
			t.Errorf("%q: err %v, want %v", tt.line, err, tt.errIs)
		case tt.kind != 0 && (!errors.As(err, &se) || se.Kind != tt.kind):
			t.Errorf("%q: err %v, want a %v SyntaxError", tt.line, err, tt.kind)
		case tt.kind == 0 && tt.errIs == nil && (err != nil || rec.Action != tt.action):
			t.Errorf("%q: %+v, %v", tt.line, rec, err)
		}
	}

	// The last grammar that recognised a line is tried first, so a log of
	// one server is parsed once per line.
	dovecotCalls, cyrusCalls = 0, 0
	for range 10 {
		d.Parse(source.Line{Text: []byte("C:append")})
	}
	if cyrusCalls != 10 || dovecotCalls != 0 {
		t.Errorf("after a cyrus line: %d cyrus and %d dovecot calls for 10 cyrus lines, want 10 and 0", cyrusCalls, dovecotCalls)
	}

	if _, err := reg.ForServer("exim"); err == nil || !strings.Contains(err.Error(), "dovecot, cyrus") {
		t.Errorf("ForServer(exim) = %v, want an error listing the known servers", err)
	}
	only, _ := reg.ForServer("cyrus")
	if len(only) != 1 || only[0].Name() != "cyrus" {
		t.Errorf("ForServer(cyrus) = %v", only)
	}
}

func TestEmptyDetectorRejects(t *testing.T) {
	_, _, err := parsers.NewDetector(nil).Parse(source.Line{Text: []byte("x")})
	var se *parsers.SyntaxError
	if !errors.As(err, &se) || se.Reason != parsers.ReasonNoGrammar {
		t.Fatalf("err = %v", err)
	}
}
