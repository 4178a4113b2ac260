package event

import (
	"bytes"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailevents/mailevents/internal/sharedref"
)

// The type and parameter names must be the RFC's, letter for letter: a
// consumer matches on them.
func TestNamesAreTheRFCs(t *testing.T) {
	rfc := string(sharedref.Read(t, "reference/rfc5423.txt"))
	sec4 := rfc[strings.Index(rfc, "4.1. Message Addition and Deletion This"):strings.Index(rfc, "5. Event Parameters This")]
	sec5 := rfc[strings.Index(rfc, "5. Event Parameters This"):strings.Index(rfc, "6. IANA Considerations The")]

	if len(RFCTypes) != 18 {
		t.Fatalf("RFCTypes has %d types, RFC 5423 §4 has 18", len(RFCTypes))
	}
	for _, ty := range RFCTypes {
		if !regexp.MustCompile(`\b` + string(ty) + `\b`).MatchString(sec4) {
			t.Errorf("type %q does not appear in RFC 5423 §4", ty)
		}
		if !ty.IsRFC() || ty.IsVendor() || ty.Group() == "" {
			t.Errorf("type %q: IsRFC=%v IsVendor=%v Group=%q", ty, ty.IsRFC(), ty.IsVendor(), ty.Group())
		}
	}
	if len(RFCParams) != 27 {
		t.Fatalf("RFCParams has %d parameters, RFC 5423 §5 has 27", len(RFCParams))
	}
	var positions []int
	for _, p := range RFCParams {
		// Each definition is the name followed by its capitalised first word.
		loc := regexp.MustCompile(`\s` + string(p) + ` [A-Z]`).FindStringIndex(sec5)
		if loc == nil {
			t.Errorf("parameter %q is not defined in RFC 5423 §5", p)
			continue
		}
		positions = append(positions, loc[0])
		if !p.IsRFC() || p.IsVendor() {
			t.Errorf("parameter %q: IsRFC=%v IsVendor=%v", p, p.IsRFC(), p.IsVendor())
		}
	}
	if !slices.IsSorted(positions) {
		t.Error("RFCParams is not in the order of RFC 5423 §5")
	}
}

func TestEncodingOrderCoversEveryParameterOnce(t *testing.T) {
	seen := map[Param]int{}
	for _, p := range encodingOrder {
		seen[p]++
	}
	seen[MessageContent]++
	for _, p := range RFCParams {
		if seen[p] != 1 {
			t.Errorf("parameter %q appears %d times in the encoding order", p, seen[p])
		}
	}
	if len(seen) != len(RFCParams) {
		t.Errorf("encoding order has %d names, want the %d RFC parameters", len(seen), len(RFCParams))
	}
}

func TestEncodeOrderIsFixedWhateverTheSetOrder(t *testing.T) {
	want := `{"event":"MessageNew","timestamp":"2024-07-02T13:49:31+02:00","uri":"imap://alice@mail.example.org/INBOX/;UID=7",` +
		`"uidset":"7","user":"alice","messageSize":1234,"vnd.a":"a","vnd.mailevents.id":"x","vnd.z":true,"messageContent":"Subject: hi"}`
	setters := []func(*Event){
		func(e *Event) { e.SetString(MessageContent, "Subject: hi") },
		func(e *Event) { e.SetString(URI, "imap://alice@mail.example.org/INBOX/;UID=7") },
		func(e *Event) { e.Set(Param("vnd.z"), Bool(true)) },
		func(e *Event) { e.SetString(User, "alice") },
		func(e *Event) { e.SetString(ID, "x") },
		func(e *Event) { e.SetInt(MessageSize, 1234) },
		func(e *Event) { e.SetString(UIDSetParam, "7") },
		func(e *Event) { e.SetString(Param("vnd.a"), "a") },
		func(e *Event) {
			e.SetTimestamp(time.Date(2024, 7, 2, 13, 49, 31, 0, time.FixedZone("", 2*3600)), 0)
		},
	}
	for _, perm := range [][]int{{0, 1, 2, 3, 4, 5, 6, 7, 8}, {8, 7, 6, 5, 4, 3, 2, 1, 0}, {3, 0, 8, 1, 7, 2, 6, 4, 5}} {
		e := New(MessageNew)
		for _, i := range perm {
			setters[i](&e)
		}
		if got := string(e.AppendJSON(nil)); got != want {
			t.Errorf("order %v:\n got %s\nwant %s", perm, got, want)
		}
	}
}

