package seal

import (
	"bytes"
	"crypto/sha256"
	"strconv"

	"github.com/mailevents/mailevents/event"
)

// AppendStamped appends to dst the line of ev as the stream's next event,
// exactly what Stamp followed by ev.AppendJSON would write, without
// changing ev, except that the chain value, at dst[chainAt:chainAt+64], is
// a placeholder until Collect gives it. It is Stamp's fast path: it
// encodes the line once, noting where each member is, takes the canonical
// bytes from those pieces in canonical order, and hashes them.
func (s *Stream) AppendStamped(dst []byte, ev *event.Event) ([]byte, int) {
	base := len(dst)
	s.members = s.members[:0]
	s.cuts = s.cuts[:0]
	s.fix = s.fix[:0]
	for i := range s.slots {
		s.slots[i] = -1
	}
	s.seq++
	// The vendor parameters and the stamps are one run of the line, in
	// the order RFC 8785 wants them too: the canonical bytes take the run
	// whole, but for the cuts (the chain member, values to canonicalise).
	vStart, vEnd := -1, -1
	next := 0 // the stamps written so far, in name order: chain, seq, stream
	chainAt := 0
	stamps := func(to int) {
		if next >= to {
			return
		}
		if vStart < 0 {
			vStart = len(dst) - base
		}
		dst, chainAt = s.appendStamps(dst, base, next, to, chainAt)
		next, vEnd = to, len(dst)-base
	}

	dst = append(dst, `{"event":`...)
	dst = event.AppendJSONString(dst, string(ev.Type))
	s.slots[eventSlot] = 0
	s.members = append(s.members, piece{start: 1, end: int32(len(dst) - base)})
	for i := range ev.Len() {
		p, v := ev.At(i)
		if p == ChainParam || p == SeqParam || p == StreamParam {
			continue // replaced by the stamp
		}
		slot, rfc := slotOf(p)
		switch {
		case p == event.MessageContent: // after the vendor parameters
			stamps(3)
		case rfc:
		case vendorName(p):
			n := next
			for n < 3 && stampNames[n] < p {
				n++
			}
			stamps(n)
			if vStart < 0 {
				vStart = len(dst) - base
			}
		default:
			// Validate rejects such a name, so a pipeline never meets one.
			s.seq--
			return s.appendStampedSlow(dst[:base], ev)
		}
		m := piece{start: int32(len(dst) - base + 1)}
		dst = append(dst, ',', '"')
		dst = append(dst, p...)
		dst = append(dst, '"', ':')
		m.value = int32(len(dst) - base)
		var canonical bool
		dst, canonical = appendValue(dst, v)
		m.end = int32(len(dst) - base)
		if !canonical {
			at := len(s.fix)
			s.fix = appendCanonicalValue(s.fix, *v)
			if rfc {
				m.fix, m.fixStart, m.fixEnd = true, int32(at), int32(len(s.fix))
			} else {
				s.cuts = append(s.cuts, cut{from: m.value, to: m.end, fixStart: int32(at), fixEnd: int32(len(s.fix))})
			}
		}
		if rfc {
			s.slots[slot] = int32(len(s.members))
			s.members = append(s.members, m)
		} else {
			vEnd = len(dst) - base
		}
	}
	stamps(3)
	dst = append(dst, '}')
	line := dst[base:] // the offsets above are in the line

	// Strings are written as JCS writes them, but for \b and \f, which
	// the encoder escapes as \u0008 and \u000c; a line without any
	// escape needs no look at its strings.
	escapes := bytes.IndexByte(line, '\\') >= 0
	copyText := func(buf, text []byte) []byte {
		if escapes {
			return appendCanonicalEscapes(buf, text)
		}
		return append(buf, text...)
	}

	// The canonical bytes: the event and the RFC parameters by slot, then
	// the run of vendor parameters without its first comma.
	buf := append(s.canon[:0], '{')
	for _, i := range s.slots {
		if i < 0 {
			continue
		}
		m := &s.members[i]
		if m.fix {
			buf = append(buf, line[m.start:m.value]...)
			buf = append(buf, s.fix[m.fixStart:m.fixEnd]...)
		} else {
			buf = copyText(buf, line[m.start:m.end])
		}
		buf = append(buf, ',')
	}
	// The run's first member begins with a comma, which the slots' last
	// comma stands for; the chain member may come first and be cut.
	first := true
	run := func(text []byte) {
		if first && len(text) > 0 {
			text, first = text[1:], false
		}
		buf = copyText(buf, text)
	}
	from := vStart
	for _, c := range s.cuts {
		run(line[from:c.from])
		buf = append(buf, s.fix[c.fixStart:c.fixEnd]...)
		from = int(c.to)
	}
	run(line[from:vEnd])
	buf = append(buf, '}')
	s.canon = buf
	s.hashEvent(buf)
	s.dirty = true
	return dst, chainAt
}

