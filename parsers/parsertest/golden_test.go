package parsertest

import (
	"flag"
	"testing"
	"time"

	"github.com/mailevents/mailevents/parsers"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// The runner is tested on the double, whose golden files pin how the pipeline
// treats each outcome of a line (event, ignored, unknown, malformed,
// unmapped, invalid event, over-long, invalid UTF-8).
func TestGoldenDouble(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	g, mappers := DoubleGrammar(now)
	Golden(t, "testdata", *update, []parsers.Parser{g}, mappers)
}
