package cyrus_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/mailevents/mailevents/internal/loggen"
	"github.com/mailevents/mailevents/mapping"
	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/pipeline"
	"github.com/mailevents/mailevents/sinks/stdout"
	"github.com/mailevents/mailevents/source"
)

// BenchmarkPipeline is parse+map+encode of a realistic generated Cyrus 3.6
// syslog (internal/loggen.Cyrus), the Cyrus counterpart of the Dovecot
// figure (ns/line and allocs/line; compare with scripts/bench-cyrus for the
// same against grep on a file).
func BenchmarkPipeline(b *testing.B) {
	const lines = 100000
	var log bytes.Buffer
	if err := loggen.Cyrus(&log, lines, 1); err != nil {
		b.Fatal(err)
	}
	g := newTestGrammar()
	b.SetBytes(int64(log.Len()))
	b.ReportAllocs()
	for b.Loop() {
		r, _ := source.Open("-", source.Options{Stdin: bytes.NewReader(log.Bytes())})
		m := new(mapping.Registry)
		m.Register("cyrus", mapping.NewCyrus(mapping.CyrusOptions{}))
		cfg := pipeline.Config{Parsers: []parsers.Parser{g}, Mappers: m, Events: stdout.New(io.Discard)}
		if err := pipeline.Run(context.Background(), r, cfg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/lines, "ns/line")
}
