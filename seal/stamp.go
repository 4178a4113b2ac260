package seal

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math/bits"
	"strconv"
	"strings"

	"github.com/mailevents/mailevents/event"
)

// AppendStamped appends to dst the line of ev as the stream's next event,
// exactly what Stamp followed by ev.AppendJSON would write, without
// changing ev. It is Stamp's fast path: it encodes the line once, with a
// placeholder for the chain value, noting where each member is; hashes the
// canonical bytes put together from those pieces; and writes the chain
// value into its place.
//
// The pieces are enough because the line differs from the canonical bytes
// in little: "event" and the RFC parameters are in Cyrus's order rather
// than by name; the chain member is left out; the vendor parameters and
// the stamps already form one run sorted by name, which is where RFC 8785
// puts them, after every RFC name, but a vendor value may need another
// text ({"stream":…,"offset":…} has its members swapped, an integer beyond
// 2^53 is written as a double). An RFC parameter's value that is not
// canonical, or an escape of \b or \f (written \u0008 and \u000c), is
// rare enough to have the canonical bytes made from the event instead, as
// Stamp does.
func (s *Stream) AppendStamped(dst []byte, ev *event.Event) []byte {
	base := len(dst)
	s.seq++
	var rfc [numSlots]span // where each present RFC member is in the line
	var present uint32     // which of them are present, a bit per slot
	vendor := span{-1, -1} // the run of vendor members and stamps
	var chainTo int32      // where the chain member ends
	var exact bool         // whether the type and the RFC members are canonical
	s.cuts, s.fix = s.cuts[:0], s.fix[:0]
	next := 0 // the stamps written so far: chain, seq, stream
	stamps := func(to int) {
		for ; next < to; next++ {
			at := int32(len(dst) - base)
			if vendor.from < 0 {
				vendor.from = at
			}
			switch next {
			case 0:
				dst = append(dst, chainMember...)
				chainTo = int32(len(dst) - base)
				s.cuts = append(s.cuts, cut{from: at, to: chainTo})
			case 1:
				dst = append(dst, `,"vnd.mailevents.seq":`...)
				dst = strconv.AppendInt(dst, s.seq, 10)
			case 2:
				dst = append(dst, s.streamMember...)
			}
			vendor.to = int32(len(dst) - base)
		}
	}

	dst = append(dst, `{"event":`...)
	dst = event.AppendJSONString(dst, string(ev.Type))
	rfc[eventSlot] = span{1, int32(len(dst) - base)}
	exact = len(dst)-base == len(`{"event":`)+len(ev.Type)+2 // nothing escaped
	present |= 1 << eventSlot
	for i := range ev.Len() {
		p, v, place := ev.Member(i)
		from := int32(len(dst) - base)
		slot := -1
		switch {
		case place < len(rfcByPlace):
			slot = int(rfcByPlace[place].slot)
			dst = append(dst, rfcByPlace[place].key...)
		case place == event.PlaceVendor:
			if isStamp(p) {
				continue // replaced by the stamp
			}
			for next < 3 && stampBefore(next, p) {
				stamps(next + 1)
			}
			if vendor.from < 0 {
				vendor.from = int32(len(dst) - base)
			}
			from = int32(len(dst) - base)
			// A vendor name is printable ASCII without '"' or '\\'
			// (event.Param.IsVendor): as it is, it is canonical.
			dst = append(dst, ',', '"')
			dst = append(dst, p...)
			dst = append(dst, '"', ':')
		case place == event.PlaceContent: // after the vendor parameters
			stamps(3)
			from = int32(len(dst) - base)
			slot = contentSlot
			dst = append(dst, `,"messageContent":`...)
		default:
			// Validate rejects such a name, so a pipeline never meets one.
			s.seq--
			return s.appendStampedSlow(dst[:base], ev)
		}
		valueAt := int32(len(dst) - base)
		dst = v.AppendJSON(dst)
		end := int32(len(dst) - base)
		if slot >= 0 {
			rfc[slot] = span{from + 1, end}
			present |= 1 << slot
			exact = exact && isCanonical(v, dst[base+int(valueAt):])
			continue
		}
		vendor.to = end
		switch {
		case v.Kind() == event.KindJSON: // vnd.mailevents.source, mostly
			s.cutJSON(v, valueAt, end)
		case !isCanonical(v, dst[base+int(valueAt):]):
			at := int32(len(s.fix))
			s.fix = appendCanonicalValue(s.fix, *v)
			s.cuts = append(s.cuts, cut{from: valueAt, to: end, fixFrom: at, fixTo: int32(len(s.fix))})
		}
	}
	stamps(3)
	dst = append(dst, '}')
	chainAt := base + int(chainTo) - 1 - 2*sha256.Size
	line := dst[base:]

	buf := append(s.canon[:0], s.chain[:]...)
	if exact {
		// Members next to each other in both orders (clientIP and
		// clientPort, serverDomain and serverPort) are copied as one.
		buf = append(buf, '{')
		run := rfc[bits.TrailingZeros32(present)]
		for m := present & (present - 1); m != 0; m &= m - 1 {
			sp := rfc[bits.TrailingZeros32(m)]
			if sp.from == run.to+1 {
				run.to = sp.to
				continue
			}
			buf = append(buf, line[run.from:run.to]...)
			buf = append(buf, ',')
			run = sp
		}
		buf = append(buf, line[run.from:run.to]...)
		// The vendor run, with the chain member cut out and values that
		// are not canonical replaced, begins with a comma as it should.
		from := vendor.from
		for _, c := range s.cuts {
			buf = append(buf, line[from:c.from]...)
			buf = append(buf, s.fix[c.fixFrom:c.fixTo]...)
			from = c.to
		}
		buf = append(buf, line[from:vendor.to]...)
		buf = append(buf, '}')
	} else {
		c := ev.Clone()
		c.Set(StreamParam, s.idValue)
		c.Set(SeqParam, event.Int(s.seq))
		buf = AppendCanonical(buf, &c)
	}
	s.canon = buf
	s.chain = sha256.Sum256(buf)
	hex.Encode(dst[chainAt:], s.chain[:])
	s.dirty = true
	return dst
}

