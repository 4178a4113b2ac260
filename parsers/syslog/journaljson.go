package syslog

import "time"

// maxYear keeps epoch-based stamps inside the range that RFC 3339 (and so
// encoding/json's time.Time support) can print.
const maxYear = 9999

// journalFields holds the fields we use, first as raw JSON values and then
// decoded; everything else in the entry is validated and skipped.
type journalFields struct {
	message, ident, syslogPID, pid, realtime, priority, facility, hostname, cursor []byte
}

func (f *journalFields) set(key, v []byte) {
	switch string(key) {
	case "MESSAGE":
		f.message = v
	case "SYSLOG_IDENTIFIER":
		f.ident = v
	case "SYSLOG_PID":
		f.syslogPID = v
	case "_PID":
		f.pid = v
	case "__REALTIME_TIMESTAMP":
		f.realtime = v
	case "PRIORITY":
		f.priority = v
	case "SYSLOG_FACILITY":
		f.facility = v
	case "_HOSTNAME":
		f.hostname = v
	case "__CURSOR":
		f.cursor = v
	}
}

// parseJournalJSON handles one line of journalctl -o json. The whole line
// must be a single valid JSON object; a duplicate key keeps its last value,
// as with encoding/json.
func parseJournalJSON(b []byte) (Envelope, error) {
	s := jsonScanner{b: b}
	var f journalFields
	if !s.eat('{') {
		return fail(reasonJournalJSON)
	}
	s.ws()
	if !s.eat('}') {
		for {
			s.ws()
			key, escaped, ok := s.str()
			if !ok {
				return fail(reasonJournalJSON)
			}
			if escaped {
				key = unescape(key)
			}
			s.ws()
			if !s.eat(':') {
				return fail(reasonJournalJSON)
			}
			s.ws()
			start := s.i
			if !s.value(1) {
				return fail(reasonJournalJSON)
			}
			f.set(key, b[start:s.i])
			s.ws()
			if s.eat('}') {
				break
			}
			if !s.eat(',') {
				return fail(reasonJournalJSON)
			}
		}
	}
	s.ws()
	if s.i != len(b) {
		return fail(reasonJournalJSON)
	}

	msg, ok := fieldValue(f.message)
	if !ok || msg == nil {
		// No MESSAGE, or null: journalctl prints null for fields over its
		// size limit unless --all is given, so there is no text to parse.
		return fail(reasonJournalJSON)
	}
	env := Envelope{Format: FormatJournalJSON, Precision: -1, Priority: -1, Message: msg}

	// Decode the other fields in place, from raw JSON to their bytes.
	for _, v := range [...]*[]byte{&f.ident, &f.syslogPID, &f.pid, &f.realtime, &f.priority, &f.facility, &f.hostname, &f.cursor} {
		if *v, ok = fieldValue(*v); !ok {
			return fail(reasonJournalJSON)
		}
	}

	env.Tag = string(f.ident)
	env.Host = string(f.hostname)
	env.Cursor = string(f.cursor)
	// SYSLOG_PID is what the program said about itself (it differs from
	// _PID when a syslog relay or a shell wrapper logged for it); _PID is
	// the sender journald saw.
	if v, ok := atoiPID(f.syslogPID); ok {
		env.PID = v
	} else if v, ok := atoiPID(f.pid); ok {
		env.PID = v
	}
	if f.realtime != nil {
		t, ok := unixMicro(f.realtime)
		if !ok {
			return fail(reasonTimestamp)
		}
		env.Time, env.Precision, env.Zoned = t, 6, true
	}
	// Severity without facility is still worth keeping (native journal
	// clients often send no facility), so facility defaults to 0.
	if sev, ok := atoiPID(f.priority); ok && sev <= 7 {
		env.Priority = sev
		if fac, ok := atoiPID(f.facility); ok && fac <= 23 {
			env.Priority += fac * 8
		}
	}
	return env, nil
}

// unixMicro converts __REALTIME_TIMESTAMP (decimal µs since the epoch).
func unixMicro(b []byte) (time.Time, bool) {
	if len(b) == 0 || len(b) > 18 { // 18 digits cannot overflow int64
		return time.Time{}, false
	}
	var us int64
	for _, c := range b {
		if !isDigit(c) {
			return time.Time{}, false
		}
		us = us*10 + int64(c-'0')
	}
	t := time.UnixMicro(us).UTC()
	if t.Year() > maxYear {
		return time.Time{}, false
	}
	return t, true
}

// fieldValue decodes a journald field value that the scanner has already
// validated. A nil result means absent (no such key, or null). journald
// writes a string for text, an array of byte values for binary data, and
// an array of such values when a field occurs more than once in the entry;
// of those the first is used, as journalctl's own short output does.
// Plain JSON numbers are accepted as their text, for tools that re-encode
// journal entries with numeric fields.
func fieldValue(v []byte) ([]byte, bool) {
	return decodeField(v, true)
}

func decodeField(v []byte, multi bool) ([]byte, bool) {
	if len(v) == 0 || v[0] == 'n' {
		return nil, true
	}
	s := jsonScanner{b: v}
	switch c := v[0]; {
	case c == '"':
		raw, escaped, _ := s.str()
		if escaped {
			return unescape(raw), true
		}
		return raw, true
	case c == '-' || isDigit(c):
		return v, true
	case c == '[':
		s.i++
		s.ws()
		if s.i < len(v) && (v[s.i] == '"' || v[s.i] == '[') {
			if !multi {
				return nil, false
			}
			start := s.i
			s.value(0)
			return decodeField(v[start:s.i], false)
		}
		return byteArray(&s)
	}
	return nil, false
}

// byteArray decodes the elements of an array of integers 0–255; s is just
// past the '['.
func byteArray(s *jsonScanner) ([]byte, bool) {
	out := make([]byte, 0, len(s.b)/3)
	for {
		s.ws()
		if s.eat(']') && len(out) == 0 {
			return out, true
		}
		n, digits := 0, 0
		for s.i < len(s.b) && isDigit(s.b[s.i]) && digits < 4 {
			n = n*10 + int(s.b[s.i]-'0')
			s.i++
			digits++
		}
		if digits == 0 || n > 255 {
			return nil, false
		}
		out = append(out, byte(n))
		s.ws()
		if s.eat(']') {
			return out, true
		}
		if !s.eat(',') {
			return nil, false
		}
	}
}
