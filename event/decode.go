package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Decode parses one JSON object of the output format (or of Cyrus's native
// notifications, which share it) into an Event. It is strict where silence
// would alter an event: a duplicate key, a non-string event type, or a number
// where an RFC string belongs is an error. Decode does not Validate.
func Decode(data []byte) (Event, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := expectDelim(dec, '{'); err != nil {
		return Event{}, err
	}
	e := New("")
	seen := make(map[string]bool, 16)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return Event{}, fmt.Errorf("decoding event: %w", err)
		}
		key := tok.(string) // object keys are always strings
		if seen[key] {
			return Event{}, fmt.Errorf("decoding event: duplicate key %q", key)
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return Event{}, fmt.Errorf("decoding event: value of %q: %w", key, err)
		}
		if key == "event" {
			var t string
			if err := json.Unmarshal(raw, &t); err != nil {
				return Event{}, fmt.Errorf("decoding event: \"event\" is not a string")
			}
			e.Type = Type(t)
			continue
		}
		v, err := decodeValue(Param(key), raw)
		if err != nil {
			return Event{}, fmt.Errorf("decoding event: %q: %w", key, err)
		}
		e.Set(Param(key), v)
	}
	if err := expectDelim(dec, '}'); err != nil {
		return Event{}, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Event{}, errors.New("decoding event: data after the object")
	}
	if e.Type == "" {
		return Event{}, errors.New(`decoding event: no "event" key`)
	}
	return e, nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("decoding event: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("decoding event: expected %q, got %v", want, tok)
	}
	return nil
}

func decodeValue(p Param, raw json.RawMessage) (Value, error) {
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return Value{}, err
		}
		if p.IsNumeric() {
			return Value{}, errors.New("a string where the RFC has a number")
		}
		return String(s), nil
	case 't', 'f':
		if p.IsRFC() {
			return Value{}, errors.New("a boolean where the RFC has none")
		}
		return Bool(raw[0] == 't'), nil
	case 'n':
		return Value{}, errors.New("null value")
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		if i, err := n.Int64(); err == nil {
			if p.IsRFC() && !p.IsNumeric() {
				return Value{}, errors.New("a number where the RFC has a string")
			}
			return Int(i), nil
		}
		if p.IsRFC() {
			return Value{}, errors.New("not an integer")
		}
	}
	if p.IsRFC() {
		return Value{}, errors.New("a JSON object or array where the RFC has a string or number")
	}
	return RawJSON(raw)
}
