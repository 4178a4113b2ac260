package event

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// This file keeps the straightforward implementations that faster code
// replaced, and checks that the replacements agree with them byte for byte:
// the output format (and the golden files) must not move.

// refAppendJSONString is appendJSONString as it was before nextSpecial: a
// table lookup per byte.
func refAppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plainByte[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
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
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\uFFFD"...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// randomJSONInput mixes plain ASCII runs with every kind of byte that needs
// care: controls, quotes, backslashes, DEL, valid multi-byte UTF-8 (including
// U+2028, U+2029 and U+FFFD itself), truncated and invalid sequences.
func randomJSONInput(rng *rand.Rand) string {
	pieces := []string{
		"a", "INBOX", "alice@example.org", "imap://h/INBOX;UIDVALIDITY=1/;UID=7",
		"\"", "\\", "\n", "\r", "\t", "\x00", "\x1f", "\x7f", " ",
		"é", "日本語", "🙂", "\u2028", "\u2029", "\uFFFD",
		"\xff", "\xc3", "\xe6\x97", "\xf0\x9f\x99", "\xed\xa0\x80", "\xc0\xaf", "\x80",
	}
	var b []byte
	for range rng.IntN(12) {
		if rng.IntN(4) == 0 {
			b = append(b, byte(rng.IntN(256)))
			continue
		}
		p := pieces[rng.IntN(len(pieces))]
		for range 1 + rng.IntN(3) {
			b = append(b, p...)
		}
	}
	return string(b)
}

func TestAppendJSONStringMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200000 {
		s := randomJSONInput(rng)
		if got, want := appendJSONString([]byte("x"), s), refAppendJSONString([]byte("x"), s); !bytes.Equal(got, want) {
			t.Fatalf("appendJSONString(%q) = %q, want %q", s, got, want)
		}
	}
	// Every byte value at every position of a word and of the tail.
	for n := 1; n <= 20; n++ {
		for pos := range n {
			for c := range 256 {
				b := bytes.Repeat([]byte{'a'}, n)
				b[pos] = byte(c)
				s := string(b)
				if got, want := appendJSONString(nil, s), refAppendJSONString(nil, s); !bytes.Equal(got, want) {
					t.Fatalf("appendJSONString(%q) = %q, want %q", s, got, want)
				}
			}
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	f.Add("plain")
	f.Add("a\"b\\c\n\x00\x7f\xff\u2028é日本語🙂 and some more plain text")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := appendJSONString(nil, s), refAppendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendJSONString(%q) = %q, want %q", s, got, want)
		}
	})
}

// refCheckParam is checkParam as it was before it went by rank.
func refCheckParam(p Param, v Value) string {
	if v.kind == KindInvalid {
		return "no value"
	}
	if !p.IsRFC() {
		if !p.IsVendor() {
			return "not an RFC 5423 parameter and not vnd."
		}
		return ""
	}
	if p.IsNumeric() {
		if v.kind != KindInt {
			return "must be an integer"
		}
		return checkRange(p, v.num)
	}
	if v.kind != KindString {
		return "must be a string"
	}
	if v.checked {
		return ""
	}
	switch p {
	case URI, MailboxID, OldMailboxID:
		if _, err := ParseURL(v.str); err != nil {
			return err.Error()
		}
	case UIDSetParam:
		if _, err := ParseUIDSet(v.str); err != nil {
			return err.Error()
		}
	case FlagNames:
		return checkFlagNames(v.str)
	case Timestamp:
		if _, err := ParseTimestamp(v.str); err != nil {
			return "not an RFC 3339 timestamp"
		}
	case ClientIP:
		a, err := netip.ParseAddr(v.str)
		if err != nil {
			return "not an IP address"
		}
		if a.Zone() != "" {
			return "an IP address with a zone (%eth0) is not an address"
		}
	}
	return ""
}

