package seal

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/gowebpki/jcs"

	"github.com/mailevents/mailevents/event"
)

// The slots are in RFC 8785's order: by UTF-16 code units.
func TestSlotOrder(t *testing.T) {
	less := func(a, b string) bool {
		return slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b))) < 0
	}
	names := make([]string, len(slotKeys))
	for i, k := range slotKeys {
		names[i] = strings.TrimSuffix(strings.TrimPrefix(k, `"`), `":`)
	}
	for i := 1; i < len(names); i++ {
		if !less(names[i-1], names[i]) {
			t.Errorf("slot %d %q does not sort before slot %d %q", i-1, names[i-1], i, names[i])
		}
	}
	if names[eventSlot] != "event" {
		t.Errorf("eventSlot %d is %q", eventSlot, names[eventSlot])
	}
	if len(event.RFCParams)+1 != numSlots {
		t.Fatalf("%d slots for %d RFC parameters and event", numSlots, len(event.RFCParams))
	}
	for _, p := range event.RFCParams {
		i, ok := slotOf(p)
		if !ok || names[i] != string(p) {
			t.Errorf("slotOf(%s) = %d, %v", p, i, ok)
		}
	}
	for _, p := range []event.Param{"event", "vnd.mailevents.id", "Admin"} {
		if _, ok := slotOf(p); ok {
			t.Errorf("slotOf(%q) has a slot", p)
		}
	}
}

// reference is the definition: RFC 8785 of the line the encoder writes,
// without the chain member.
func reference(t testing.TB, e *event.Event) ([]byte, bool) {
	c := e.Clone()
	c.Delete(ChainParam)
	out, err := jcs.Transform(c.AppendJSON(nil))
	if err != nil {
		return nil, false
	}
	return out, true
}

// AppendCanonical writes exactly what the JCS library makes of the encoded
// event, for random events full of what either could get wrong.
func TestCanonicalMatchesJCS(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	checked := 0
	for i := range 20000 {
		e := randomEvent(r, true)
		if r.IntN(2) == 0 {
			e.SetString(ChainParam, strings.Repeat("ab", 32)) // never hashed
			e.SetInt(SeqParam, int64(i))
		}
		want, ok := reference(t, &e)
		if !ok {
			continue
		}
		checked++
		if got := AppendCanonical([]byte("prefix"), &e); !bytes.Equal(got[len("prefix"):], want) {
			t.Fatalf("event %d\n line %s\n got %s\nwant %s", i, e.AppendJSON(nil), got[len("prefix"):], want)
		}
	}
	if checked < 19000 {
		t.Fatalf("only %d of 20000 random events were I-JSON: the generator is off", checked)
	}
}

// More vendor parameters than the fast path holds, or a name that is
// neither RFC nor vendor, take the slow path, with the same result.
func TestCanonicalSlowPath(t *testing.T) {
	e := event.New(event.Login)
	e.SetString(event.User, "alice")
	for i := range 30 {
		e.SetInt(event.Param("vnd.n."+strings.Repeat("x", i)), int64(i))
	}
	e.SetString("not a vendor name", "x")
	want, ok := reference(t, &e)
	if !ok {
		t.Fatal("reference failed")
	}
	if got := AppendCanonical(nil, &e); !bytes.Equal(got, want) {
		t.Fatalf("got %s\nwant %s", got, want)
	}
}

// fuzzEvent is an event with the fuzzed values in RFC and vendor
// parameters of every kind.
func fuzzEvent(s string, n int64, raw string, source event.Value) event.Event {
	e := event.New(event.MessageNew)
	e.SetString(event.User, s)
	e.SetString(event.URI, s+"/x")
	e.SetInt(event.MessageSize, n)
	e.SetInt("vnd.mailevents.n", n)
	e.SetString("vnd.mailevents.s", s)
	e.Set(event.Source, source)
	if v, err := event.RawJSON([]byte(raw)); err == nil {
		e.Set("vnd.mailevents.raw", v)
	}
	return e
}

func FuzzCanonical(f *testing.F) {
	f.Add("alice", int64(5), `{"b":1,"a":[1.50,"\u00e9"]}`, "/var/log/mail.log")
	f.Add("\b\f\x01\xff\"\\", int64(1<<60), `"x"`, "a\"b")
	f.Add("€😀\u2028", int64(-1<<53-1), `[]`, "")
	f.Fuzz(func(t *testing.T, s string, n int64, raw, file string) {
		e := fuzzEvent(s, n, raw, event.SourceFile(file, n&0xffff))
		want, ok := reference(t, &e)
		if !ok {
			return // not I-JSON (a raw value that is not UTF-8, a number out of range)
		}
		if got := AppendCanonical(nil, &e); !bytes.Equal(got, want) {
			t.Fatalf("line %s\n got %s\nwant %s", e.AppendJSON(nil), got, want)
		}
	})
}

// The canonical bytes must not depend on how a consumer re-serialised the
// line: the verifier reads them from any spelling of the same JSON.
func TestCanonicalOfReserialisedLine(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 500 {
		e := randomEvent(r, false)
		if _, err := parseRecord(respell(t, e.AppendJSON(nil))); !errors.Is(err, errUnsealed) {
			t.Fatalf("an unsealed event: %v", err)
		}
		e.SetString(StreamParam, "s")
		e.SetInt(SeqParam, 1)
		e.SetString(ChainParam, strings.Repeat("0", 64))
		rec, err := parseRecord(respell(t, e.AppendJSON(nil)))
		if err != nil {
			t.Fatal(err)
		}
		if want := AppendCanonical(nil, &e); !bytes.Equal(rec.canon, want) {
			t.Fatalf("from a re-serialised line\n got %s\nwant %s", rec.canon, want)
		}
	}
}
