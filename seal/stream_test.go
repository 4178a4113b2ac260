package seal

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/gowebpki/jcs"

	"github.com/mailevents/mailevents/event"
	"github.com/mailevents/mailevents/event/eventtest"
)

func newTestStream(t testing.TB, id string) *Stream {
	t.Helper()
	s, err := NewStream(id, NewSigner(testKey), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// canonicalOf computes, from the line alone and with the JCS library, the
// bytes the specification says are hashed: RFC 8785 without the member
// named skip.
func canonicalOf(t testing.TB, line []byte, skip string) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, skip)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jcs.Transform(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Each stamped event carries the stream, seq 1, 2, ... and the chain value
// the specification defines, recomputed here from the lines alone.
func TestStampChain(t *testing.T) {
	s := newTestStream(t, "mail.example.org/archive")
	r := rand.New(rand.NewPCG(5, 6))
	prev := sha256.Sum256([]byte("mailevents-seal-v1\x00mail.example.org/archive"))
	if s.Head() != prev || Genesis("mail.example.org/archive") != prev {
		t.Fatal("the genesis value is not the documented one")
	}
	for i := 1; i <= 200; i++ {
		e := randomEvent(r, false)
		s.Stamp(&e)
		line := e.AppendJSON(nil)
		if e.GetString(StreamParam) != "mail.example.org/archive" || !e.Has(SeqParam) {
			t.Fatalf("stamp lacks the stream or seq: %s", line)
		}
		if v, _ := e.Get(SeqParam); v.Int() != int64(i) || s.Seq() != int64(i) {
			t.Fatalf("event %d has seq %d (stream at %d)", i, v.Int(), s.Seq())
		}
		want := sha256.Sum256(append(prev[:], canonicalOf(t, line, string(ChainParam))...))
		if e.GetString(ChainParam) != hex.EncodeToString(want[:]) || s.Head() != want {
			t.Fatalf("event %d: chain %s, want %x", i, e.GetString(ChainParam), want)
		}
		prev = want
	}
}

// A stream continued from its saved state stamps exactly what the stream
// that saved it would have: the property crash duplicates rest on.
func TestStateContinues(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 50 {
		a := newTestStream(t, "s")
		events := make([]event.Event, 1+r.IntN(20))
		for i := range events {
			events[i] = randomEvent(r, false)
		}
		cut := r.IntN(len(events))
		for i := range events[:cut] {
			c := events[i].Clone()
			a.Stamp(&c)
		}
		if r.IntN(2) == 0 {
			e := a.Seal(time.Now(), false)
			e.Release()
			a.Written()
		}
		saved := a.MarshalState()
		b := newTestStream(t, "s")
		if err := b.LoadState(saved); err != nil {
			t.Fatal(err)
		}
		for i := cut; i < len(events); i++ {
			x, y := events[i].Clone(), events[i].Clone()
			a.Stamp(&x)
			b.Stamp(&y)
			if !bytes.Equal(x.AppendJSON(nil), y.AppendJSON(nil)) {
				t.Fatalf("event %d after a restart differs:\n%s\n%s", i, x.AppendJSON(nil), y.AppendJSON(nil))
			}
		}
		if a.Due(time.Now(), true) != b.Due(time.Now(), true) {
			t.Fatal("the restored stream disagrees about the final seal")
		}
	}
}

func TestLoadStateRejects(t *testing.T) {
	good := newTestStream(t, "s").MarshalState()
	for name, st := range map[string]string{
		"not JSON":           "{",
		"another stream":     strings.Replace(string(good), `"stream":"s"`, `"stream":"t"`, 1),
		"short chain":        `{"stream":"s","seq":1,"chain":"abcd","sealed_seq":0,"sealed_at":"2026-01-01T00:00:00Z"}`,
		"sealed beyond seq":  `{"stream":"s","seq":1,"chain":"` + strings.Repeat("0", 64) + `","sealed_seq":2,"sealed_at":"2026-01-01T00:00:00Z"}`,
		"seq 0, not genesis": `{"stream":"s","seq":0,"chain":"` + strings.Repeat("0", 64) + `","sealed_seq":0,"sealed_at":"2026-01-01T00:00:00Z"}`,
		"negative seq":       `{"stream":"s","seq":-1,"chain":"` + strings.Repeat("0", 64) + `","sealed_seq":0,"sealed_at":"2026-01-01T00:00:00Z"}`,
	} {
		if err := newTestStream(t, "s").LoadState([]byte(st)); err == nil {
			t.Errorf("%s: LoadState accepted %s", name, st)
		}
	}
	if err := newTestStream(t, "s").LoadState(good); err != nil {
		t.Errorf("LoadState rejects a fresh state: %v", err)
	}
}

func TestDue(t *testing.T) {
	now := time.Now()
	s := newTestStream(t, "s")
	if s.Due(now.Add(time.Hour), false) || s.Due(now, true) {
		t.Fatal("a stream without events is due a seal")
	}
	e := randomEvent(rand.New(rand.NewPCG(1, 1)), false)
	s.Stamp(&e)
	if s.Due(now, false) {
		t.Error("due before the interval passed")
	}
	if !s.Due(now.Add(time.Minute+time.Second), false) || !s.Due(now, true) {
		t.Error("not due after the interval, or at the end")
	}
	seal := s.Seal(now, true)
	seal.Release()
	if !s.Due(now, true) {
		t.Error("a seal never written counts as written")
	}
	s.Written()
	if s.Due(now, true) || s.Due(now.Add(time.Hour), false) {
		t.Error("due again with nothing new since a final seal")
	}
	s.Stamp(&e)
	if s.Due(now.Add(30*time.Second), false) || !s.Due(now.Add(61*time.Second), false) || !s.Due(now, true) {
		t.Error("the interval does not run from the last seal")
	}
}

// A seal is a valid output-format record, and its signature verifies over
// the canonical bytes without it, as recomputed from the line alone.
func TestSealSignature(t *testing.T) {
	s := newTestStream(t, "mail/archive")
	e := randomEvent(rand.New(rand.NewPCG(2, 2)), false)
	s.Stamp(&e)
	seal := s.Seal(time.Date(2026, 3, 2, 9, 15, 0, 123456000, time.FixedZone("", 3600)), true)
	line := seal.AppendJSON(nil)
	eventtest.Check(t, &seal)
	var m struct {
		Event     string `json:"event"`
		Timestamp string `json:"timestamp"`
		Seq       int64  `json:"vnd.mailevents.seq"`
		Chain     string `json:"vnd.mailevents.chain"`
		Final     bool   `json:"vnd.mailevents.final"`
		Key       string `json:"vnd.mailevents.key"`
		Signature string `json:"vnd.mailevents.signature"`
		Stream    string `json:"vnd.mailevents.stream"`
		ID        string `json:"vnd.mailevents.id"`
		Server    string `json:"vnd.mailevents.server"`
	}
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatal(err)
	}
	head := s.Head()
	pub := testKey.Public().(ed25519.PublicKey)
	if m.Event != "vnd.mailevents.Seal" || m.Seq != 1 || m.Chain != hex.EncodeToString(head[:]) || !m.Final ||
		m.Key != KeyID(pub) || m.Stream != "mail/archive" || m.Timestamp != "2026-03-02T08:15:00.123456+00:00" ||
		len(m.ID) != 32 || m.Server != "mailevents" {
		t.Fatalf("seal %s", line)
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(pub, canonicalOf(t, line, string(SignatureParam)), sig) {
		t.Fatalf("the signature does not verify: %s", line)
	}
}

func TestValidateID(t *testing.T) {
	for _, bad := range []string{"", strings.Repeat("x", 201), "a\nb", "\xff"} {
		if ValidateID(bad) == nil {
			t.Errorf("ValidateID(%q) accepted it", bad)
		}
		if _, err := NewStream(bad, NewSigner(testKey), 0); err == nil {
			t.Errorf("NewStream(%q) accepted it", bad)
		}
	}
	long := newTestStream(t, strings.Repeat("h", 150))
	if k := long.StateKey(); len(k) > maxStateKey || k == newTestStream(t, strings.Repeat("h", 151)).StateKey() {
		t.Errorf("state key %q of a long id", k)
	}
	if k := newTestStream(t, "mail/archive").StateKey(); k != "mail/archive" {
		t.Errorf("state key %q", k)
	}
}

// AppendStamped, the pipeline's path, writes exactly what Stamp and the
// event encoder write, and leaves the event as it was: events of every
// shape, some with stamps of their own, with messageContent, with a name
// that is neither RFC nor vendor (the slow path).
func TestAppendStampedMatchesStamp(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(9, 10))
	fast, slow := newTestStream(t, "mail/fast"), newTestStream(t, "mail/fast")
	for i := range 20000 {
		e := randomEvent(r, true)
		switch r.IntN(8) {
		case 0: // an input that carried stamps of its own
			e.SetString(ChainParam, "x")
			e.SetInt(SeqParam, 99)
			e.SetString(StreamParam, "other")
		case 1:
			e.SetString(event.MessageContent, randomString(r, true))
		case 2:
			e.SetString("not a vendor name", "x")
		}
		before := e.AppendJSON(nil)
		line := fast.AppendStamped([]byte("prefix"), &e)
		if !bytes.Equal(e.AppendJSON(nil), before) {
			t.Fatalf("event %d changed by AppendStamped", i)
		}
		c := e.Clone()
		slow.Stamp(&c)
		if want := c.AppendJSON([]byte("prefix")); !bytes.Equal(line, want) {
			t.Fatalf("event %d\n got %s\nwant %s", i, line, want)
		}
		if fast.Head() != slow.Head() || fast.Seq() != slow.Seq() {
			t.Fatal("the streams diverge")
		}
	}
}

// FuzzAppendStamped holds the fast path to the definition (Stamp) for
// values of every kind, both shapes of source, escapes and big numbers.
func FuzzAppendStamped(f *testing.F) {
	f.Add("alice", int64(5), `{"b":1,"a":[1.50,"\u00e9"]}`, "/var/log/mail.log", false)
	f.Add("\b\f\x01\xff\"\\", int64(1<<60), `"x"`, "a\"b", true)
	f.Add("€😀\u2028", int64(-1<<53-1), `[]`, "", true)
	f.Fuzz(func(t *testing.T, s string, n int64, raw, name string, stream bool) {
		source := event.SourceFile(name, n&0xffff)
		if stream {
			source = event.SourceStream(name, n&0xffff)
		}
		e := fuzzEvent(s, n, raw, source)
		fast, slow := newTestStream(t, "mail/fuzz"), newTestStream(t, "mail/fuzz")
		for range 2 { // the second time, with the source known
			line := fast.AppendStamped(nil, &e)
			c := e.Clone()
			slow.Stamp(&c)
			if want := c.AppendJSON(nil); !bytes.Equal(line, want) {
				t.Fatalf("\n got %s\nwant %s", line, want)
			}
		}
	})
}
