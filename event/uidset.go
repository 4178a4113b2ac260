package event

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// UIDRange is an inclusive range of IMAP UIDs. In a UIDSet, First <= Last
// always holds and both are non-zero.
type UIDRange struct{ First, Last uint32 }

// UIDSet is a set of IMAP UIDs (RFC 3501 sequence-set restricted to UIDs,
// so without "*"). The zero value is an empty set ready for use.
//
// The ranges are kept normalised (sorted, disjoint, and never adjacent) so
// that String yields the canonical compressed form and two sets holding the
// same UIDs compare Equal. A UIDSet holds a slice, so copying the struct
// shares storage: copy it with Ranges or by re-adding if both copies are
// modified.
type UIDSet struct {
	ranges []UIDRange
}

// NewUIDSet returns a set holding uids. UID 0 is not a valid UID and is
// ignored, as in Add.
func NewUIDSet(uids ...uint32) UIDSet {
	rs := make([]UIDRange, 0, len(uids))
	for _, u := range uids {
		if u != 0 {
			rs = append(rs, UIDRange{u, u})
		}
	}
	// Sorting once is O(n log n) for any order, whereas n calls to Add would
	// be quadratic for descending input.
	return UIDSet{ranges: normaliseRanges(rs)}
}

// Add adds uid to the set. UID 0 is not a valid UID (RFC 3501 UIDs are
// nz-number) and is ignored rather than panicking, because UIDs come from
// untrusted log lines; validate them upstream if 0 must be reported.
func (s *UIDSet) Add(uid uint32) {
	s.AddRange(uid, uid)
}

// AddRange adds every UID from first to last inclusive. Reversed bounds are
// swapped because RFC 3501 gives "5:3" the same meaning as "3:5". A bound of
// 0 is raised to 1 for the same reason Add ignores 0.
func (s *UIDSet) AddRange(first, last uint32) {
	if first > last {
		first, last = last, first
	}
	if first == 0 {
		if last == 0 {
			return
		}
		first = 1
	}

	// Fast paths: log lines arrive in ascending UID order, so almost every
	// call either extends the last range or starts a new one after it. This
	// keeps building a set from a log O(1) amortised. The arithmetic is done
	// in uint64 so that Last == MaxUint32 cannot wrap.
	n := len(s.ranges)
	if n == 0 || uint64(first) > uint64(s.ranges[n-1].Last)+1 {
		s.ranges = append(s.ranges, UIDRange{first, last})
		return
	}
	if tail := &s.ranges[n-1]; first >= tail.First {
		tail.Last = max(tail.Last, last)
		return
	}

	// General case: ranges[i:j] overlap or touch [first, last] and collapse
	// into a single range; if there are none (i == j) this is an insertion.
	i := sort.Search(n, func(k int) bool {
		return uint64(s.ranges[k].Last)+1 >= uint64(first)
	})
	j := sort.Search(n, func(k int) bool {
		return uint64(s.ranges[k].First) > uint64(last)+1
	})
	if i < j {
		first = min(first, s.ranges[i].First)
		last = max(last, s.ranges[j-1].Last)
	}
	s.ranges = slices.Replace(s.ranges, i, j, UIDRange{first, last})
}

// Contains reports whether uid is in the set.
func (s UIDSet) Contains(uid uint32) bool {
	i := sort.Search(len(s.ranges), func(k int) bool { return s.ranges[k].Last >= uid })
	return i < len(s.ranges) && s.ranges[i].First <= uid
}

// Len returns the number of UIDs in the set. It is a uint64 because a set
// can hold all 2^32-1 UIDs, which does not fit in a uint32 (or an int on
// 32-bit platforms).
func (s UIDSet) Len() uint64 {
	var n uint64
	for _, r := range s.ranges {
		n += uint64(r.Last-r.First) + 1
	}
	return n
}

// IsEmpty reports whether the set holds no UIDs.
func (s UIDSet) IsEmpty() bool { return len(s.ranges) == 0 }

// Ranges returns the normalised ranges. The slice is a copy, so callers
// cannot break the set's invariants by modifying it.
func (s UIDSet) Ranges() []UIDRange { return slices.Clone(s.ranges) }

// Equal reports whether s and t hold the same UIDs. Normalisation makes
// this a plain element-wise comparison.
func (s UIDSet) Equal(t UIDSet) bool { return slices.Equal(s.ranges, t.ranges) }

// String returns the compressed RFC 3501 form, e.g. "3:5,9". An empty set
// yields "", which is not a valid sequence-set; check IsEmpty before
// emitting it.
func (s UIDSet) String() string {
	n := 0
	for _, r := range s.ranges {
		n += 1 + decimalLen(r.First) // "," or terminator
		if r.Last != r.First {
			n += 1 + decimalLen(r.Last)
		}
	}
	if n <= 64 {
		// A stack buffer: the string conversion is then the only allocation.
		var buf [64]byte
		return string(s.AppendTo(buf[:0]))
	}
	return appendToString(n, s.AppendTo)
}

