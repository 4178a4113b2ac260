package parsertest

import (
	"bytes"
	"context"
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
