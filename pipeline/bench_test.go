package pipeline_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/mailevents/mailevents/pipeline"
	"github.com/mailevents/mailevents/sinks/stdout"
	"github.com/mailevents/mailevents/source"
)

// BenchmarkPipeline measures the machinery around a grammar (reading,
// batching, id, validation, encoding) with the test double; the grammars'
// own benchmarks add their parsing cost.
func BenchmarkPipeline(b *testing.B) {
	input := strings.Repeat(loginLine+saveLine, 5000)
	b.ReportAllocs()
	b.SetBytes(int64(len(input)))
	for b.Loop() {
		r, _ := source.Open("-", source.Options{Stdin: strings.NewReader(input)})
		if err := pipeline.Run(context.Background(), r, config(stdout.New(io.Discard), nil, nil)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10000, "ns/line")
}