// appendToString runs an AppendTo method into a buffer presized to n
// bytes, so the buffer never grows. (The conversion to string still copies;
// callers that care use AppendTo.)
func appendToString(n int, appendTo func([]byte) []byte) string {
	return string(appendTo(make([]byte, 0, n)))
}

func decimalLen(v uint32) int {
	n := 1
	for v >= 10 {
		v /= 10
		n++
	}
	return n
}

// AppendTo appends the String form to dst and returns the extended slice.
// It does not allocate when dst has enough capacity, which matters when an
// event is formatted for every log line.
func (s UIDSet) AppendTo(dst []byte) []byte {
	for i, r := range s.ranges {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendUint(dst, uint64(r.First), 10)
		if r.Last != r.First {
			dst = append(dst, ':')
			dst = strconv.AppendUint(dst, uint64(r.Last), 10)
		}
	}
	return dst
}

// UIDSetError reports why ParseUIDSet rejected its input.
type UIDSetError struct {
	Input  string // the complete string given to ParseUIDSet
	Reason string // human-readable explanation
}

func (e *UIDSetError) Error() string {
	return "event: invalid UID set " + quoteInput(e.Input) + ": " + e.Reason
}

// ParseUIDSet parses an RFC 3501 sequence-set of UIDs such as "3:5,9".
// Elements may come in any order, overlap, or have reversed bounds; the
// result is normalised, so "9,5:3,4" yields the set printed as "3:5,9".
// "*" is rejected because a UID set in an event names concrete messages.
// Numbers must be RFC 3501 nz-numbers: 1..4294967295 without leading zeros,
// signs or spaces.
func ParseUIDSet(s string) (UIDSet, error) {
	if s == "" {
		return UIDSet{}, &UIDSetError{Input: s, Reason: "empty input"}
	}
	rs := make([]UIDRange, 0, strings.Count(s, ",")+1)
	rest := s
	for n := 1; ; n++ {
		elem, tail, more := strings.Cut(rest, ",")
		r, reason := parseUIDRange(elem)
		if reason != "" {
			return UIDSet{}, &UIDSetError{
				Input:  s,
				Reason: fmt.Sprintf("element %d %s: %s", n, quoteInput(elem), reason),
			}
		}
		rs = append(rs, r)
		if !more {
			break
		}
		rest = tail
	}
	return UIDSet{ranges: normaliseRanges(rs)}, nil
}

// parseUIDRange parses "N" or "N:M". It returns a reason instead of an
// error so that the caller can attach the element position.
func parseUIDRange(elem string) (UIDRange, string) {
	if elem == "" {
		return UIDRange{}, "empty element"
	}
	a, b, isRange := strings.Cut(elem, ":")
	first, reason := parseNZNumber(a)
	if reason != "" {
		return UIDRange{}, reason
	}
	last := first
	if isRange {
		if last, reason = parseNZNumber(b); reason != "" {
			return UIDRange{}, reason
		}
	}
	if first > last {
		first, last = last, first
	}
	return UIDRange{first, last}, ""
}

// parseNZNumber parses an RFC 3501 nz-number that must fit in 32 bits, as
// UIDs and UIDVALIDITY values do. It is stricter than strconv.ParseUint,
// which accepts "+1" and leading zeros.
func parseNZNumber(s string) (uint32, string) {
	switch {
	case s == "":
		return 0, "missing number"
	case s == "*":
		return 0, `"*" is not allowed, only concrete UIDs`
	case s == "0":
		return 0, "zero is not allowed"
	case s[0] == '0':
		return 0, "leading zeros are not allowed"
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, "unexpected character " + quoteByte(c)
		}
		// Checking per digit stops v itself from overflowing on long input.
		if v = v*10 + uint64(c-'0'); v > math.MaxUint32 {
			return 0, "number exceeds 4294967295"
		}
	}
	return uint32(v), ""
}

// normaliseRanges sorts rs and merges overlapping or adjacent ranges in
// place. Each range must already have First <= Last.
func normaliseRanges(rs []UIDRange) []UIDRange {
	if len(rs) == 0 {
		return nil
	}
	slices.SortFunc(rs, func(a, b UIDRange) int { return cmp.Compare(a.First, b.First) })
	out := rs[:1]
	for _, r := range rs[1:] {
		if last := &out[len(out)-1]; uint64(r.First) <= uint64(last.Last)+1 {
			last.Last = max(last.Last, r.Last)
			continue
		}
		out = append(out, r)
	}
	// Many single UIDs often collapse into few ranges; do not keep the
	// input-sized backing array alive for the lifetime of the set.
	if cap(out) > 2*len(out)+8 {
		out = slices.Clone(out)
	}
	return out
}

// quoteByte formats one byte of input for an error message. Bytes of
// multi-byte UTF-8 are shown as hex because %q would print them as
// unrelated Latin-1 characters.
func quoteByte(c byte) string {
	if c < utf8.RuneSelf {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("byte 0x%02X", c)
}

// quoteInput quotes s for an error message, truncating it so that a
// pathological log line cannot produce a multi-megabyte error.
func quoteInput(s string) string {
	const limit = 128
	if len(s) <= limit {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:limit]) + fmt.Sprintf("... (%d bytes)", len(s))
}