// refValidate is Validate as it was before it went by rank.
func refValidate(e *Event) error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	switch {
	case e.Type == "":
		add("no event type")
	case !e.Type.IsRFC() && !e.Type.IsVendor():
		add("unknown event type %q (not RFC 5423, not vnd.)", e.Type)
	}
	for _, f := range e.params {
		if f.rank == rankVendor {
			continue
		}
		if msg := refCheckParam(f.name, f.value); msg != "" {
			add("%s: %s", f.name, msg)
		}
	}
	if e.Type.IsRFC() && !e.Has(URI) {
		add("uri missing (RFC 5423 §5: included with all notifications)")
	}
	if uidsetRequired(e.Type) && !e.Has(UIDSetParam) {
		add("uidset missing (RFC 5423 §5: included with %s)", e.Type)
	}
	switch e.Type {
	case FlagsSet, FlagsClear:
		if !e.Has(FlagNames) {
			add("flagNames missing (RFC 5423 §4.2)")
		}
	case MailboxCreate, MailboxDelete:
		if !e.Has(MailboxID) {
			add("mailboxID missing (RFC 5423 §5: included in events that affect mailboxes)")
		}
	case MailboxRename:
		if !e.Has(MailboxID) || !e.Has(OldMailboxID) {
			add("MailboxRename needs mailboxID and oldMailboxID (RFC 5423 §4.4)")
		}
	}
	if problems != nil {
		return &ValidationError{Type: e.Type, Problems: problems}
	}
	return nil
}

func testValues() []Value {
	vs := []Value{{}, Bool(true), Bool(false), {kind: KindJSON, str: `{"a":1}`}}
	for _, n := range []int64{-2, -1, 0, 1, 143, 65535, 65536, 1 << 40} {
		vs = append(vs, Int(n))
	}
	for _, s := range []string{
		"", "x", "imap://h/INBOX", "imap://a%40b@h/INBOX;UIDVALIDITY=1/;UID=7", "imap://", "imap://h h/",
		"1", "1:3,5", "0", "3:", `\Seen $Label`, `\Recent`, `\Seen  x`, "a(b", "2024-12-31T06:56:17.784+01:00",
		"2024-13-31T06:56:17+01:00", "192.0.2.1", "::1", "fe80::1%eth0", "not an ip", "a\"b\\c\x00\xff",
	} {
		v := String(s)
		vs = append(vs, v)
		v.checked = true
		vs = append(vs, v)
	}
	return vs
}

func TestCheckParamMatchesReference(t *testing.T) {
	params := append(slices.Clone(RFCParams), ID, Source, Server, Session, "vnd.x", "", "vnd.", "bogus", "vnd.a b")
	for _, p := range params {
		for _, v := range testValues() {
			if got, want := checkParam(p, rankOf(p), &v), refCheckParam(p, v); got != want {
				t.Errorf("checkParam(%q, %#v) = %q, want %q", p, v, got, want)
			}
		}
	}
}

func TestValidateMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	params := append(slices.Clone(RFCParams), ID, Source, Server, Session, "vnd.x", "", "vnd.", "bogus")
	types := append(slices.Clone(RFCTypes), LoginFailed, "", "vnd.", "Bogus")
	values := testValues()
	for range 20000 {
		e := New(types[rng.IntN(len(types))])
		for range rng.IntN(12) {
			e.Set(params[rng.IntN(len(params))], values[rng.IntN(len(values))])
		}
		got, want := e.Validate(), refValidate(&e)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("Validate(%s) = %v, want %v", e.AppendJSON(nil), got, want)
		}
		e.Release()
	}
}

