package parsertest

import (
	"errors"
	"testing"

	"github.com/mailevents/mailevents/parsers"
)

// The outcomes of Parse, as grammar tests name them.
const (
	Record    = "record"
	Ignored   = "ignored"
	Unknown   = "unknown"
	Malformed = "malformed"
)

// Outcome names what a Parse error means, and fails the test on an error
// outside the grammar contract (parsers.Parser allows exactly three).
func Outcome(t testing.TB, err error) string {
	t.Helper()
	var se *parsers.SyntaxError
	switch {
	case err == nil:
		return Record
	case errors.Is(err, parsers.ErrIgnored):
		return Ignored
	case errors.As(err, &se) && se.Kind == parsers.Unknown:
		return Unknown
	case errors.As(err, &se) && se.Kind == parsers.Malformed:
		return Malformed
	}
	t.Fatalf("Parse returned an error outside the contract: %#v", err)
	return ""
}
