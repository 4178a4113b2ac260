package mapping

import "strings"

// dcBounded is a map that holds at most max entries and forgets the oldest
// inserted one first (FIFO). Correlation state must stay bounded on an
// endless tail; FIFO rather than LRU because entries (a session's login, a
// message's flags) are mostly used soon after they are made, and FIFO needs
// no bookkeeping on reads.
type dcBounded[K comparable, V any] struct {
	max   int
	m     map[K]dcSlot[V]
	order []dcOrderEntry[K] // insertion order; entries whose seq no longer matches are stale
	head  int
	seq   uint64
}

type dcSlot[V any] struct {
	v   V
	seq uint64
}

type dcOrderEntry[K comparable] struct {
	k   K
	seq uint64
}

func newDCBounded[K comparable, V any](max int) *dcBounded[K, V] {
	return &dcBounded[K, V]{max: max, m: make(map[K]dcSlot[V])}
}

func (b *dcBounded[K, V]) get(k K) (V, bool) {
	s, ok := b.m[k]
	return s.v, ok
}

func (b *dcBounded[K, V]) len() int { return len(b.m) }

// put sets k. Replacing a value keeps the entry's age, so a message whose
// flags change often is not kept forever.
func (b *dcBounded[K, V]) put(k K, v V) { b.swap(k, v) }

// swap sets k like put and returns the value it replaces: one lookup where
// get then put would hash k twice.
func (b *dcBounded[K, V]) swap(k K, v V) (old V, replaced bool) {
	if s, ok := b.m[k]; ok {
		b.m[k] = dcSlot[V]{v: v, seq: s.seq}
		return s.v, true
	}
	for len(b.m) >= b.max && b.head < len(b.order) {
		e := b.order[b.head]
		b.order[b.head] = dcOrderEntry[K]{}
		b.head++
		if s, ok := b.m[e.k]; ok && s.seq == e.seq {
			delete(b.m, e.k)
		}
	}
	b.seq++
	b.m[k] = dcSlot[V]{v: v, seq: b.seq}
	b.order = append(b.order, dcOrderEntry[K]{k: k, seq: b.seq})
	// Deleted keys leave stale entries behind; compact so that the queue
	// stays proportional to the map rather than to the traffic.
	if b.head > len(b.order)/2 || len(b.order) > 2*b.max+16 {
		live := b.order[:0]
		for _, e := range b.order[b.head:] {
			if s, ok := b.m[e.k]; ok && s.seq == e.seq {
				live = append(live, e)
			}
		}
		clear(b.order[len(live):])
		b.order, b.head = live, 0
	}
	return old, false
}

func (b *dcBounded[K, V]) del(k K) { delete(b.m, k) }

// backward yields the entries newest first: when a snapshot must be cut
// short, the newest are the ones worth keeping.
func (b *dcBounded[K, V]) backward(yield func(K, V) bool) {
	for i := len(b.order) - 1; i >= b.head; i-- {
		e := b.order[i]
		if s, ok := b.m[e.k]; ok && s.seq == e.seq && !yield(e.k, s.v) {
			return
		}
	}
}

// forward yields the entries oldest first, the order in which putting them
// into an empty dcBounded rebuilds the same eviction order.
func (b *dcBounded[K, V]) forward(yield func(K, V) bool) {
	for _, e := range b.order[b.head:] {
		if s, ok := b.m[e.k]; ok && s.seq == e.seq && !yield(e.k, s.v) {
			return
		}
	}
}

// interner hands out one shared copy of each string it is given, up to max
// distinct strings; then it starts afresh, which costs copies, never
// correctness.
type interner struct {
	max int
	m   map[string]string
}

func newInterner(max int) *interner {
	return &interner{max: max, m: make(map[string]string)}
}

func (in *interner) get(s string) string {
	if s == "" {
		return ""
	}
	if c, ok := in.m[s]; ok {
		return c
	}
	if len(in.m) >= in.max {
		clear(in.m)
	}
	c := strings.Clone(s)
	in.m[c] = c
	return c
}