// refEncode encodes params as AppendJSON did before: sorted by rank, then
// name, every name that is not an RFC one escaped.
func refEncode(t Type, params map[Param]Value) []byte {
	names := slices.Collect(maps.Keys(params))
	slices.SortFunc(names, func(a, b Param) int {
		if c := cmp.Compare(rankOf(a), rankOf(b)); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	dst := append([]byte(`{"event":`), refAppendJSONString(nil, string(t))...)
	for _, p := range names {
		dst = append(dst, ',')
		dst = refAppendJSONString(dst, string(p))
		dst = append(dst, ':')
		v := params[p]
		switch v.kind {
		case KindString:
			dst = refAppendJSONString(dst, v.str)
		case KindInt:
			dst = strconv.AppendInt(dst, v.num, 10)
		case KindBool:
			dst = strconv.AppendBool(dst, v.num != 0)
		case KindJSON:
			dst = append(dst, v.str...)
		default:
			dst = append(dst, "null"...)
		}
	}
	return append(dst, '}')
}

func TestSetAndEncodeMatchReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	params := append(slices.Clone(RFCParams), ID, Source, Server, Session, "vnd.x", "vnd.dovecot.from",
		"vnd.mailevents.z", "vnd.a", "", "vnd.", "bogus", "a\"b", "é\xff")
	values := testValues()
	for range 20000 {
		e := New(LoginFailed)
		ref := map[Param]Value{}
		for range rng.IntN(20) {
			p := params[rng.IntN(len(params))]
			if rng.IntN(8) == 0 {
				e.Delete(p)
				delete(ref, p)
				continue
			}
			v := values[rng.IntN(len(values))]
			if v.kind == KindString && rng.IntN(2) == 0 {
				v = String(randomJSONInput(rng))
			}
			e.Set(p, v)
			ref[p] = v
		}
		if got, want := e.AppendJSON(nil), refEncode(e.Type, ref); !bytes.Equal(got, want) {
			t.Fatalf("AppendJSON = %s\nwant        %s", got, want)
		}
		e.Release()
	}
}

// SetTimestamp learns whether the year is in range from appendTimestamp; it
// must say what t.Year says, for every time including absurd ones.
func TestSetTimestampCheckedMatchesYear(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	zones := []*time.Location{time.UTC, time.FixedZone("", 3600), time.FixedZone("", -12*3600),
		time.FixedZone("", 14*3600), time.FixedZone("odd", -(5*3600 + 45*60 + 17)),
		time.FixedZone("", 200*3600+60), time.FixedZone("", -(123*3600 + 59*60))}
	times := []time.Time{
		time.Unix(math.MaxInt64, 999999999), time.Unix(math.MinInt64, 0), {},
		time.Date(-1, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	for range 20000 {
		var sec int64
		switch rng.IntN(3) {
		case 0:
			sec = rng.Int64()
		case 1:
			sec = rng.Int64N(1<<40) - 1<<39
		default:
			sec = rng.Int64N(253402300800+62135596800+4*86400) - 62135596800 - 2*86400 // year 0..9999 and edges
		}
		times = append(times, time.Unix(sec, rng.Int64N(1e9)))
	}
	for i, tm := range times {
		tm = tm.In(zones[i%len(zones)])
		for _, digits := range []int{0, 3, 9} {
			e := New(Login)
			e.SetTimestamp(tm, digits)
			v, _ := e.Get(Timestamp)
			y := tm.Year()
			if want := y >= 0 && y <= 9999; v.checked != want {
				t.Fatalf("SetTimestamp(%v): checked %v, want %v", tm, v.checked, want)
			}
			if want := refFormatTimestamp(tm, digits); v.str != want {
				t.Fatalf("SetTimestamp(%v, %d) = %s, want %s", tm, digits, v.str, want)
			}
			e.Release()
		}
	}
}

// refAppendTimestamp is AppendTimestamp as it was before it also reported
// the year's range.
func refAppendTimestamp(dst []byte, t time.Time, digits int) []byte {
	digits = min(max(digits, 0), 9)
	_, offset := t.Zone()
	local := t.Unix() + int64(offset)
	days, secs := local/86400, local%86400
	if secs < 0 {
		days, secs = days-1, secs+86400
	}
	year, month, day := civilFromDays(days)
	if year < 0 || year > 9999 || offset%60 != 0 {
		// RFC 3339 has four-digit years and whole-minute offsets; let the
		// standard library decide what to write for the rest.
		return t.AppendFormat(dst, timestampLayouts[digits])
	}
	dst = appendDigits(dst, year, 4)
	dst = append(dst, '-')
	dst = appendDigits(dst, month, 2)
	dst = append(dst, '-')
	dst = appendDigits(dst, day, 2)
	dst = append(dst, 'T')
	dst = appendDigits(dst, int(secs/3600), 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, int(secs/60%60), 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, int(secs%60), 2)
	if digits > 0 {
		dst = append(dst, '.')
		frac := t.Nanosecond()
		for range 9 - digits {
			frac /= 10
		}
		dst = appendDigits(dst, frac, digits)
	}
	sign := byte('+')
	if offset < 0 {
		sign, offset = '-', -offset
	}
	dst = append(dst, sign)
	dst = appendDigits(dst, offset/3600, 2)
	dst = append(dst, ':')
	return appendDigits(dst, offset/60%60, 2)
}

func refFormatTimestamp(t time.Time, digits int) string {
	return string(refAppendTimestamp(make([]byte, 0, 40), t, digits))
}

// refAppendEscaped is appendEscaped as it was before it copied runs.
func refAppendEscaped(dst []byte, s string, safe *byteSet) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; safe[c] {
			dst = append(dst, c)
		} else {
			dst = append(dst, '%', upperHex[c>>4], upperHex[c&0xF])
		}
	}
	return dst
}

func TestURLStringMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for i := range 50000 {
		s := randomJSONInput(rng)
		for _, set := range []*byteSet{userChars, mailboxChars, hostChars, ipLiteralChars} {
			if got, want := appendEscaped([]byte("x"), s, set), refAppendEscaped([]byte("x"), s, set); !bytes.Equal(got, want) {
				t.Fatalf("appendEscaped(%q) = %q, want %q", s, got, want)
			}
		}
		u := URL{User: randomJSONInput(rng), Host: randomJSONInput(rng), Mailbox: s, Port: rng.IntN(70000), UIDValidity: rng.Uint32(), UID: rng.Uint32()}
		if i%10 == 0 {
			u.Mailbox = strings.Repeat(s, 1+rng.IntN(40)) // past the stack buffer
		}
		if got, want := u.String(), string(u.AppendTo(nil)); got != want {
			t.Fatalf("String() = %q, AppendTo gives %q", got, want)
		}
	}
}

