package mapping

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// The state format, shared by the mappers of this package. A blob is
//
//	version  1 byte, stateVersion
//	kind     1 byte: the mapper it belongs to ('d' Dovecot, 'c' Cyrus)
//	strings  for each of the mapper's string tables: uvarint count, then
//	         each string as uvarint length and bytes
//	tables   for each table, in the mapper's fixed order: uvarint count,
//	         then the entries oldest first
//	crc      CRC-32C (Castagnoli) of everything before it, 4 bytes big-endian
//
// An entry is a sequence of varints and strings. A string that repeats
// across entries (a user, a mailbox, a flag list, an address) is written once
// in a string table and referenced by its index there; an id that is unique
// to its entry (a session id, a Message-ID) is written inline, where an index
// would only add bytes. Each kind of string has its own table, so that the
// few mailbox names and flag lists keep one-byte indexes however many users
// and addresses there are; within a table, indexes are given in the order the
// encoder meets the strings, newest entry first.
//
// Binary rather than JSON because the budget is fixed: a flag entry costs
// about 7 bytes here against some 70 in compact JSON, a session 34 against
// 93, so the 768 KiB the daemon gives holds a whole default flag table
// (100000 messages) where JSON would hold a tenth of it. The checksum makes a
// damaged blob an error instead of a plausible state.
const stateVersion = 1

const (
	stateKindDovecot byte = 'd'
	stateKindCyrus   byte = 'c'
)

func stateKindName(k byte) string {
	switch k {
	case stateKindDovecot:
		return "dovecot"
	case stateKindCyrus:
		return "cyrus"
	}
	return fmt.Sprintf("unknown (%q)", k)
}

var stateCRC = crc32.MakeTable(crc32.Castagnoli)

// stateOverhead is the size of a blob without strings or entries: version,
// kind, checksum and a zero count for each string table and table.
func stateOverhead(spaces, tables int) int { return 2 + 4 + spaces + tables }

// stateStrings is one string table of a blob being built.
type stateStrings struct {
	strs []string
	idx  map[string]uint64
}

// stateEnc builds a blob within a budget. Entries are offered newest first;
// an entry is kept only if it, the strings it adds and the bytes by which it
// lengthens the counts fit in what is left. The accounting is exact: the
// blob never exceeds the budget and holds, of each table, the newest entries
// that fit.
type stateEnc struct {
	budget int
	used   int // the size of the blob of what was kept so far
	spaces []stateStrings
	// data holds the kept entries, table after table, each table's newest
	// first; ends is the end of each entry in data, tables the number of
	// entries of each table.
	data   []byte
	ends   []int
	tables []int
	// cur is the entry being encoded; added lists the string table of each
	// string it added, newCost what they add to the blob: taken back if the
	// entry does not fit.
	cur      []byte
	added    []int
	newCost  int
	complete bool // nothing was dropped
}

// newStateEnc starts a blob of at most budget bytes for a state with spaces
// string tables and tables tables holding entries entries in all. The
// buffers are sized for what can be kept, so that saving a full state does
// not grow them step by step.
func newStateEnc(budget, spaces, tables, entries int) *stateEnc {
	e := &stateEnc{
		budget:   budget,
		used:     stateOverhead(spaces, tables),
		spaces:   make([]stateStrings, spaces),
		data:     make([]byte, 0, max(0, min(budget, 32*entries))),
		ends:     make([]int, 0, max(0, min(entries, budget/8))),
		tables:   make([]int, 0, tables),
		complete: true,
	}
	for i := range e.spaces {
		e.spaces[i].idx = make(map[string]uint64)
	}
	return e
}

func (e *stateEnc) uvarint(v uint64) { e.cur = binary.AppendUvarint(e.cur, v) }
func (e *stateEnc) varint(v int64)   { e.cur = binary.AppendVarint(e.cur, v) }

// ref writes s as an index into string table space.
func (e *stateEnc) ref(space int, s string) {
	t := &e.spaces[space]
	i, ok := t.idx[s]
	if !ok {
		i = uint64(len(t.strs))
		t.idx[s] = i
		t.strs = append(t.strs, s)
		e.added = append(e.added, space)
		e.newCost += uvarintLen(uint64(len(s))) + len(s) + uvarintLen(i+1) - uvarintLen(i)
	}
	e.uvarint(i)
}

// inline writes s in the entry itself.
func (e *stateEnc) inline(s string) {
	e.uvarint(uint64(len(s)))
	e.cur = append(e.cur, s...)
}

// inlineBit writes s inline with a boolean in the low bit of its length,
// which saves a byte on every entry that has both.
func (e *stateEnc) inlineBit(s string, bit bool) {
	n := uint64(len(s)) << 1
	if bit {
		n |= 1
	}
	e.uvarint(n)
	e.cur = append(e.cur, s...)
}

// commit ends the current entry: it is kept in the last table if it fits,
// else it and the strings it added are forgotten.
func (e *stateEnc) commit() bool {
	n := &e.tables[len(e.tables)-1]
	cost := len(e.cur) + e.newCost + uvarintLen(uint64(*n+1)) - uvarintLen(uint64(*n))
	ok := cost <= e.budget-e.used
	if ok {
		e.used += cost
		e.data = append(e.data, e.cur...)
		e.ends = append(e.ends, len(e.data))
		*n++
	} else {
		for _, space := range e.added {
			t := &e.spaces[space]
			delete(t.idx, t.strs[len(t.strs)-1])
			t.strs = t.strs[:len(t.strs)-1]
		}
		e.complete = false
	}
	e.cur, e.added, e.newCost = e.cur[:0], e.added[:0], 0
	return ok
}

