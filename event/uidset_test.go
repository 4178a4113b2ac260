package event

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseUIDSet(t *testing.T) {
	tests := []struct {
		in   string
		want string
		len  uint64
	}{
		{"3", "3", 1},
		{"3:5,9", "3:5,9", 4},
		{"9,3:5,4", "3:5,9", 4},
		{"5:3", "3:5", 3},
		{"1,2,3", "1:3", 3},
		{"3,2,1", "1:3", 3},
		{"1:3,4:6", "1:6", 6},         // adjacent ranges merge
		{"1:10,3:4", "1:10", 10},      // contained range
		{"7,7,7", "7", 1},             // duplicates
		{"1,3,5", "1,3,5", 3},         // gaps stay
		{"10:20,1:5,6:9", "1:20", 20}, // out-of-order bridge
		{"4294967295", "4294967295", 1},
		{"4294967294:4294967295,1", "1,4294967294:4294967295", 3},
		{"1:4294967295", "1:4294967295", math.MaxUint32},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			s, err := ParseUIDSet(tt.in)
			if err != nil {
				t.Fatalf("ParseUIDSet(%q): %v", tt.in, err)
			}
			if got := s.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if got := s.Len(); got != tt.len {
				t.Errorf("Len() = %d, want %d", got, tt.len)
			}
		})
	}
}

func TestParseUIDSetErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"", `event: invalid UID set "": empty input`},
		{"0", `event: invalid UID set "0": element 1 "0": zero is not allowed`},
		{"1:0", `event: invalid UID set "1:0": element 1 "1:0": zero is not allowed`},
		{"*", `event: invalid UID set "*": element 1 "*": "*" is not allowed, only concrete UIDs`},
		{"1:*", `event: invalid UID set "1:*": element 1 "1:*": "*" is not allowed, only concrete UIDs`},
		{"03", `event: invalid UID set "03": element 1 "03": leading zeros are not allowed`},
		{"4294967296", `event: invalid UID set "4294967296": element 1 "4294967296": number exceeds 4294967295`},
		{"99999999999999999999999", `event: invalid UID set "99999999999999999999999": element 1 "99999999999999999999999": number exceeds 4294967295`},
		{"1, 2", `event: invalid UID set "1, 2": element 2 " 2": unexpected character ' '`},
		{" 1", `event: invalid UID set " 1": element 1 " 1": unexpected character ' '`},
		{"1,,2", `event: invalid UID set "1,,2": element 2 "": empty element`},
		{"1,", `event: invalid UID set "1,": element 2 "": empty element`},
		{",1", `event: invalid UID set ",1": element 1 "": empty element`},
		{"+1", `event: invalid UID set "+1": element 1 "+1": unexpected character '+'`},
		{"-1", `event: invalid UID set "-1": element 1 "-1": unexpected character '-'`},
		{"1:", `event: invalid UID set "1:": element 1 "1:": missing number`},
		{":1", `event: invalid UID set ":1": element 1 ":1": missing number`},
		{"1:2:3", `event: invalid UID set "1:2:3": element 1 "1:2:3": unexpected character ':'`},
		{"1;2", `event: invalid UID set "1;2": element 1 "1;2": unexpected character ';'`},
		{"１", `event: invalid UID set "１": element 1 "１": unexpected character byte 0xEF`},
		{
			strings.Repeat("1,", 100) + "x",
			`event: invalid UID set "` + strings.Repeat("1,", 64) + `"... (201 bytes): element 101 "x": unexpected character 'x'`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			s, err := ParseUIDSet(tt.in)
			if err == nil {
				t.Fatalf("ParseUIDSet(%q) = %q, want error", tt.in, s)
			}
			if _, ok := err.(*UIDSetError); !ok {
				t.Errorf("error type %T, want *UIDSetError", err)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestUIDSetAddRange(t *testing.T) {
	tests := []struct {
		name string
		add  [][2]uint32
		want string
	}{
		{"empty", nil, ""},
		{"single", [][2]uint32{{4, 4}}, "4"},
		{"reversed", [][2]uint32{{9, 3}}, "3:9"},
		{"ascending singles", [][2]uint32{{1, 1}, {2, 2}, {3, 3}, {5, 5}}, "1:3,5"},
		{"descending singles", [][2]uint32{{5, 5}, {3, 3}, {2, 2}, {1, 1}}, "1:3,5"},
		{"extend tail", [][2]uint32{{1, 5}, {3, 9}}, "1:9"},
		{"insert before", [][2]uint32{{10, 12}, {1, 2}}, "1:2,10:12"},
		{"insert between", [][2]uint32{{1, 2}, {10, 12}, {5, 6}}, "1:2,5:6,10:12"},
		{"bridge two", [][2]uint32{{1, 2}, {6, 7}, {3, 5}}, "1:7"},
		{"swallow many", [][2]uint32{{2, 2}, {4, 4}, {6, 6}, {8, 8}, {1, 9}}, "1:9"},
		{"touch left only", [][2]uint32{{1, 2}, {10, 12}, {3, 5}}, "1:5,10:12"},
		{"touch right only", [][2]uint32{{1, 2}, {10, 12}, {5, 9}}, "1:2,5:12"},
		{"contained", [][2]uint32{{1, 20}, {30, 40}, {5, 6}}, "1:20,30:40"},
		{"zero ignored", [][2]uint32{{0, 0}}, ""},
		{"zero bound raised", [][2]uint32{{0, 3}}, "1:3"},
		{"max adjacent", [][2]uint32{{math.MaxUint32, math.MaxUint32}, {math.MaxUint32 - 1, math.MaxUint32 - 1}}, "4294967294:4294967295"},
		{"max then low", [][2]uint32{{math.MaxUint32, math.MaxUint32}, {1, 1}}, "1,4294967295"},
		{"full", [][2]uint32{{1, math.MaxUint32}, {7, 7}}, "1:4294967295"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s UIDSet
			for _, r := range tt.add {
				s.AddRange(r[0], r[1])
			}
			if got := s.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if s.IsEmpty() != (tt.want == "") {
				t.Errorf("IsEmpty() = %v for %q", s.IsEmpty(), tt.want)
			}
		})
	}
}

func TestUIDSetQueries(t *testing.T) {
	s := NewUIDSet(9, 3, 4, 5, 0, 100)
	if got, want := s.Ranges(), []UIDRange{{3, 5}, {9, 9}, {100, 100}}; !cmp.Equal(got, want) {
		t.Errorf("Ranges() mismatch (-got +want):\n%s", cmp.Diff(got, want))
	}
	for uid, want := range map[uint32]bool{0: false, 2: false, 3: true, 5: true, 6: false, 9: true, 100: true, 101: false, math.MaxUint32: false} {
		if got := s.Contains(uid); got != want {
			t.Errorf("Contains(%d) = %v, want %v", uid, got, want)
		}
	}
	if got := s.Len(); got != 5 {
		t.Errorf("Len() = %d, want 5", got)
	}

	// Ranges must be a copy: writing to it must not corrupt the set.
	rs := s.Ranges()
	rs[0] = UIDRange{1, 1000}
	if got := s.String(); got != "3:5,9,100" {
		t.Errorf("after modifying Ranges(), String() = %q", got)
	}

	var empty UIDSet
	if !empty.IsEmpty() || empty.Len() != 0 || empty.Contains(1) || empty.String() != "" || empty.Ranges() != nil {
		t.Errorf("zero UIDSet is not empty: %#v", empty)
	}
	if !empty.Equal(NewUIDSet()) || !NewUIDSet(0).IsEmpty() {
		t.Error("NewUIDSet() or NewUIDSet(0) is not equal to the zero UIDSet")
	}
	if !s.Equal(NewUIDSet(100, 9, 5, 4, 3)) || s.Equal(NewUIDSet(3, 4, 5, 9)) {
		t.Error("Equal gives wrong answer")
	}
}

// TestUIDSetModel checks UIDSet against a map on random operations. Small
// universes force lots of merging; the high universe exercises the
// MaxUint32 boundary where Last+1 would wrap.
func TestUIDSetModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, base := range []uint32{0, math.MaxUint32 - 64} {
		for iter := range 500 {
			var s UIDSet
			model := map[uint32]bool{}
			for range rng.IntN(20) {
				a, b := base+uint32(rng.IntN(65)), base+uint32(rng.IntN(65))
				if rng.IntN(3) == 0 {
					b = a
				}
				s.AddRange(a, b)
				for u := uint64(min(a, b)); u <= uint64(max(a, b)); u++ {
					if u != 0 {
						model[uint32(u)] = true
					}
				}
			}
			for u := uint64(base); u <= uint64(base)+65; u++ {
				if got, want := s.Contains(uint32(u)), model[uint32(u)]; got != want {
					t.Fatalf("base %d iter %d: Contains(%d) = %v, want %v (set %s)", base, iter, u, got, want, s)
				}
			}
			if got := s.Len(); got != uint64(len(model)) {
				t.Fatalf("base %d iter %d: Len() = %d, want %d (set %s)", base, iter, got, len(model), s)
			}
			checkNormalised(t, s)
			if s.IsEmpty() {
				continue
			}
			p, err := ParseUIDSet(s.String())
			if err != nil || !p.Equal(s) {
				t.Fatalf("ParseUIDSet(%q) = %v, %v; want equal set", s, p, err)
			}
		}
	}
}

