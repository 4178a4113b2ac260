package event

import (
	"iter"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Event is one RFC 5423 notification: a type and its parameters. Parameters
// are kept in output order, so encoding needs no sorting and two events with
// the same content always encode to the same bytes.
type Event struct {
	Type   Type
	params []field
	buf    *[]field // the pooled storage params came from, returned by Release
}

type field struct {
	name  Param
	rank  int
	value Value
}

// paramBuffers recycles parameter storage between events: the pipeline makes
// and encodes one or two events per line, and allocating (and zeroing) their
// parameters afresh each time was the largest cost of mapping.
var paramBuffers = sync.Pool{New: func() any {
	b := make([]field, 0, 16)
	return &b
}}

// New returns an event of type t with room for a typical number of parameters.
func New(t Type) Event {
	b := paramBuffers.Get().(*[]field)
	return Event{Type: t, params: (*b)[:0], buf: b}
}

// Release hands the event's storage back for reuse by New. Call it only when
// nothing refers to the event any more (the pipeline does, once the event is
// encoded); the event is empty afterwards. Events that are never released are
// simply collected.
func (e *Event) Release() {
	b := e.buf
	params := e.params
	e.params, e.buf = nil, nil
	if b == nil || cap(params) > 64 {
		return
	}
	// Only the used part: beyond len the array is already zero (Delete and
	// earlier Releases leave it so), and clearing all of it per event showed
	// in profiles.
	clear(params) // drop references to strings so they can be collected
	*b = params[:0]
	paramBuffers.Put(b)
}

// Set sets parameter p to v, replacing any earlier value.
func (e *Event) Set(p Param, v Value) {
	r := rankOf(p)
	// Parameters mostly arrive in output order: then this is an append,
	// which only has to store the length when the storage has room.
	if i := len(e.params); i == 0 || e.params[i-1].rank < r {
		if i < cap(e.params) {
			e.params = e.params[:i+1]
		} else {
			e.params = append(e.params, field{})
		}
		e.params[i].set(p, r, v)
		return
	}
	params := e.params
	i := len(params)
	// Otherwise search from the end.
	for i > 0 && lessField(r, p, &params[i-1]) {
		i--
	}
	if i > 0 && params[i-1].name == p {
		params[i-1].value = v
		return
	}
	// Insert in place, without slices.Insert's generality: the storage
	// usually has room.
	params = append(params, field{})
	copy(params[i+1:], params[i:])
	params[i].set(p, r, v)
	e.params = params
}

// set fills f field by field: copying a field or Value built on the stack
// as a whole read it back in wider loads than it was written with, which
// stalled store forwarding and made this the most expensive line of Set.
// Every field of Value must be copied here (a test checks that Get returns
// what Set was given).
func (f *field) set(p Param, r int, v Value) {
	f.name = p
	f.rank = r
	f.value.kind = v.kind
	f.value.checked = v.checked
	f.value.plain = v.plain
	f.value.num = v.num
	f.value.str = v.str
}

func lessField(rank int, name Param, f *field) bool {
	if rank != f.rank {
		return rank < f.rank
	}
	return name < f.name
}

// SetString sets a string parameter; an empty s removes it, because the RFC
// has no use for empty values and Cyrus omits them too.
func (e *Event) SetString(p Param, s string) {
	if s == "" {
		e.Delete(p)
		return
	}
	e.Set(p, String(s))
}

// SetInt sets an integer parameter.
func (e *Event) SetInt(p Param, n int64) { e.Set(p, Int(n)) }

// SetTimestamp sets the timestamp parameter with the given number of
// fractional-second digits (the precision of the source).
func (e *Event) SetTimestamp(t time.Time, digits int) {
	var buf [40]byte
	b, inRange := appendTimestamp(buf[:0], t, digits)
	v := String(string(b))
	v.checked = inRange // what RFC 3339 can express
	v.plain = true      // digits, '-', ':', '.', '+' (also from AppendFormat)
	e.Set(Timestamp, v)
}

// SetUIDSet sets the uidset parameter in its compressed form; a UIDSet is
// valid by construction unless empty, which Validate still rejects.
func (e *Event) SetUIDSet(s UIDSet) {
	v := String(s.String())
	v.checked = !s.IsEmpty()
	v.plain = true // digits, ':' and ','
	e.Set(UIDSetParam, v)
}

// SetURL sets a URL parameter (uri, mailboxID, oldMailboxID).
func (e *Event) SetURL(p Param, u URL) { e.Set(p, URLValue(u)) }

// URLValue returns the value of a URL parameter. A URL that passes
// URL.Validate is marked so that Validate need not parse it back; a mapper
// that names one URL in several events makes the value once.
func URLValue(u URL) Value {
	v := String(u.String())
	v.checked = u.Validate() == nil
	v.plain = true // String percent-encodes every byte JSON would escape
	return v
}

// UIDValue returns the uidset value of a single UID, the common case,
// without building a UIDSet.
func UIDValue(uid uint32) Value {
	v := String(strconv.FormatUint(uint64(uid), 10))
	v.checked = uid != 0
	v.plain = true
	return v
}

// SetFlags sets flagNames as the space-separated list the RFC suggests and
// Cyrus emits.
func (e *Event) SetFlags(flags []string) { e.SetString(FlagNames, strings.Join(flags, " ")) }

// Get returns the value of p.
func (e *Event) Get(p Param) (Value, bool) {
	// Parameters are sorted by rank, and an RFC parameter's rank names it:
	// comparing integers, and stopping at the first greater rank, beats
	// comparing names (sinks ask for several per event).
	r := rankOf(p)
	for i := range e.params {
		f := &e.params[i]
		if f.rank < r {
			continue
		}
		if f.rank > r {
			break
		}
		if r < rankVendor || r == rankContent || f.name == p {
			return f.value, true
		}
	}
	return Value{}, false
}

// GetString returns the value of p when it is a string, else "".
func (e *Event) GetString(p Param) string {
	if v, ok := e.Get(p); ok && v.kind == KindString {
		return v.str
	}
	return ""
}

// Has reports whether p is set.
func (e *Event) Has(p Param) bool {
	_, ok := e.Get(p)
	return ok
}

// Delete removes p.
func (e *Event) Delete(p Param) {
	e.params = slices.DeleteFunc(e.params, func(f field) bool { return f.name == p })
}

// Len returns the number of parameters.
func (e *Event) Len() int { return len(e.params) }

// All yields the parameters in output order.
func (e *Event) All() iter.Seq2[Param, Value] {
	return func(yield func(Param, Value) bool) {
		for _, f := range e.params {
			if !yield(f.name, f.value) {
				return
			}
		}
	}
}

// Places of parameters in the output that Member reports, besides the RFC
// parameters' indexes in EncodingOrder.
const (
	PlaceVendor  = rankVendor  // a well-formed vendor name: after the RFC parameters, by name
	PlaceContent = rankContent // messageContent: last
	PlaceUnknown = rankUnknown // any other name (Validate rejects it)
)

// Member returns the i-th parameter in output order, 0 <= i < Len, with
// its place in the output: its index in EncodingOrder for an RFC
// parameter, else PlaceVendor, PlaceContent or PlaceUnknown. The value is
// e's own, not a copy. An encoder that lays the members out otherwise
// (package seal) learns from it, without looking at the name, what
// AppendJSON knows.
func (e *Event) Member(i int) (Param, *Value, int) {
	f := &e.params[i]
	return f.name, &f.value, f.rank
}

// EncodingOrder returns the RFC parameters in the order AppendJSON writes
// them, but for messageContent, which comes last (PlaceContent).
func EncodingOrder() []Param { return slices.Clone(encodingOrder) }

// Clone returns a deep copy, so that one sink's changes (a suppressed
// parameter, a tag) never show in another's.
func (e *Event) Clone() Event {
	return Event{Type: e.Type, params: slices.Clone(e.params)}
}

// Equal reports whether two events have the same type and parameters.
func (e *Event) Equal(o *Event) bool {
	if e.Type != o.Type || len(e.params) != len(o.params) {
		return false
	}
	for i := range e.params {
		if e.params[i].name != o.params[i].name || !e.params[i].value.Equal(o.params[i].value) {
			return false
		}
	}
	return true
}