// saveTable offers the entries of t, newest first, until one does not fit:
// a table keeps a contiguous run of its newest entries, so that eviction
// after a restart goes on from where it was.
func saveTable[K comparable, V any](e *stateEnc, t *dcBounded[K, V], put func(*stateEnc, K, V)) {
	e.tables = append(e.tables, 0)
	for k, v := range t.backward {
		put(e, k, v)
		if !e.commit() {
			return
		}
	}
}

// finish returns the blob, nil when no entry was kept.
func (e *stateEnc) finish(kind byte) []byte {
	if len(e.ends) == 0 {
		return nil
	}
	b := make([]byte, 0, e.used)
	b = append(b, stateVersion, kind)
	for _, t := range e.spaces {
		b = binary.AppendUvarint(b, uint64(len(t.strs)))
		for _, s := range t.strs {
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
	}
	first := 0 // the table's first entry in ends
	for _, n := range e.tables {
		b = binary.AppendUvarint(b, uint64(n))
		for i := first + n - 1; i >= first; i-- {
			start := 0
			if i > 0 {
				start = e.ends[i-1]
			}
			b = append(b, e.data[start:e.ends[i]]...)
		}
		first += n
	}
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, stateCRC))
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// stateDec reads a blob. Its readers return zero values once err is set,
// so an entry is read straight through and checked once at its end.
type stateDec struct {
	b      []byte
	spaces [][]string
	names  []string // of the string tables, for errors
	err    error
}

var (
	errStateTruncated = errors.New("truncated")
	errStateVarint    = errors.New("varint overflows 64 bits")
)

// openState checks the header and checksum of data, written by the mapper
// of kind, and reads its string tables, one for each of spaces (their names).
func openState(data []byte, kind byte, spaces []string) (*stateDec, error) {
	if data[0] != stateVersion {
		return nil, fmt.Errorf("unknown version %d (this build reads %d)", data[0], stateVersion)
	}
	if len(data) < 2+4 {
		return nil, fmt.Errorf("%w: %d bytes, less than a header and checksum", errStateTruncated, len(data))
	}
	if data[1] != kind {
		return nil, fmt.Errorf("blob of the %s mapper", stateKindName(data[1]))
	}
	body, sum := data[:len(data)-4], binary.BigEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, stateCRC) != sum {
		return nil, errors.New("checksum mismatch: truncated or damaged")
	}
	d := &stateDec{b: body[2:], spaces: make([][]string, len(spaces)), names: spaces}
	for i, name := range spaces {
		n := d.count()
		strs := make([]string, 0, n)
		for range n {
			strs = append(strs, d.inline())
		}
		if d.err != nil {
			return nil, fmt.Errorf("%s strings: %w", name, d.err)
		}
		d.spaces[i] = strs
	}
	return d, nil
}

func (d *stateDec) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *stateDec) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	switch {
	case n == 0:
		d.fail(errStateTruncated)
		return 0
	case n < 0:
		d.fail(errStateVarint)
		return 0
	}
	d.b = d.b[n:]
	return v
}

// varint reads a zigzag-encoded signed varint, as binary.Varint does, by
// way of uvarint so that the damage checks live in one place.
func (d *stateDec) varint() int64 {
	ux := d.uvarint()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

// count reads the number of strings or entries that follow. Each takes at
// least a byte, so a count beyond the bytes left is damage, caught before
// it sizes an allocation.
func (d *stateDec) count() int {
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)) {
		d.fail(fmt.Errorf("count %d exceeds the %d bytes left", n, len(d.b)))
		return 0
	}
	return int(n)
}

func (d *stateDec) bytes(n uint64) string {
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.fail(errStateTruncated)
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *stateDec) inline() string { return d.bytes(d.uvarint()) }

func (d *stateDec) inlineBit() (string, bool) {
	n := d.uvarint()
	return d.bytes(n >> 1), n&1 != 0
}

func (d *stateDec) ref(space int) string {
	i := d.uvarint()
	if d.err != nil {
		return ""
	}
	if strs := d.spaces[space]; i < uint64(len(strs)) {
		return strs[i]
	}
	d.fail(fmt.Errorf("%s string %d out of range (%d strings)", d.names[space], i, len(d.spaces[space])))
	return ""
}

// uint reads an unsigned number within [lo, hi]; what names the field in
// the error.
func (d *stateDec) uint(what string, lo, hi uint64) uint64 {
	v := d.uvarint()
	if d.err == nil && (v < lo || v > hi) {
		d.fail(fmt.Errorf("%s %d out of range [%d, %d]", what, v, lo, hi))
		return 0
	}
	return v
}

// loadTable reads one table into t, an empty dcBounded, oldest entry first.
// Entries beyond t's bound are read (the blob is checked whole) but only the
// newest t.max are kept.
func loadTable[K comparable, V any](d *stateDec, name string, t *dcBounded[K, V], get func(*stateDec) (K, V)) {
	if d.err != nil {
		return
	}
	n := d.count()
	if d.err != nil {
		d.err = fmt.Errorf("%s: %w", name, d.err)
		return
	}
	skip := n - t.max
	for i := range n {
		k, v := get(d)
		if d.err != nil {
			d.err = fmt.Errorf("%s entry %d of %d: %w", name, i+1, n, d.err)
			return
		}
		if i < skip {
			continue
		}
		if _, dup := t.swap(k, v); dup {
			d.err = fmt.Errorf("%s entry %d of %d: duplicate key", name, i+1, n)
			return
		}
	}
}

// close checks that the tables used the whole blob.
func (d *stateDec) close() error {
	if d.err == nil && len(d.b) > 0 {
		d.err = fmt.Errorf("trailing bytes after the last table: %d", len(d.b))
	}
	return d.err
}
