package seal

import (
	"unicode/utf8"

	"github.com/gowebpki/jcs"

	"github.com/mailevents/mailevents/event"
)

// AppendCanonical appends the canonical bytes of a sealed event to dst: the
// RFC 8785 (JCS) serialisation of the JSON object that ev.AppendJSON writes,
// without the vnd.mailevents.chain member. They are what the chain hashes.
//
// The bytes are produced straight from the event's parameters, because
// serialising the event and canonicalising the result with a JCS library
// costs more than the rest of the pipeline does per line. A test holds the
// two to the same output.
func AppendCanonical(dst []byte, ev *event.Event) []byte {
	return appendCanonical(dst, ev, ChainParam)
}

// appendCanonical leaves out the member skip: the chain of an event, the
// signature of a seal.
func appendCanonical(dst []byte, ev *event.Event, skip event.Param) []byte {
	// RFC 5423's parameters and "event" have a fixed canonical order
	// (slotOf); every vendor name begins with "vnd.", which sorts after all
	// of them, and events keep their vendor parameters sorted by name
	// already. So one pass places the former and the latter follow in
	// the order the event holds them, with no sort.
	var slots [numSlots]event.Value
	var present uint32
	var vendor [24]event.Param
	var vendorVals [24]event.Value
	nv := 0
	slots[eventSlot] = event.String(string(ev.Type))
	present |= 1 << eventSlot
	for p, v := range ev.All() {
		if p == skip {
			continue
		}
		if i, ok := slotOf(p); ok {
			slots[i] = v
			present |= 1 << i
			continue
		}
		if !p.IsVendor() || nv == len(vendor) {
			return appendCanonicalSlow(dst, ev, skip)
		}
		vendor[nv], vendorVals[nv] = p, v
		nv++
	}
	dst = append(dst, '{')
	first := true
	for i := range numSlots {
		if present&(1<<i) == 0 {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, slotKeys[i]...)
		dst = appendCanonicalValue(dst, slots[i])
	}
	for i := range nv {
		dst = append(dst, ',', '"')
		dst = append(dst, vendor[i]...) // vendor names need no escape (event.Param.IsVendor)
		dst = append(dst, '"', ':')
		dst = appendCanonicalValue(dst, vendorVals[i])
	}
	return append(dst, '}')
}

// appendCanonicalSlow handles the events the fast path does not: more
// vendor parameters than it holds, or a name that is neither RFC nor vendor
// (Validate rejects those, so a pipeline never meets one).
func appendCanonicalSlow(dst []byte, ev *event.Event, skip event.Param) []byte {
	c := ev.Clone()
	c.Delete(skip)
	out, err := jcs.Transform(c.AppendJSON(nil))
	if err != nil {
		return c.AppendJSON(dst) // not I-JSON: the verifier reports such a record
	}
	return append(dst, out...)
}

func appendCanonicalValue(dst []byte, v event.Value) []byte {
	switch v.Kind() {
	case event.KindString:
		return appendCanonicalString(dst, v.Str())
	case event.KindInt:
		return appendCanonicalInt(dst, v.Int())
	case event.KindBool:
		if v.Bool() {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case event.KindJSON:
		return appendCanonicalRaw(dst, v.Str())
	}
	return append(dst, "null"...)
}

// maxExactInt is 2^53: JCS writes numbers as IEEE 754 doubles do, and every
// integer up to here has its own double.
const maxExactInt = 1 << 53

func appendCanonicalInt(dst []byte, n int64) []byte {
	if n >= -maxExactInt && n <= maxExactInt {
		return appendInt(dst, n)
	}
	s, err := jcs.NumberToJSON(float64(n))
	if err != nil {
		return appendInt(dst, n) // unreachable: every int64 is a finite double
	}
	return append(dst, s...)
}

func appendInt(dst []byte, n int64) []byte {
	if n < 0 {
		dst = append(dst, '-')
		return appendUint(dst, uint64(-n))
	}
	return appendUint(dst, uint64(n))
}

func appendUint(dst []byte, n uint64) []byte {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(dst, b[i:]...)
}

const hexDigits = "0123456789abcdef"

// plain marks the bytes JCS writes as they are inside a string.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x100; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendCanonicalString writes s as JCS does the string the event encoder
// wrote for it: bytes that are not UTF-8 became U+FFFD there, and JCS
// escapes only '"', '\\' and control characters, with the short forms
// \b \f \n \r \t where JSON has them.
func appendCanonicalString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, "\uFFFD"...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		if plain[c] {
			i++
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
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
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendCanonicalRaw canonicalises a JSON value. Every event carries one,
// vnd.mailevents.source, whose two shapes are recognised here; anything
// else goes through the JCS library.
func appendCanonicalRaw(dst []byte, raw string) []byte {
	if name, offset, ok := sourceShape(raw, `{"file":"`); ok {
		// "file" < "offset": already in canonical order.
		dst = append(dst, `{"file":"`...)
		dst = append(dst, name...)
		dst = append(dst, `","offset":`...)
		dst = append(dst, offset...)
		return append(dst, '}')
	}
	if name, offset, ok := sourceShape(raw, `{"stream":"`); ok {
		dst = append(dst, `{"offset":`...)
		dst = append(dst, offset...)
		dst = append(dst, `,"stream":"`...)
		dst = append(dst, name...)
		return append(dst, `"}`...)
	}
	out, err := jcs.Transform([]byte(raw))
	if err != nil {
		return append(dst, raw...) // not I-JSON: the verifier reports such a record
	}
	return append(dst, out...)
}

// sourceShape matches PREFIX NAME","offset":DIGITS} where NAME is UTF-8
// with no escape (so its JSON text is already canonical) and DIGITS are a small
// non-negative integer without leading zeros, and returns NAME and DIGITS.
func sourceShape(raw, prefix string) (name, offset string, ok bool) {
	if len(raw) < len(prefix) || raw[:len(prefix)] != prefix {
		return "", "", false
	}
	rest := raw[len(prefix):]
	end := -1
	for i := 0; i < len(rest); i++ {
		if rest[i] == '\\' || rest[i] < 0x20 {
			return "", "", false
		}
		if rest[i] == '"' {
			end = i
			break
		}
	}
	const mid = `","offset":`
	if end < 0 || len(rest)-end < len(mid)+2 || rest[end:end+len(mid)] != mid {
		return "", "", false
	}
	name, digits := rest[:end], rest[end+len(mid):]
	if digits[len(digits)-1] != '}' || !utf8.ValidString(name) {
		return "", "", false
	}
	digits = digits[:len(digits)-1]
	if !smallDigits(digits) {
		return "", "", false
	}
	return name, digits, true
}

// smallDigits reports whether d is a non-negative integer of at most 15
// digits without leading zeros: text that RFC 8785 writes as it is.
func smallDigits(d string) bool {
	if len(d) == 0 || len(d) > 15 || (d[0] == '0' && len(d) > 1) {
		return false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	return true
}
