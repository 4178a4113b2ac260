// Package eventtest checks events the way a consumer would: against the
// shipped JSON Schema of the output format, and by decoding them back.
package eventtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/mailevents/mailevents/event"
)

var compiled = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(event.SchemaJSON))
	if err != nil {
		return nil, fmt.Errorf("parsing event/schema.json: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const url = "mem://event/schema.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("adding event/schema.json: %w", err)
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("compiling event/schema.json: %w", err)
	}
	return s, nil
})

// CheckLine validates one encoded event (a JSON line without its newline)
// against the schema, and checks that it decodes to an event that passes
// Validate and re-encodes to the same bytes.
func CheckLine(line []byte) error {
	s, err := compiled()
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(line))
	if err != nil {
		return fmt.Errorf("not JSON: %w: %s", err, line)
	}
	if err := s.Validate(inst); err != nil {
		return fmt.Errorf("schema: %w\nevent: %s", err, line)
	}
	e, err := event.Decode(line)
	if err != nil {
		return fmt.Errorf("%w\nevent: %s", err, line)
	}
	if err := e.Validate(); err != nil {
		return fmt.Errorf("%w\nevent: %s", err, line)
	}
	if again := e.AppendJSON(nil); !bytes.Equal(again, line) {
		return fmt.Errorf("re-encoding differs:\n got %s\nwant %s", again, line)
	}
	return nil
}

// CheckLines checks every non-empty line of a JSON-lines output.
func CheckLines(t testing.TB, output []byte) {
	t.Helper()
	for i, line := range bytes.Split(output, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if err := CheckLine(line); err != nil {
			t.Errorf("event line %d: %v", i+1, err)
		}
	}
}

// Check encodes e and checks the result as CheckLine does.
func Check(t testing.TB, e *event.Event) {
	t.Helper()
	if err := CheckLine(e.AppendJSON(nil)); err != nil {
		t.Error(err)
	}
}

// Compact re-serialises JSON for comparisons in tests that build expected
// output by hand.
func Compact(t testing.TB, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(s)); err != nil {
		t.Fatalf("compact %q: %v", s, err)
	}
	return buf.Bytes()
}
