package event

import _ "embed"

// SchemaJSON is the JSON Schema (draft 2020-12) of the output format v1. It is
// shipped so consumers can validate what they receive; the test suite
// validates every event it produces against it.
//
//go:embed schema.json
var SchemaJSON []byte