// A value marked plain is copied into the JSON without a scan: whatever
// built it must only make strings that need no escaping.
func TestPlainValuesNeedNoEscaping(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	check := func(v Value) {
		t.Helper()
		if !v.plain {
			t.Fatalf("%#v is not marked plain", v)
		}
		if got, want := string(v.appendJSON(nil)), string(refAppendJSONString(nil, v.str)); got != want {
			t.Fatalf("plain %#v encodes as %s, want %s", v, got, want)
		}
	}
	zones := []*time.Location{time.UTC, time.FixedZone("", -(5*3600 + 45*60 + 17)), time.FixedZone("", 14*3600)}
	for i := range 20000 {
		u := URL{User: randomJSONInput(rng), Host: randomJSONInput(rng), Mailbox: randomJSONInput(rng),
			Port: rng.IntN(70000) - 100, UIDValidity: rng.Uint32(), UID: rng.Uint32()}
		check(URLValue(u))
		check(UIDValue(rng.Uint32()))
		var s UIDSet
		for range rng.IntN(5) {
			s.AddRange(rng.Uint32N(100), rng.Uint32N(100))
		}
		e := New(Login)
		e.SetUIDSet(s)
		v, _ := e.Get(UIDSetParam)
		check(v)
		e.SetTimestamp(time.Unix(rng.Int64()>>rng.IntN(64), rng.Int64N(1e9)).In(zones[i%len(zones)]), i%10)
		v, _ = e.Get(Timestamp)
		check(v)
		e.Release()
	}
}

func TestGetMatchesScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	params := append(slices.Clone(RFCParams), ID, Source, Server, Session, "vnd.x", "vnd.dovecot.from",
		"vnd.mailevents.z", "vnd.a", "", "vnd.", "bogus", "a\"b", "é\xff")
	for range 5000 {
		e := New(Login)
		for range rng.IntN(20) {
			e.Set(params[rng.IntN(len(params))], Int(rng.Int64N(100)))
		}
		for _, p := range params {
			var want Value
			found := false
			for q, v := range e.All() {
				if q == p {
					want, found = v, true
				}
			}
			if got, ok := e.Get(p); ok != found || got != want || e.Has(p) != found {
				t.Fatalf("Get(%q) = %#v, %v; want %#v, %v", p, got, ok, want, found)
			}
		}
		e.Release()
	}
}

func TestIsIPv4AgreesWithNetip(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	inputs := []string{"", "1.2.3.4", "0.0.0.0", "255.255.255.255", "256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5",
		"1..3.4", ".1.2.3", "1.2.3.", "1.2.3.4 ", "::1", "::ffff:1.2.3.4", "1.2.3.04", "1.2.3.0", "10.0.0.1%eth0", "1000.1.1.1"}
	for range 200000 {
		var b []byte
		for range 1 + rng.IntN(9) {
			b = append(b, "0123456789.:1%"[rng.IntN(14)])
		}
		inputs = append(inputs, string(b))
	}
	for _, s := range inputs {
		a, err := netip.ParseAddr(s)
		want := err == nil && a.Is4() && a.Zone() == ""
		if got := isIPv4(s); got && !want || !got && want && !strings.ContainsAny(s, ":%") {
			t.Errorf("isIPv4(%q) = %v; netip.ParseAddr gives %v, %v", s, got, a, err)
		}
	}
}

