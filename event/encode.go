package event

import (
	"math/bits"
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
	for i := range e.params {
		f := &e.params[i]
		if f.rank < len(quotedKeys) {
			dst = append(dst, quotedKeys[f.rank]...)
		} else if f.rank == rankVendor {
			// A vendor name is printable ASCII without '"' or '\\'
			// (isVendorName), so it needs no escaping.
			dst = append(dst, ',', '"')
			dst = append(dst, f.name...)
			dst = append(dst, '"', ':')
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

// AppendJSON appends v as AppendJSON encodes it in an event.
func (v *Value) AppendJSON(dst []byte) []byte { return v.appendJSON(dst) }

func (v *Value) appendJSON(dst []byte) []byte {
	switch v.kind {
	case KindString:
		if v.plain {
			dst = append(dst, '"')
			dst = append(dst, v.str...)
			return append(dst, '"')
		}
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
	for i := nextSpecial(s, 0); i < len(s); i = nextSpecial(s, i) {
		c := s[i]
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
		i += size // valid UTF-8 is written as it is
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// nextSpecial returns the index of the first byte of s at or after i that is
// not a plain byte (plainByte): a control character, '"', '\\', or a byte of
// non-ASCII UTF-8. It returns len(s) if there is none. It tests eight bytes
// at a time (SWAR): strings are mostly plain ASCII.
func nextSpecial(s string, i int) int {
	const (
		lo = 0x0101010101010101
		hi = 0x8080808080808080
	)
	for ; i+8 <= len(s); i += 8 {
		w := s[i : i+8]
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		q := x ^ ('"' * lo)
		b := x ^ ('\\' * lo)
		// Each term sets the high bit of a byte that is below 0x20, equal
		// to '"', equal to '\\', or at least 0x80; borrows can mark bytes
		// above a marked one too, but never below it, so the lowest mark
		// is the first special byte.
		if m := ((x-0x20*lo)&^x | (q-lo)&^q | (b-lo)&^b | x) & hi; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for ; i < len(s); i++ {
		if !plainByte[s[i]] {
			return i
		}
	}
	return i
}

// AppendJSONString appends s as a JSON string exactly as event values are
// written, for other JSON the program emits (dead letters, statistics).
func AppendJSONString(dst []byte, s string) []byte { return appendJSONString(dst, s) }
