package syslog

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mailevents/mailevents/internal/sharedref"
)

// The hand-written JSON scanner is checked against encoding/json, which is
// the reference for what a JSON line means.

// journalSeeds are JSON inputs for the differential checks.
func journalSeeds() []string {
	var seeds []string
	for _, tc := range allCases() {
		if strings.HasPrefix(tc.line, "{") {
			seeds = append(seeds, tc.line)
		}
	}
	return append(seeds,
		`{"MESSAGE":"\ud800\u0041"}`, // high surrogate followed by a non-surrogate escape
		`{"MESSAGE":"\ud800"}`,
		`{"MESSAGE":"\uDBFF\uDFFF end"}`,
		`{"MESSAGE":"x","A":[{"b":[1e5,-0,0.5E-3]},"\u00ff",false,null]}`,
		`{"MESSAGE":"x",}`,
		`{"MESSAGE" "x"}`,
		`{"MESSAGE":"x"]`,
		`{"MESSAGE":[]}`,
		`{"MESSAGE":-12}`,
		`{"MESSAGE":"x","__REALTIME_TIMESTAMP":1704161045123456}`,
	)
}

// checkAgainstEncodingJSON asserts that parseJournalJSON agrees with
// encoding/json on validity, and on MESSAGE and SYSLOG_IDENTIFIER when both
// are plain strings.
func checkAgainstEncodingJSON(t *testing.T, line []byte) {
	t.Helper()
	env, err := parseJournalJSON(line)
	var m map[string]json.RawMessage
	stdErr := json.Unmarshal(line, &m)
	if stdErr != nil || m == nil {
		if err == nil {
			t.Fatalf("%q: encoding/json rejects it (%v) but Parse accepted it", line, stdErr)
		}
		return
	}
	strField := func(key string) (string, bool) {
		var s string
		raw, ok := m[key]
		return s, ok && json.Unmarshal(raw, &s) == nil && !bytes.Equal(raw, []byte("null"))
	}
	msg, msgIsString := strField("MESSAGE")
	if err != nil {
		var pe *Error
		errors.As(err, &pe)
		// A valid object may still be refused: nesting past our limit, a
		// field of a type journald never writes, a bad timestamp.
		if pe.Reason == reasonJournalJSON && msgIsString && bytes.Count(line, []byte("[")) <= maxJSONDepth && bytes.Count(line, []byte("{")) <= maxJSONDepth {
			for _, k := range []string{"SYSLOG_IDENTIFIER", "SYSLOG_PID", "_PID", "__REALTIME_TIMESTAMP", "PRIORITY", "SYSLOG_FACILITY", "_HOSTNAME", "__CURSOR"} {
				if raw, ok := m[k]; ok && raw[0] != '"' && raw[0] != 'n' {
					return
				}
			}
			t.Fatalf("%q: valid journal object with a string MESSAGE refused: %v", line, err)
		}
		return
	}
	if !utf8.Valid(line) {
		return // encoding/json replaces invalid bytes; we keep them
	}
	if msgIsString && string(env.Message) != msg {
		t.Fatalf("%q: Message = %q, encoding/json says %q", line, env.Message, msg)
	}
	if ident, ok := strField("SYSLOG_IDENTIFIER"); ok && env.Tag != ident {
		t.Fatalf("%q: Tag = %q, encoding/json says %q", line, env.Tag, ident)
	}
}

func TestJournalJSONMatchesEncodingJSON(t *testing.T) {
	for _, s := range journalSeeds() {
		checkAgainstEncodingJSON(t, []byte(s))
	}
}

// TestJournalJSONCyrusEvents feeds real nested JSON (Cyrus event
// notifications) through the scanner: every object must be valid to it,
// and fail only for the missing MESSAGE.
func TestJournalJSONCyrusEvents(t *testing.T) {
	dir := sharedref.Corpus(t)
	path := filepath.Join(dir, "cyrus-docs-event-notifications.jsonl")
	for _, line := range readLines(t, path) {
		s := jsonScanner{b: line}
		if !s.value(0) {
			t.Errorf("scanner rejects valid JSON: %.80s", line)
		}
		checkAgainstEncodingJSON(t, line)
		withMessage := append([]byte(`{"MESSAGE":"m",`), line[1:]...)
		if _, err := parseJournalJSON(withMessage); err != nil {
			t.Errorf("with MESSAGE added: %v: %.80s", err, withMessage)
		}
	}
}

// FuzzJournalJSON is a differential fuzzer against encoding/json.
func FuzzJournalJSON(f *testing.F) {
	for _, s := range journalSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		if len(line) == 0 || line[0] != '{' {
			return
		}
		checkAgainstEncodingJSON(t, line)
	})
}
