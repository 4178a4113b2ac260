package event

import (
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends the event's JSON object (output format v1, no trailing
// newline) to dst. The encoding is deterministic: equal events give equal
// bytes. Strings are written as UTF-8 with only the escapes JSON requires (no
// HTML escaping, so jq shows what the server logged); bytes that are not valid
// UTF-8 become U+FFFD, since JSON text must be UTF-8.
func (e *Event) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"event":`...)
	dst = appendJSONString(dst, string(e.Type))
	for _, f := range e.params {
		if f.rank < len(quotedKeys) {
			dst = append(dst, quotedKeys[f.rank]...)
		} else {
			dst = append(dst, ',')
			dst = appendJSONString(dst, string(f.name))
			dst = append(dst, ':')
		}
		dst = f.value.appendJSON(dst)
	}
	return append(dst, '}')
}

// MarshalJSON implements json.Marshaler with AppendJSON.
func (e Event) MarshalJSON() ([]byte, error) {
	return e.AppendJSON(make([]byte, 0, 256)), nil
}

func (v Value) appendJSON(dst []byte) []byte {
	switch v.kind {
	case KindString:
		return appendJSONString(dst, v.str)
	case KindInt:
		return strconv.AppendInt(dst, v.num, 10)
	case KindBool:
		return strconv.AppendBool(dst, v.num != 0)
	case KindJSON:
		return append(dst, v.str...)
	}
	return append(dst, "null"...)
}

const hexDigits = "0123456789abcdef"

// quotedKeys holds `,"name":` for each RFC parameter by rank, so that the
// keys every event repeats are copied rather than escaped each time.
var quotedKeys = func() []string {
	keys := make([]string, len(encodingOrder))
	for i, p := range encodingOrder {
		keys[i] = "," + string(appendJSONString(nil, string(p))) + ":"
	}
	return keys
}()

// plainByte marks the ASCII bytes a JSON string holds as they are; a table
// lookup per byte is what keeps the common, unescaped case fast.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendJSONString writes s as a JSON string. It copies runs of plain bytes in
// one append, which matters: this is most of the encoding cost.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plainByte[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\uFFFD"...) // raw, so decoding and re-encoding gives the same bytes
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendJSONString appends s as a JSON string exactly as event values are
// written, for other JSON the program emits (dead letters, statistics).
func AppendJSONString(dst []byte, s string) []byte { return appendJSONString(dst, s) }
