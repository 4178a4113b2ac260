package event

import (
	"iter"
	"slices"
	"strings"
	"time"
)

// Event is one RFC 5423 notification: a type and its parameters. Parameters
// are kept in output order, so encoding needs no sorting and two events with
// the same content always encode to the same bytes.
type Event struct {
	Type   Type
	params []field
}

type field struct {
	name  Param
	rank  int
	value Value
}

// New returns an event of type t with room for a typical number of parameters.
func New(t Type) Event {
	return Event{Type: t, params: make([]field, 0, 12)}
}

// Set sets parameter p to v, replacing any earlier value.
func (e *Event) Set(p Param, v Value) {
	r := rankOf(p)
	i := len(e.params)
	// Parameters mostly arrive in output order, so search from the end.
	for i > 0 && lessField(r, p, e.params[i-1]) {
		i--
	}
	if i > 0 && e.params[i-1].name == p {
		e.params[i-1].value = v
		return
	}
	e.params = slices.Insert(e.params, i, field{name: p, rank: r, value: v})
}

func lessField(rank int, name Param, f field) bool {
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
	e.Set(Timestamp, String(FormatTimestamp(t, digits)))
}

// SetUIDSet sets the uidset parameter in its compressed form.
func (e *Event) SetUIDSet(s UIDSet) { e.SetString(UIDSetParam, s.String()) }

// SetURL sets a URL parameter (uri, mailboxID, oldMailboxID).
func (e *Event) SetURL(p Param, u URL) { e.Set(p, String(u.String())) }

// SetFlags sets flagNames as the space-separated list the RFC suggests and
// Cyrus emits.
func (e *Event) SetFlags(flags []string) { e.SetString(FlagNames, strings.Join(flags, " ")) }

// Get returns the value of p.
func (e *Event) Get(p Param) (Value, bool) {
	for i := range e.params {
		if e.params[i].name == p {
			return e.params[i].value, true
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
		if e.params[i].name != o.params[i].name || e.params[i].value != o.params[i].value {
			return false
		}
	}
	return true
}
