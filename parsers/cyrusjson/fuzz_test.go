package cyrusjson_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mailevents/mailevents/mapping"
	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/parsers/parsertest"
	"github.com/mailevents/mailevents/source"
)

// FuzzParse: Parse never panics, has only its three outcomes and is
// deterministic; mapped events validate or the line is malformed; through
// the whole pipeline the output is deterministic and passes the schema.
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
	g := grammar()
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
		case errors.Is(err, parsers.ErrIgnored), errors.As(err, &se):
			return
		default:
			t.Fatalf("outcome %T %v", err, err)
		}
		evs, err := mapping.NewCyrusJSON(mapping.CyrusJSONOptions{}).Map(nil, &rec)
		if err != nil {
			if !errors.Is(err, mapping.ErrUnmapped) && !errors.As(err, &se) {
				t.Fatalf("map: %v", err)
			}
			return
		}
		for i := range evs {
			if err := evs[i].Validate(); err != nil {
				t.Fatalf("%q: %v", text, err)
			}
		}
	})
}
