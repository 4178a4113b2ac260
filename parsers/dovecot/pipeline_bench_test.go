package dovecot_test

import (
	"bytes"
	"testing"

	"github.com/mailevents/mailevents/internal/loggen"
	"github.com/mailevents/mailevents/mapping"
	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/parsers/parsertest"
	"github.com/mailevents/mailevents/source"
)

// BenchmarkPipeline is parse+map+encode of a realistic generated mail.log,
// the figure the Dovecot grammar is held to (ns/line and allocs/line; compare
// with scripts/bench dovecot for the same against grep on a file).
func BenchmarkPipeline(b *testing.B) {
	const lines = 100000
	var log bytes.Buffer
	if err := loggen.Dovecot(&log, lines, 1); err != nil {
		b.Fatal(err)
	}
	newMappers := func() *mapping.Registry {
		m := new(mapping.Registry)
		m.Register("dovecot", mapping.NewDovecot(mapping.DovecotOptions{}))
		return m
	}
	parsertest.BenchmarkPipeline(b, log.Bytes(), lines, []parsers.Parser{newTestGrammar()}, newMappers)
}

// BenchmarkParseLog is the grammar alone (envelope included) over the same
// generated mail.log, one line per op: the parse side of BenchmarkPipeline
// without the mapping and encoding around it.
func BenchmarkParseLog(b *testing.B) {
	var log bytes.Buffer
	if err := loggen.Dovecot(&log, 100000, 1); err != nil {
		b.Fatal(err)
	}
	var lines []source.Line
	for l := range bytes.Lines(log.Bytes()) {
		lines = append(lines, source.Line{Text: bytes.TrimSuffix(l, []byte("\n"))})
	}
	g := newTestGrammar()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_, _ = g.Parse(lines[i%len(lines)])
	}
}