func TestSetReplacesAndDeletes(t *testing.T) {
	e := New(Login)
	e.SetString(User, "a")
	e.SetString(User, "b")
	e.SetInt(PID, 1)
	if e.Len() != 2 || e.GetString(User) != "b" {
		t.Fatalf("after replacing user: len %d, user %q", e.Len(), e.GetString(User))
	}
	e.SetString(User, "") // empty means absent
	if e.Has(User) || e.Len() != 1 {
		t.Fatalf("SetString with empty value kept the parameter")
	}
	c := e.Clone()
	c.SetInt(PID, 2)
	if v, _ := e.Get(PID); v.Int() != 1 {
		t.Fatal("Clone shares parameters with the original")
	}
}

func TestEncodeStrings(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "INBOX", `"INBOX"`},
		{"quote and backslash", `a"b\c`, `"a\"b\\c"`},
		{"controls", "a\nb\rc\td\x00e\x1f", `"a\nb\rc\td\u0000e\u001f"`},
		{"no HTML escaping", "<a@b> & c", `"<a@b> & c"`},
		{"UTF-8 kept", "Entwürfe 日本語 🙂", `"Entwürfe 日本語 🙂"`},
		{"invalid UTF-8 replaced", "a\xffb\xc3", "\"a\uFFFDb\uFFFD\""},
		{"DEL kept", "a\x7fb", "\"a\x7fb\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(AppendJSONString(nil, tt.in)); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestFormatTimestampKeepsPrecisionAndOffset(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	ts := time.Date(2024, 12, 31, 6, 56, 17, 784598000, cet)
	tests := []struct {
		t      time.Time
		digits int
		want   string
	}{
		{ts, 6, "2024-12-31T06:56:17.784598+01:00"},
		{ts, 3, "2024-12-31T06:56:17.784+01:00"},
		{ts, 0, "2024-12-31T06:56:17+01:00"},
		{ts.Truncate(time.Second), 6, "2024-12-31T06:56:17.000000+01:00"},
		{ts.UTC(), 6, "2024-12-31T05:56:17.784598+00:00"},
		{ts, 12, "2024-12-31T06:56:17.784598000+01:00"},
		{ts, -1, "2024-12-31T06:56:17+01:00"},
	}
	for _, tt := range tests {
		got := FormatTimestamp(tt.t, tt.digits)
		if got != tt.want {
			t.Errorf("FormatTimestamp(%v, %d) = %s, want %s", tt.t, tt.digits, got, tt.want)
		}
		back, err := ParseTimestamp(got)
		if err != nil || !back.Equal(tt.t.Truncate(time.Duration(pow10(9-min(max(tt.digits, 0), 9))))) {
			t.Errorf("ParseTimestamp(%s) = %v, %v", got, back, err)
		}
	}
}

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

func TestComputeID(t *testing.T) {
	line := []byte("Jul  2 13:49:31 mail dovecot: imap-login: Login: user=<alice>, method=PLAIN, rip=192.0.2.1, lip=192.0.2.2, mpid=1, session=<abc>")
	id := ComputeID(line, 0, Login)
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) {
		t.Fatalf("id %q is not 32 hex digits", id)
	}
	// Archives de-duplicate on this value across versions of mailevents:
	// changing the function breaks them, so its output is pinned.
	if want := "25e5741fc4b94f82cfa1b32b87024f06"; id != want {
		t.Errorf("ComputeID changed: got %s, want %s (the id must be stable across releases)", id, want)
	}
	if ComputeID(bytes.Clone(line), 0, Login) != id {
		t.Error("same bytes gave a different id")
	}
	for name, other := range map[string]string{
		"ordinal": ComputeID(line, 1, Login),
		"type":    ComputeID(line, 0, Logout),
		"bytes":   ComputeID(append(bytes.Clone(line), ' '), 0, Login),
	} {
		if other == id {
			t.Errorf("changing the %s did not change the id", name)
		}
	}
}

