package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// Kind says which JSON form a Value takes.
type Kind uint8

// Value kinds. RFC parameters are strings or integers; vendor parameters may
// also be booleans or any JSON value (an object such as vnd.mailevents.source,
// or an array such as Cyrus's vnd.cmu.midset).
const (
	KindInvalid Kind = iota
	KindString
	KindInt
	KindBool
	KindJSON
)

func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindInt:
		return "integer"
	case KindBool:
		return "boolean"
	case KindJSON:
		return "json"
	}
	return "invalid"
}

// Value is a parameter value. The zero Value is invalid.
type Value struct {
	kind Kind
	// checked records that the value was built from a typed value (a URL, a
	// UIDSet, a time) that is valid by construction, so Validate can skip
	// parsing it back: that parsing was a tenth of the cost of a line.
	checked bool
	// plain records that the string holds only bytes JSON takes as they are
	// (printable ASCII other than '"' and '\\'), because it was built so (a
	// URL, a timestamp, a UID set): encoding then copies it without a scan.
	plain bool
	num   int64
	str   string // the string, or the compact JSON text for KindJSON
}

// String returns a string value.
func String(s string) Value { return Value{kind: KindString, str: s} }

// Int returns an integer value.
func Int(n int64) Value { return Value{kind: KindInt, num: n} }

// Bool returns a boolean value.
func Bool(b bool) Value {
	v := Value{kind: KindBool}
	if b {
		v.num = 1
	}
	return v
}

// RawJSON returns a value holding any JSON text. It is compacted so that equal
// values have equal bytes (the encoding must be deterministic for the ids and,
// later, for the hash chain).
func RawJSON(text []byte) (Value, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, text); err != nil {
		return Value{}, fmt.Errorf("raw JSON value: %w", err)
	}
	return Value{kind: KindJSON, str: buf.String()}, nil
}

// Kind returns the value's kind.
func (v Value) Kind() Kind { return v.kind }

// Str returns the string of a KindString value, or the JSON text of a KindJSON value.
func (v Value) Str() string { return v.str }

// Int returns the integer of a KindInt value.
func (v Value) Int() int64 { return v.num }

// Bool returns the boolean of a KindBool value.
func (v Value) Bool() bool { return v.num != 0 }

// Equal reports whether two values are the same JSON value.
func (v Value) Equal(w Value) bool { return v.kind == w.kind && v.num == w.num && v.str == w.str }

// GoString helps test failure messages.
func (v Value) GoString() string {
	switch v.kind {
	case KindString:
		return "event.String(" + strconv.Quote(v.str) + ")"
	case KindInt:
		return "event.Int(" + strconv.FormatInt(v.num, 10) + ")"
	case KindBool:
		return "event.Bool(" + strconv.FormatBool(v.num != 0) + ")"
	case KindJSON:
		return "event.RawJSON(" + strconv.Quote(v.str) + ")"
	}
	return "event.Value{}"
}
