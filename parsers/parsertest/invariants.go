package parsertest

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/mailevents/mailevents/event/eventtest"
	"github.com/mailevents/mailevents/mapping"
	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/pipeline"
	"github.com/mailevents/mailevents/sinks/stdout"
	"github.com/mailevents/mailevents/source"
)

// CheckInvariants runs one input through the whole pipeline, twice, and
// fails unless: the output is the same both times; every event passes the
// output schema; and no line was dead-lettered as "invalid" (a mapper built
// an event that breaks the RFC) or "internal" (a grammar or mapper broke its
// contract). It is what every grammar's fuzz target asserts.
func CheckInvariants(t *testing.T, grammars []parsers.Parser, newMappers func() *mapping.Registry, input string) {
	t.Helper()
	var first [2][]byte
	for run := range 2 {
		var events, rejects bytes.Buffer
		r, err := source.Open("-", source.Options{Stdin: strings.NewReader(input)})
		if err != nil {
			t.Fatal(err)
		}
		cfg := pipeline.Config{
			Parsers: grammars,
			Mappers: newMappers(),
			Events:  stdout.NewNamed("events", &events),
			Rejects: stdout.NewNamed("rejects", &rejects),
		}
		if err := pipeline.Run(context.Background(), r, cfg); err != nil {
			t.Fatalf("pipeline: %v", err)
		}
		if run == 0 {
			first = [2][]byte{events.Bytes(), rejects.Bytes()}
			eventtest.CheckLines(t, events.Bytes())
			for _, kind := range []string{pipeline.KindInvalid, pipeline.KindInternal} {
				if bytes.Contains(rejects.Bytes(), []byte(`"kind":"`+kind+`"`)) {
					t.Fatalf("input %q was dead-lettered as %s:\n%s", input, kind, rejects.Bytes())
				}
			}
			continue
		}
		if !bytes.Equal(first[0], events.Bytes()) || !bytes.Equal(first[1], rejects.Bytes()) {
			t.Fatalf("input %q: two runs differ:\n%s\n%s\nvs\n%s\n%s", input, first[0], first[1], events.Bytes(), rejects.Bytes())
		}
	}
}

// BenchmarkPipeline runs a whole log (a realistic generated one) through the
// pipeline per iteration, with fresh mappers as a new run has, and reports
// ns/line next to the usual figures: parse+map+encode, the number each
// grammar is held to.
func BenchmarkPipeline(b *testing.B, log []byte, lines int, grammars []parsers.Parser, newMappers func() *mapping.Registry) {
	b.SetBytes(int64(len(log)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := source.Open("-", source.Options{Stdin: bytes.NewReader(log)})
		if err != nil {
			b.Fatal(err)
		}
		cfg := pipeline.Config{Parsers: grammars, Mappers: newMappers(), Events: stdout.New(io.Discard)}
		if err := pipeline.Run(context.Background(), r, cfg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(lines), "ns/line")
}
