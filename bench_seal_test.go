package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/mailevents/mailevents/internal/loggen"
	"github.com/mailevents/mailevents/pipeline"
	"github.com/mailevents/mailevents/seal"
	"github.com/mailevents/mailevents/sinks/stdout"
	"github.com/mailevents/mailevents/source"
)

// BenchmarkSealOverhead is the cost of sealing: mailevents parse of a
// generated Dovecot log to a discarding output, unsealed and sealed in turn
// within each iteration, so that both see the same machine. The figure to
// watch is sealed/unsealed (the target is under 1.25).
//
//	go test -run '^$' -bench SealOverhead -benchtime 10x .
func BenchmarkSealOverhead(b *testing.B) {
	const lines = 100000
	var log bytes.Buffer
	if err := loggen.Dovecot(&log, lines, 1); err != nil {
		b.Fatal(err)
	}
	g := defaultGrammars()
	ps, err := g.forName("auto")
	if err != nil {
		b.Fatal(err)
	}
	signer := seal.NewSigner(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize)))
	run := func(sealed bool) time.Duration {
		out := pipeline.Output{Sink: stdout.NewNamed("discard", io.Discard)}
		if sealed {
			out.Seal, err = seal.NewStream("bench/discard", signer, time.Minute)
			if err != nil {
				b.Fatal(err)
			}
		}
		cfg := pipeline.Config{Parsers: ps, Mappers: g.newMappers(mapperOptions{host: "mail.example.org"}), Outputs: []pipeline.Output{out}}
		r, err := source.Open("-", source.Options{Stdin: bytes.NewReader(log.Bytes())})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := pipeline.Run(context.Background(), r, cfg); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	var plain, sealed time.Duration
	for i := 0; b.Loop(); i++ {
		// Each run starts with a clean heap, and they take turns going
		// first, so that neither pays for the other's garbage.
		runtime.GC()
		if i%2 == 0 {
			plain += run(false)
			runtime.GC()
			sealed += run(true)
		} else {
			sealed += run(true)
			runtime.GC()
			plain += run(false)
		}
	}
	perLine := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) / lines }
	b.ReportMetric(perLine(plain), "ns/line-unsealed")
	b.ReportMetric(perLine(sealed), "ns/line-sealed")
	b.ReportMetric(float64(sealed)/float64(plain), "sealed/unsealed")
}
