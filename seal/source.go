package seal

import "github.com/mailevents/mailevents/event"

// knownSource is the vnd.mailevents.source that AppendStamped last saw.
// The events of one input share all of it but the offset, so comparing the
// text before the offset, and looking at the digits, is enough to know the
// next one's canonical text.
type knownSource struct {
	head string // `{"file":"NAME","offset":` or `{"stream":"NAME","offset":`
	// tail is what follows the offset in the canonical text of a stream
	// source, whose members swap there: `,"stream":"NAME"}`. A file
	// source is canonical as it is ("file" sorts before "offset"), and
	// has no tail.
	tail string
}

// offset returns the digits of raw when it has the known head.
func (k *knownSource) offset(raw string) (string, bool) {
	n := len(k.head)
	if n == 0 || len(raw) <= n+1 || raw[:n] != k.head || raw[len(raw)-1] != '}' {
		return "", false
	}
	d := raw[n : len(raw)-1]
	return d, smallDigits(d)
}

// learn makes raw the known source if it has one of the usual shapes.
func (k *knownSource) learn(raw string) bool {
	if name, _, ok := sourceShape(raw, `{"file":"`); ok {
		k.head, k.tail = `{"file":"`+name+`","offset":`, ""
		return true
	}
	if name, _, ok := sourceShape(raw, `{"stream":"`); ok {
		k.head, k.tail = `{"stream":"`+name+`","offset":`, `,"stream":"`+name+`"}`
		return true
	}
	return false
}

// cutJSON notes, for the JSON value v of a vendor member at
// line[from:to], the canonical text it needs if it is not canonical as
// written.
func (s *Stream) cutJSON(v *event.Value, from, to int32) {
	raw := v.Str()
	d, known := s.source.offset(raw)
	if !known && s.source.learn(raw) {
		d, known = s.source.offset(raw)
	}
	at := int32(len(s.fix))
	switch {
	case known && s.source.tail == "":
		return
	case known:
		s.fix = append(s.fix, `{"offset":`...)
		s.fix = append(s.fix, d...)
		s.fix = append(s.fix, s.source.tail...)
	default:
		s.fix = appendCanonicalRaw(s.fix, raw)
	}
	s.cuts = append(s.cuts, cut{from: from, to: to, fixFrom: at, fixTo: int32(len(s.fix))})
}
