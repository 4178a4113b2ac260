package event

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Fragments the generator draws from: delimiters of every URL component,
// escapes, controls, multi-byte UTF-8 and broken UTF-8.
var urlFragments = []string{
	"a", "Z", "0", "9", "-", ".", "_", "~", "!", "$", "&", "'", "(", ")", "*", "+", ",", "=",
	";", "/", "?", "#", "%", "@", ":", "[", "]", " ", "\"", "\\", "\x00", "\t", "\x7f",
	"%41", "%2F", ";UID=1", ";UIDVALIDITY=1", "/;UID=", ";AUTH=*", "&AOQ-", "INBOX",
	"ü", "日", "📬", "\xff", "\xc3", "\xe6\x97",
}

var sampleHosts = []string{
	"imap.example.org", "IMAP.Example.ORG", "localhost", "192.0.2.1", "x", "a-b_c~d",
	"::1", "[::1]", "2001:db8::1", "[2001:db8::42]", "::ffff:192.0.2.1", "fe80::1%eth0",
	"fe80::1%a/b]", "!$&'()*+,;=",
}

func randomString(rng *rand.Rand, maxParts int) string {
	var b strings.Builder
	for range rng.IntN(maxParts + 1) {
		b.WriteString(urlFragments[rng.IntN(len(urlFragments))])
	}
	return b.String()
}

func randomURL(rng *rand.Rand) URL {
	u := URL{Host: sampleHosts[rng.IntN(len(sampleHosts))]}
	if rng.IntN(4) > 0 {
		u.User = randomString(rng, 6)
	}
	if rng.IntN(3) == 0 {
		u.Port = 1 + rng.IntN(65535)
	}
	if rng.IntN(5) == 0 {
		return u // server-only URL
	}
	u.Mailbox = randomString(rng, 12)
	if u.Mailbox == "" {
		u.Mailbox = "INBOX"
	}
	if rng.IntN(2) == 0 {
		u.UIDValidity = rng.Uint32()
	}
	if rng.IntN(2) == 0 {
		u.UID = rng.Uint32()
	}
	return u
}

func TestURLRoundTripGenerated(t *testing.T) {
	rng := rand.New(rand.NewPCG(5092, 5423))
	for i := range 50_000 {
		u := randomURL(rng)
		if err := u.Validate(); err != nil {
			t.Fatalf("generated URL %d %#v is invalid: %v", i, u, err)
		}
		s := u.String()
		got, err := ParseURL(s)
		if err != nil {
			t.Fatalf("ParseURL(%q) from %#v: %v", s, u, err)
		}
		if diff := cmp.Diff(canonical(u), got); diff != "" {
			t.Fatalf("round trip of %q (-want +got):\n%s", s, diff)
		}
		if again := got.String(); again != s {
			t.Fatalf("String not a fixed point: %q -> %q", s, again)
		}
	}
}

// FuzzURLRoundTrip builds a URL from fuzzed fields. For every URL that
// Validate accepts (non-empty host made of RFC 3986 unreserved/sub-delims
// characters or an IPv6 address, port 0..65535, UIDVALIDITY and UID only
// with a mailbox; user and mailbox may be any bytes), ParseURL(String())
// must return the same URL, modulo IPv6 brackets. For any URL at all,
// String must not panic and must agree with AppendTo.
func FuzzURLRoundTrip(f *testing.F) {
	f.Add("alice@example.org", "imap.example.org", uint16(0), "Archive/2024 Q1", uint32(1424683682), uint32(7))
	f.Add("", "::1", uint16(993), "Entwürfe", uint32(0), uint32(1))
	f.Add("a;AUTH=*", "[2001:db8::1]", uint16(143), "a;b/;UID=1", uint32(1), uint32(0))
	f.Add("100%", "fe80::1%eth0", uint16(0), "&AOQ-", uint32(0), uint32(0))
	f.Add("x", "h", uint16(0), "", uint32(0), uint32(5))
	f.Fuzz(func(t *testing.T, user, host string, port uint16, mailbox string, uidValidity, uid uint32) {
		u := URL{User: user, Host: host, Port: int(port), Mailbox: mailbox, UIDValidity: uidValidity, UID: uid}
		s := u.String()
		if got := string(u.AppendTo(nil)); got != s {
			t.Fatalf("AppendTo %q != String %q", got, s)
		}
		if u.Validate() != nil {
			return
		}
		got, err := ParseURL(s)
		if err != nil {
			t.Fatalf("valid URL %#v: ParseURL(%q): %v", u, s, err)
		}
		if want := canonical(u); got != want {
			t.Fatalf("round trip of %q:\n got %#v\nwant %#v", s, got, want)
		}
	})
}

// FuzzParseURL checks that whatever ParseURL accepts is valid, re-parses
// from its String form to the same URL, and that String is then a fixed
// point.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"imap://imap.example.org",
		"imap://alice%40example.org@imap.example.org/Archive/2024%20Q1;UIDVALIDITY=1424683682/;UID=7",
		"imap://john@example.org@imap.example.org/INBOX;UIDVALIDITY=1424683682",
		"imap://alice;AUTH=*@[::1]:993/Entw%c3%bcrfe/",
		"imap://[fe80::1%25eth0]//;UID=1",
		"IMAP://h/INBOX;uidvalidity=1/;uid=2",
		"imap://h/a%3Bb",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		u, err := ParseURL(in)
		if err != nil {
			_ = err.Error()
			return
		}
		if err := u.Validate(); err != nil {
			t.Fatalf("ParseURL(%q) = %#v, which is invalid: %v", in, u, err)
		}
		s := u.String()
		again, err := ParseURL(s)
		if err != nil {
			t.Fatalf("ParseURL(%q) ok, but ParseURL(String() = %q): %v", in, s, err)
		}
		if again != u {
			t.Fatalf("re-parse of %q:\n got %#v\nwant %#v", s, again, u)
		}
		if s2 := again.String(); s2 != s {
			t.Fatalf("String not a fixed point: %q -> %q", s, s2)
		}
	})
}