const ownPrefix = "vnd.mailevents."

var (
	stampNames = [3]event.Param{ChainParam, SeqParam, StreamParam}
	// chainMember is the chain member with a placeholder for its value.
	chainMember = `,"vnd.mailevents.chain":"` + strings.Repeat("0", 2*sha256.Size) + `"`
)

// cut replaces line[from:to], in the line's vendor run, with
// s.fix[fixFrom:fixTo] in the canonical bytes.
type cut struct{ from, to, fixFrom, fixTo int32 }

// span is where a member is in the line: from its name's quote, or the
// comma before it, to the end of its value.
type span struct{ from, to int32 }

// stampBefore reports whether stamp n (chain, seq, stream) sorts before the
// vendor name p. Most names of an event share the stamps' prefix, so the
// byte after it decides without a string comparison.
func stampBefore(n int, p event.Param) bool {
	stamp := stampNames[n]
	if len(p) > len(ownPrefix) && p[:len(ownPrefix)] == ownPrefix {
		if a, b := stamp[len(ownPrefix)], p[len(ownPrefix)]; a != b {
			return a < b
		}
	}
	return stamp < p
}

// hasShortEscape reports whether the JSON text may hold \u0008 or \u000c,
// the encoder's escapes of \b and \f, where RFC 8785 writes \b and \f.
// An escaped backslash followed by such text counts too: that value takes
// the slow path for nothing, but correctly.
func hasShortEscape(line []byte) bool {
	for {
		i := bytes.Index(line, []byte(`\u000`))
		if i < 0 || i+5 >= len(line) {
			return false
		}
		if c := line[i+5]; c == '8' || c == 'c' {
			return true
		}
		line = line[i+5:]
	}
}

// isCanonical reports whether text, v as event.AppendJSON writes it, is
// also its RFC 8785 text: not so for a string with the escapes of \b or
// \f, an integer beyond 2^53, or a JSON value other than a
// vnd.mailevents.source of a file.
func isCanonical(v *event.Value, text []byte) bool {
	switch v.Kind() {
	case event.KindString:
		// Escapes and replacement characters only lengthen the text: at
		// the string's length plus the quotes, it holds neither.
		return len(text) == len(v.Str())+2 || !hasShortEscape(text)
	case event.KindInt:
		n := v.Int()
		return n >= -maxExactInt && n <= maxExactInt
	case event.KindJSON:
		_, _, ok := sourceShape(v.Str(), `{"file":"`)
		return ok
	}
	return true
}

// rfcByPlace holds, for each RFC parameter by its place in the output
// (event.EncodingOrder), its canonical slot and its key as the line has it.
var rfcByPlace = func() []struct {
	slot uint8
	key  string
} {
	order := event.EncodingOrder()
	t := make([]struct {
		slot uint8
		key  string
	}, len(order))
	for i, p := range order {
		slot, ok := slotOf(p)
		if !ok {
			panic("seal: no slot for " + string(p))
		}
		t[i].slot = uint8(slot)
		t[i].key = `,"` + string(p) + `":`
	}
	return t
}()

// contentSlot is the place of the "messageContent" member.
var contentSlot, _ = slotOf(event.MessageContent)

// isStamp reports whether p is one of the members AppendStamped writes
// itself. The length and one byte tell most names apart without a
// comparison (…method, …reason, …server and …source have the stream's
// length).
func isStamp(p event.Param) bool {
	const at = len(ownPrefix) + 1 // the second byte after the prefix
	switch len(p) {
	case len(ChainParam):
		return p[at] == ChainParam[at] && p == ChainParam
	case len(SeqParam):
		return p[at] == SeqParam[at] && p == SeqParam
	case len(StreamParam):
		return p[at] == StreamParam[at] && p == StreamParam
	}
	return false
}

// appendStampedSlow stamps a copy of ev and encodes it.
func (s *Stream) appendStampedSlow(dst []byte, ev *event.Event) []byte {
	c := ev.Clone()
	s.seq++
	c.Set(StreamParam, s.idValue)
	c.Set(SeqParam, event.Int(s.seq))
	s.canon = AppendCanonical(append(s.canon[:0], s.chain[:]...), &c)
	s.chain = sha256.Sum256(s.canon)
	c.SetString(ChainParam, hex.EncodeToString(s.chain[:]))
	s.dirty = true
	return c.AppendJSON(dst)
}