// paramRank is a hand-written switch; it must agree with encodingOrder.
func TestParamRankFollowsEncodingOrder(t *testing.T) {
	for i, p := range encodingOrder {
		if r, ok := paramRank(p); !ok || r != i {
			t.Errorf("paramRank(%s) = %d, %v; want %d", p, r, ok, i)
		}
	}
	if r, ok := paramRank(MessageContent); !ok || r != rankContent {
		t.Errorf("messageContent rank %d", r)
	}
	for p, r := range map[Param]int{
		Timestamp: rankTimestamp, ClientIP: rankClientIP, OldMailboxID: rankOldMailboxID,
		MailboxID: rankMailboxID, URI: rankURI, UIDSetParam: rankUIDSet, FlagNames: rankFlagNames,
	} {
		if got := rankOf(p); got != r {
			t.Errorf("rankOf(%s) = %d, the constant says %d", p, got, r)
		}
	}
	for _, p := range []Param{ID, Source, Server, Session, "vnd.x", "vnd.dovecot.from"} {
		if rankOf(p) != rankVendor {
			t.Errorf("rankOf(%s) = %d, want rankVendor", p, rankOf(p))
		}
	}
	for _, p := range []Param{"", "vnd.", "vnd.a b", "vnd.a\"b", "vnd.\x7f", "vnd.é", "Timestamp", "x"} {
		if rankOf(p) != rankUnknown {
			t.Errorf("rankOf(%q) = %d, want rankUnknown", p, rankOf(p))
		}
	}
}

func TestReleaseRecyclesWithoutSharing(t *testing.T) {
	a := New(Login)
	a.SetString(User, "alice")
	a.Release()
	if a.Len() != 0 {
		t.Fatal("released event still has parameters")
	}
	b := New(Logout)
	c := New(Logout)
	b.SetString(User, "bob")
	c.SetString(User, "carol")
	if b.GetString(User) != "bob" || c.GetString(User) != "carol" {
		t.Fatal("two live events share storage")
	}
}

// AppendTimestamp writes digits itself for speed; it must agree with the
// standard library's formatting for every time, zone and precision.
func TestAppendTimestampMatchesTimeFormat(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("", 3600), time.FixedZone("", -9*3600-30*60),
		time.FixedZone("", 14*3600), time.FixedZone("odd", 5*3600+45*60+17)}
	for _, name := range []string{"Europe/Berlin", "America/St_Johns", "Asia/Kolkata"} {
		if loc, err := time.LoadLocation(name); err == nil {
			zones = append(zones, loc)
		}
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		sec := rnd.Int64N(4102444800*2) - 4102444800/2 // about 1905..2100
		if i%7 == 0 {
			sec = rnd.Int64N(253402300800+62135596800) - 62135596800 // year 1..9999
		}
		tm := time.Unix(sec, rnd.Int64N(1e9)).In(zones[i%len(zones)])
		digits := i % 10
		want := tm.AppendFormat(nil, timestampLayouts[digits])
		if got := AppendTimestamp(nil, tm, digits); string(got) != string(want) {
			t.Fatalf("AppendTimestamp(%v, %d) = %s, want %s", tm, digits, got, want)
		}
	}
}

func TestValueConstructorsMatchTheSetters(t *testing.T) {
	for _, uid := range []uint32{1, 7, 4294967295} {
		a, b := New(MessageExpunge), New(MessageExpunge)
		a.SetUIDSet(NewUIDSet(uid))
		b.Set(UIDSetParam, UIDValue(uid))
		if !a.Equal(&b) {
			t.Errorf("UIDValue(%d) differs from SetUIDSet", uid)
		}
	}
	e := New(MessageExpunge)
	e.SetString(URI, "imap://h/INBOX")
	e.Set(UIDSetParam, UIDValue(0)) // not a UID: Validate must still say so
	if err := e.Validate(); err == nil {
		t.Error("Validate accepted uidset 0")
	}
	u := URL{User: "a@b", Host: "h", Mailbox: "Entwürfe"}
	if v := URLValue(u); v.Str() != u.String() || !v.checked {
		t.Errorf("URLValue(%+v) = %#v", u, v)
	}
}
