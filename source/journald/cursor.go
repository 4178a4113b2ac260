package journald

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// cursorOf returns the value of the __CURSOR field of one line of
// journalctl -o json, without decoding the rest of the line: a record
// carries a few dozen fields and only this one is needed here (the parsers
// decode the others). See BenchmarkCursor for what that saves.
func cursorOf(line []byte) (string, bool) {
	// journalctl (systemd 240 and later) prints __CURSOR first and
	// compactly, and cursors hold nothing JSON escapes: one prefix test
	// and one scan. Invalid UTF-8 takes the slow path, which replaces it
	// as encoding/json does, since a checkpoint stores only UTF-8.
	const prefix = `{"__CURSOR":"`
	if rest, ok := bytes.CutPrefix(line, []byte(prefix)); ok {
		if i := bytes.IndexAny(rest, `"\`); i >= 0 && rest[i] == '"' && utf8.Valid(rest[:i]) {
			return string(rest[:i]), true
		}
	}
	return findCursor(line)
}

// findCursor handles everything else: older journalctl versions print
// `{ "__CURSOR" : "…", … }`, and other tools may order fields differently
// or escape characters.
//
// In valid JSON, an unescaped quote either opens or closes a string, and
// after a closing quote `__CURSOR"` cannot follow, so an unescaped
// `"__CURSOR"` followed by a colon is the key itself, never text inside
// a value. journalctl's records are flat, so it is a top-level key.
func findCursor(line []byte) (string, bool) {
	const key = `"__CURSOR"`
	for from := 0; ; {
		i := bytes.Index(line[from:], []byte(key))
		if i < 0 {
			return "", false
		}
		i += from
		from = i + 1
		if escapedAt(line, i) {
			continue
		}
		j := skipSpace(line, i+len(key))
		if j >= len(line) || line[j] != ':' {
			continue
		}
		j = skipSpace(line, j+1)
		end := stringEnd(line, j)
		if end < 0 {
			return "", false // not a string: no cursor to resume from
		}
		var s string
		if err := json.Unmarshal(line[j:end], &s); err != nil {
			return "", false
		}
		return s, true
	}
}

// escapedAt reports whether the quote at b[i] is preceded by an odd number
// of backslashes, which makes it part of a string rather than its edge.
func escapedAt(b []byte, i int) bool {
	n := 0
	for i--; i >= 0 && b[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just after the JSON string that starts at
// b[i], or -1 if none does.
func stringEnd(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}