// cut replaces line[from:to], in the line's vendor run, with
// s.fix[fixStart:fixEnd] in the canonical bytes.
type cut struct{ from, to, fixStart, fixEnd int32 }

// piece is where the event or an RFC parameter is in the line: from its
// name's quote to the end of its value, and where its value begins. When
// fix is set, the value's canonical text is s.fix[fixStart:fixEnd].
type piece struct {
	start, value, end int32
	fixStart, fixEnd  int32
	fix               bool
}

const ownPrefix = "vnd.mailevents."

var (
	stampNames = [3]event.Param{ChainParam, SeqParam, StreamParam}
	zeroChain  = bytes.Repeat([]byte{'0'}, 2*sha256.Size)
)

// appendStamps writes the stamp members from..to-1 (chain, seq, stream)
// of the line that starts at base, and returns where the chain value's
// placeholder is in dst. The chain member is cut from the canonical bytes.
func (s *Stream) appendStamps(dst []byte, base, from, to, chainAt int) ([]byte, int) {
	for i := from; i < to; i++ {
		switch i {
		case 0:
			start := len(dst) - base
			dst = append(dst, `,"vnd.mailevents.chain":"`...)
			chainAt = len(dst)
			dst = append(dst, zeroChain...)
			dst = append(dst, '"')
			s.cuts = append(s.cuts, cut{from: int32(start), to: int32(len(dst) - base)})
		case 1:
			dst = append(dst, `,"vnd.mailevents.seq":`...)
			dst = strconv.AppendInt(dst, s.seq, 10)
		case 2:
			dst = append(dst, s.streamMember...)
		}
	}
	return dst, chainAt
}

// appendValue writes v as event.AppendJSON does, and reports whether the
// text is canonical as well (but for the escapes of \b and \f in strings):
// not so for an integer beyond 2^53, or a JSON value other than the usual
// vnd.mailevents.source.
func appendValue(dst []byte, v *event.Value) (out []byte, canonical bool) {
	switch v.Kind() {
	case event.KindString:
		return v.AppendJSON(dst), true
	case event.KindInt:
		n := v.Int()
		return strconv.AppendInt(dst, n, 10), n >= -maxExactInt && n <= maxExactInt
	case event.KindBool:
		return strconv.AppendBool(dst, v.Bool()), true
	case event.KindJSON:
		_, _, ok := sourceShape(v.Str(), `{"file":"`)
		return append(dst, v.Str()...), ok
	}
	return append(dst, "null"...), true
}

// appendCanonicalEscapes copies a member whose string value the encoder
// wrote, turning the escapes \u0008 and \u000c into JCS's \b and \f.
func appendCanonicalEscapes(dst, member []byte) []byte {
	for {
		i := bytes.IndexByte(member, '\\')
		if i < 0 || i+1 >= len(member) {
			return append(dst, member...)
		}
		dst = append(dst, member[:i]...)
		if member[i+1] == 'u' && i+6 <= len(member) && string(member[i+2:i+5]) == "000" && (member[i+5] == '8' || member[i+5] == 'c') {
			short := byte('b')
			if member[i+5] == 'c' {
				short = 'f'
			}
			dst = append(dst, '\\', short)
			member = member[i+6:]
			continue
		}
		dst = append(dst, member[i:i+2]...)
		member = member[i+2:]
	}
}

// vendorByte marks the bytes a vendor name may hold after "vnd.": US-ASCII
// printable, no space, no quote or backslash (see event.Param.IsVendor).
var vendorByte = func() (t [256]bool) {
	for c := '!'; c <= '~'; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// vendorName is event.Param.IsVendor with a table, and knowing this
// project's prefix to be valid: it runs for every vendor parameter of
// every sealed event.
func vendorName(p event.Param) bool {
	if len(p) <= 4 || p[:4] != "vnd." {
		return false
	}
	i := 4
	if len(p) > len(ownPrefix) && p[:len(ownPrefix)] == ownPrefix {
		i = len(ownPrefix)
	}
	for ; i < len(p); i++ {
		if !vendorByte[p[i]] {
			return false
		}
	}
	return true
}

// appendStampedSlow stamps a copy of ev and encodes it, with the chain
// value left to Collect as for the others.
func (s *Stream) appendStampedSlow(dst []byte, ev *event.Event) ([]byte, int) {
	c := ev.Clone()
	s.seq++
	c.Set(StreamParam, s.idValue)
	c.Set(SeqParam, event.Int(s.seq))
	c.SetString(ChainParam, string(zeroChain))
	s.canon = AppendCanonical(s.canon[:0], &c)
	s.hashEvent(s.canon)
	s.dirty = true
	base := len(dst)
	dst = c.AppendJSON(dst)
	return dst, base + bytes.Index(dst[base:], []byte(`"vnd.mailevents.chain":"`)) + len(`"vnd.mailevents.chain":"`)
}