func checkNormalised(t *testing.T, s UIDSet) {
	t.Helper()
	for i, r := range s.ranges {
		if r.First == 0 || r.First > r.Last {
			t.Fatalf("range %d %v is malformed in %v", i, r, s.ranges)
		}
		if i > 0 && uint64(s.ranges[i-1].Last)+1 >= uint64(r.First) {
			t.Fatalf("ranges %d and %d overlap or touch in %v", i-1, i, s.ranges)
		}
	}
}

// TestUIDSetAddAscendingAllocs pins down the O(1) amortised fast path: one
// UID per log line in ascending order must not grow the slice or search.
func TestUIDSetAddAscendingAllocs(t *testing.T) {
	s := NewUIDSet(1)
	next := uint32(2)
	allocs := testing.AllocsPerRun(1000, func() {
		s.Add(next)
		next++
	})
	if allocs != 0 {
		t.Errorf("Add of consecutive ascending UIDs: %v allocs/op, want 0", allocs)
	}
	if len(s.ranges) != 1 {
		t.Errorf("got %d ranges, want 1", len(s.ranges))
	}
}

func TestUIDSetAppendToAllocs(t *testing.T) {
	s := NewUIDSet(1, 2, 3, 7, 4294967295)
	buf := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(100, func() { buf = s.AppendTo(buf[:0]) })
	if allocs != 0 {
		t.Errorf("AppendTo: %v allocs/op, want 0", allocs)
	}
	if got := string(s.AppendTo([]byte("uidset="))); got != "uidset=1:3,7,4294967295" {
		t.Errorf("AppendTo = %q", got)
	}
}

func FuzzParseUIDSet(f *testing.F) {
	for _, s := range []string{"1", "3:5,9", "9,3:5,4", "5:3", "0", "*", "03", "1,,2", "4294967295", "4294967296", "1:4294967295,7"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseUIDSet(in)
		if err != nil {
			if s.IsEmpty() == false {
				t.Fatalf("ParseUIDSet(%q) returned non-empty set with error %v", in, err)
			}
			_ = err.Error()
			return
		}
		if s.IsEmpty() {
			t.Fatalf("ParseUIDSet(%q) succeeded with empty set", in)
		}
		checkNormalised(t, s)
		str := s.String()
		again, err := ParseUIDSet(str)
		if err != nil {
			t.Fatalf("ParseUIDSet(%q) ok but re-parsing String %q: %v", in, str, err)
		}
		if !again.Equal(s) {
			t.Fatalf("re-parse of %q gave %q", str, again)
		}
		if again.String() != str {
			t.Fatalf("String not a fixed point: %q -> %q", str, again.String())
		}
	})
}

// bigUIDSet mimics a mailbox after many expunges: runs of consecutive UIDs
// separated by holes.
func bigUIDSet() UIDSet {
	var s UIDSet
	for i := range uint32(1000) {
		base := 1_000_000 + i*10
		s.AddRange(base, base+uint32(i%4))
	}
	return s
}

func BenchmarkUIDSetString(b *testing.B) {
	s := bigUIDSet()
	b.Run("String", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = s.String()
		}
	})
	b.Run("AppendTo", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 32<<10)
		for b.Loop() {
			buf = s.AppendTo(buf[:0])
		}
	})
}

func BenchmarkUIDSetAddAscending(b *testing.B) {
	b.ReportAllocs()
	var s UIDSet
	uid := uint32(1)
	for b.Loop() {
		s.Add(uid)
		uid += 2 // holes force a new range each time: the worst fast-path case
		if uid > 1<<20 {
			s, uid = UIDSet{}, 1
		}
	}
}
