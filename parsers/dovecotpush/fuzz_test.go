package dovecotpush_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mailevents/mailevents/mapping"
	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/parsers/dovecotpush"
	"github.com/mailevents/mailevents/parsers/parsertest"
	"github.com/mailevents/mailevents/source"
)

// FuzzParse: Parse never panics, has only its three outcomes, is
// deterministic, and every event mapped from a Record validates; through the
// whole pipeline, the output is deterministic and passes the schema.
func FuzzParse(f *testing.F) {
	logs, _ := filepath.Glob("testdata/*.log")
	for _, name := range logs {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for l := range strings.Lines(string(b)) {
			f.Add(strings.TrimSuffix(l, "\n"))
		}
	}
	f.Add(head + `"event":"MessageNew","user":"a","mailbox":"\u0000\ud800","uid":1,"flags":["\\Recent"],"keywords":["x"]}`)
	g := dovecotpush.New()
	newMappers := func() *mapping.Registry {
		m := new(mapping.Registry)
		m.RegisterGrammar("dovecot-push", mapping.NewDovecotPush(mapping.DovecotPushOptions{}))
		return m
	}
	f.Fuzz(func(t *testing.T, text string) {
		parsertest.CheckInvariants(t, []parsers.Parser{g}, newMappers, text)
		line := source.Line{Text: []byte(text)}
		rec, err := g.Parse(line)
		rec2, err2 := g.Parse(line)
		if !reflect.DeepEqual(rec, rec2) || (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
			t.Fatalf("not deterministic: %v/%v", err, err2)
		}
		var se *parsers.SyntaxError
		switch {
		case err == nil:
		case errors.Is(err, parsers.ErrIgnored):
			return
		case errors.As(err, &se):
			return
		default:
			t.Fatalf("outcome %T %v", err, err)
		}
		for _, plain := range []bool{false, true} {
			evs, err := mapping.NewDovecotPush(mapping.DovecotPushOptions{PlainFlagsSet: plain}).Map(nil, &rec)
			if err != nil {
				if !errors.Is(err, mapping.ErrUnmapped) {
					t.Fatalf("map: %v", err)
				}
				continue
			}
			for i := range evs {
				if err := evs[i].Validate(); err != nil {
					t.Fatalf("%q: %v", text, err)
				}
			}
		}
	})
}
