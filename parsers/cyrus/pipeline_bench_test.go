package cyrus_test

import (
	"bytes"
	"testing"

	"github.com/mailevents/mailevents/internal/loggen"
	"github.com/mailevents/mailevents/mapping"
	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/parsers/parsertest"
)

// BenchmarkPipeline is parse+map+encode of a realistic generated Cyrus 3.6
// syslog (internal/loggen.Cyrus), the Cyrus counterpart of the Dovecot
// figure (ns/line and allocs/line; compare with scripts/bench cyrus for the
// same against grep on a file).
func BenchmarkPipeline(b *testing.B) {
	const lines = 100000
	var log bytes.Buffer
	if err := loggen.Cyrus(&log, lines, 1); err != nil {
		b.Fatal(err)
	}
	newMappers := func() *mapping.Registry {
		m := new(mapping.Registry)
		m.Register("cyrus", mapping.NewCyrus(mapping.CyrusOptions{}))
		return m
	}
	parsertest.BenchmarkPipeline(b, log.Bytes(), lines, []parsers.Parser{newTestGrammar()}, newMappers)
}