// refCheckFlagNames is checkFlagNames as it was before it used a table.
func refCheckFlagNames(s string) string {
	if s == "" {
		return "empty"
	}
	for flag := range strings.SplitSeq(s, " ") {
		if flag == "" {
			return "empty flag name (double or edge space)"
		}
		if strings.EqualFold(flag, `\Recent`) {
			return `\Recent is not permitted (RFC 5423 §4.2)`
		}
		atom := strings.TrimPrefix(flag, `\`)
		ok := atom != ""
		for i := 0; i < len(atom); i++ {
			if c := atom[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`(){%*"\]`, c) >= 0 {
				ok = false
			}
		}
		if !ok {
			return fmt.Sprintf("%q is not an IMAP flag or keyword", flag)
		}
	}
	return ""
}

func TestCheckFlagNamesMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	pieces := []string{" ", `\`, `\Seen`, `\recent`, `\RECENT`, "$Label", "a", "(", ")", "{", "%", "*", "\"", "]", "[", "\x7f", "\x00", "é", "\t"}
	for c := range 256 {
		pieces = append(pieces, string(rune(c)), string([]byte{byte(c)}))
	}
	for range 100000 {
		var b strings.Builder
		for range rng.IntN(6) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := b.String()
		if got, want := checkFlagNames(s), refCheckFlagNames(s); got != want {
			t.Fatalf("checkFlagNames(%q) = %q, want %q", s, got, want)
		}
	}
}

// Set copies a Value field by field; nothing may be lost on the way.
func TestSetKeepsEveryFieldOfTheValue(t *testing.T) {
	var values []Value
	for _, v := range testValues() {
		for _, flags := range []int{0, 1, 2, 3} {
			v.checked, v.plain = flags&1 != 0, flags&2 != 0
			v.num = 1<<40 + int64(flags)
			values = append(values, v)
		}
	}
	for _, v := range values {
		for _, order := range [][]Param{{Timestamp, User, ID}, {ID, User, Timestamp}} { // append, insert
			e := New(Login)
			for _, p := range order {
				e.Set(p, v)
			}
			for _, p := range order {
				if got, _ := e.Get(p); got != v {
					t.Fatalf("Set(%s, %#v) then Get gives %#v", p, v, got)
				}
			}
			e.Release()
		}
	}
}

// refRankOf is rankOf as it was before the hash table.
func refRankOf(p Param) int {
	if r, ok := paramRank(p); ok {
		return r
	}
	if isVendorName(string(p)) {
		return rankVendor
	}
	return rankUnknown
}

func TestRankOfMatchesReference(t *testing.T) {
	names := append(slices.Clone(RFCParams), ID, Source, Server, Session, "", "vnd.", "vnd.x", "vnd.a b", "x",
		"Timestamp", "timestamP", "uri ", " uri", "ur", "vnd.mailevents.idx", "vnd.mailevents.sourcf")
	rng := rand.New(rand.NewPCG(23, 24))
	for range 100000 {
		p := []byte(names[rng.IntN(len(names))])
		if len(p) > 0 && rng.IntN(2) == 0 {
			p[rng.IntN(len(p))] = byte(rng.IntN(256)) // same length, same hash sometimes
		}
		names = append(names, Param(p))
	}
	for _, p := range names {
		if got, want := rankOf(p), refRankOf(p); got != want {
			t.Fatalf("rankOf(%q) = %d, want %d", p, got, want)
		}
	}
}

func FuzzAppendTimestamp(f *testing.F) {
	f.Add(int64(1735624577), int64(784598000), 3600, 6)
	f.Add(int64(-62135596800), int64(0), -(5*3600 + 45*60 + 17), 0)
	f.Add(int64(math.MaxInt64), int64(999999999), 14*3600, 9)
	f.Fuzz(func(t *testing.T, sec, nsec int64, offset, digits int) {
		tm := time.Unix(sec, nsec).In(time.FixedZone("", offset%(1<<20)))
		e := New(Login)
		e.SetTimestamp(tm, digits)
		v, _ := e.Get(Timestamp)
		if want := refFormatTimestamp(tm, digits); v.str != want || FormatTimestamp(tm, digits) != want {
			t.Fatalf("SetTimestamp(%v, %d) = %s, want %s", tm, digits, v.str, want)
		}
		if y := tm.Year(); v.checked != (y >= 0 && y <= 9999) {
			t.Fatalf("SetTimestamp(%v): checked %v for year %d", tm, v.checked, y)
		}
	})
}
