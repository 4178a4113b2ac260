package event

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const host = "imap.example.org"

func TestURLString(t *testing.T) {
	long := strings.Repeat("Sub Folder/", 300) + "Leaf"
	tests := []struct {
		name string
		url  URL
		want string
	}{
		// Shape.
		{"server only", URL{Host: host}, "imap://imap.example.org"},
		{"server with user", URL{User: "alice", Host: host}, "imap://alice@imap.example.org"},
		{"mailbox", URL{Host: host, Mailbox: "INBOX"}, "imap://imap.example.org/INBOX"},
		{"uidvalidity", URL{Host: host, Mailbox: "INBOX", UIDValidity: 1424683682}, "imap://imap.example.org/INBOX;UIDVALIDITY=1424683682"},
		{"message", URL{Host: host, Mailbox: "INBOX", UIDValidity: 1, UID: 20}, "imap://imap.example.org/INBOX;UIDVALIDITY=1/;UID=20"},
		{"uid without uidvalidity", URL{Host: host, Mailbox: "Archive/2024", UID: 7}, "imap://imap.example.org/Archive/2024/;UID=7"},
		{"max numbers", URL{Host: host, Mailbox: "a", UIDValidity: 4294967295, UID: 4294967295}, "imap://imap.example.org/a;UIDVALIDITY=4294967295/;UID=4294967295"},

		// Users: enc-user is achar only.
		{"user with @", URL{User: "john@example.org", Host: host, Mailbox: "INBOX"}, "imap://john%40example.org@imap.example.org/INBOX"},
		{"user with +", URL{User: "alice+tag@example.org", Host: host}, "imap://alice+tag%40example.org@imap.example.org"},
		{"user with %", URL{User: "100%bob", Host: host}, "imap://100%25bob@imap.example.org"},
		{"user delimiters", URL{User: "a:b;c/d e?f#g[h]", Host: host}, "imap://a%3Ab%3Bc%2Fd%20e%3Ff%23g%5Bh%5D@imap.example.org"},
		{"user achar literal", URL{User: "a-._~!$'()*+,&=z", Host: host}, "imap://a-._~!$'()*+,&=z@imap.example.org"},
		{"user non-ASCII", URL{User: "jürgen", Host: host}, "imap://j%C3%BCrgen@imap.example.org"},

		// Mailboxes: bchar keeps ":", "@", "/" literal.
		{"space", URL{Host: host, Mailbox: "My Folder"}, "imap://imap.example.org/My%20Folder"},
		{"percent", URL{Host: host, Mailbox: "100%"}, "imap://imap.example.org/100%25"},
		{"semicolon", URL{Host: host, Mailbox: "a;b", UID: 1}, "imap://imap.example.org/a%3Bb/;UID=1"},
		{"fake param", URL{Host: host, Mailbox: "x;UIDVALIDITY=9"}, "imap://imap.example.org/x%3BUIDVALIDITY=9"},
		{"question mark", URL{Host: host, Mailbox: "why?"}, "imap://imap.example.org/why%3F"},
		{"hash", URL{Host: host, Mailbox: "#news/comp"}, "imap://imap.example.org/%23news/comp"},
		{"quotes and brackets", URL{Host: host, Mailbox: `"q" [x]`}, "imap://imap.example.org/%22q%22%20%5Bx%5D"},
		{"other ASCII", URL{Host: host, Mailbox: "\\{}|^`<>"}, "imap://imap.example.org/%5C%7B%7D%7C%5E%60%3C%3E"},
		{"hierarchy chars", URL{Host: host, Mailbox: "a:b@c/d"}, "imap://imap.example.org/a:b@c/d"},
		{"achar literal", URL{Host: host, Mailbox: "a-._~!$'()*+,&=z"}, "imap://imap.example.org/a-._~!$'()*+,&=z"},
		{"umlaut", URL{Host: host, Mailbox: "Entwürfe"}, "imap://imap.example.org/Entw%C3%BCrfe"},
		{"CJK", URL{Host: host, Mailbox: "日本語"}, "imap://imap.example.org/%E6%97%A5%E6%9C%AC%E8%AA%9E"},
		{"emoji", URL{Host: host, Mailbox: "📬"}, "imap://imap.example.org/%F0%9F%93%AC"},
		{"modified UTF-7 stays literal", URL{Host: host, Mailbox: "Entw&APw-rfe"}, "imap://imap.example.org/Entw&APw-rfe"},
		{"ampersand", URL{Host: host, Mailbox: "&AOQ-"}, "imap://imap.example.org/&AOQ-"},
		{"cyrus dot name", URL{Host: host, Mailbox: "user.x"}, "imap://imap.example.org/user.x"},
		{"cyrus slash name", URL{Host: host, Mailbox: "user/alice"}, "imap://imap.example.org/user/alice"},
		{"only slash", URL{Host: host, Mailbox: "/"}, "imap://imap.example.org//"},
		{"trailing slash with uid", URL{Host: host, Mailbox: "INBOX/", UID: 3}, "imap://imap.example.org/INBOX//;UID=3"},
		{"single space", URL{Host: host, Mailbox: " "}, "imap://imap.example.org/%20"},
		{"controls", URL{Host: host, Mailbox: "\x00\t\x7f"}, "imap://imap.example.org/%00%09%7F"},
		{"invalid UTF-8", URL{Host: host, Mailbox: "a\xffb\xc3"}, "imap://imap.example.org/a%FFb%C3"},
		{"long", URL{Host: host, Mailbox: long}, "imap://imap.example.org/" + strings.ReplaceAll(long, " ", "%20")},

		// Hosts and ports.
		{"port", URL{Host: host, Port: 993, Mailbox: "INBOX"}, "imap://imap.example.org:993/INBOX"},
		{"ipv4", URL{Host: "192.0.2.1", Port: 143}, "imap://192.0.2.1:143"},
		{"ipv6 bare", URL{Host: "::1", Mailbox: "INBOX"}, "imap://[::1]/INBOX"},
		{"ipv6 bracketed", URL{User: "u", Host: "[2001:db8::1]", Port: 10143}, "imap://u@[2001:db8::1]:10143"},
		{"ipv6 zone", URL{Host: "fe80::1%eth0"}, "imap://[fe80::1%25eth0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.url.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			got := tt.url.String()
			if got != tt.want {
				t.Fatalf("String():\n got %s\nwant %s", got, tt.want)
			}
			if got := string(tt.url.AppendTo([]byte("x"))); got != "x"+tt.want {
				t.Errorf("AppendTo = %q", got)
			}
			back, err := ParseURL(got)
			if err != nil {
				t.Fatalf("ParseURL(%q): %v", got, err)
			}
			if diff := cmp.Diff(canonical(tt.url), back); diff != "" {
				t.Errorf("ParseURL(String()) mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// canonical is u as ParseURL returns it: the only field String does not
// reproduce exactly is a bracketed IPv6 host.
func canonical(u URL) URL {
	if h, ok := ipv6Literal(u.Host); ok {
		u.Host = h
	}
	return u
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		in   string
		want URL
	}{
		{"imap://john@example.org@imap.example.org/INBOX;UIDVALIDITY=1424683682",
			URL{User: "john@example.org", Host: host, Mailbox: "INBOX", UIDValidity: 1424683682}},
		{"imap://a@b@c@imap.example.org", URL{User: "a@b@c", Host: host}},
		{"imap://alice;AUTH=*@imap.example.org/INBOX", URL{User: "alice", Host: host, Mailbox: "INBOX"}},
		{"imap://alice;auth=GSSAPI@imap.example.org", URL{User: "alice", Host: host}},
		{"imap://;AUTH=*@imap.example.org/", URL{Host: host}},
		{"imap://%61lice@imap.example.org", URL{User: "alice", Host: host}},
		{"imap://imap.example.org/Entw%c3%bcrfe", URL{Host: host, Mailbox: "Entwürfe"}},
		{"imap://imap.example.org/Entwürfe", URL{Host: host, Mailbox: "Entwürfe"}},
		{"imap://imap.example.org/a[b]\"c\"", URL{Host: host, Mailbox: `a[b]"c"`}},
		{"imap://imap.example.org/", URL{Host: host}},
		{"imap://imap.example.org//", URL{Host: host, Mailbox: "/"}},
		{"imap://imap.example.org/INBOX/", URL{Host: host, Mailbox: "INBOX/"}},
		{"imap://imap.example.org/a%2Fb", URL{Host: host, Mailbox: "a/b"}},
		{"imap://imap.example.org/a%3bb", URL{Host: host, Mailbox: "a;b"}},
		{"IMAP://IMAP.example.org/INBOX;uidvalidity=5/;uid=7", URL{Host: "IMAP.example.org", Mailbox: "INBOX", UIDValidity: 5, UID: 7}},
		{"imap://imap.example.org/INBOX/;UID=7", URL{Host: host, Mailbox: "INBOX", UID: 7}},
		{"imap://imap.example.org/INBOX//;UID=7", URL{Host: host, Mailbox: "INBOX/", UID: 7}},
		{"imap://imap.example.org:/INBOX", URL{Host: host, Mailbox: "INBOX"}},
		{"imap://imap.example.org:0993", URL{Host: host, Port: 993}},
		{"imap://[::1]:993/INBOX", URL{Host: "::1", Port: 993, Mailbox: "INBOX"}},
		{"imap://[fe80::1%25eth0]", URL{Host: "fe80::1%eth0"}},
		{"imap://[::ffff:192.0.2.1]", URL{Host: "::ffff:192.0.2.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseURL(tt.in)
			if err != nil {
				t.Fatalf("ParseURL: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("parsed URL does not validate: %v", err)
			}
		})
	}
}

func TestParseURLErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string // Reason
	}{
		{"http://imap.example.org/INBOX", `scheme is not "imap://"`},
		{"imap:/imap.example.org", `scheme is not "imap://"`},
		{"", `scheme is not "imap://"`},
		{"imap://", "empty host"},
		{"imap:///INBOX", "empty host"},
		{"imap://alice@/INBOX", "empty host"},
		{"imap://::1/INBOX", "empty host"},
		{"imap://h%41/", `invalid character '%' in host`},
		{"imap://exämple.org/", `invalid character byte 0xC3 in host`},
		{"imap://[::1", `unterminated "[" in host`},
		{"imap://[::1]x/", `unexpected "x" after IPv6 address`},
		{"imap://[192.0.2.1]/", `invalid IPv6 address "192.0.2.1"`},
		{"imap://[v1.x]/", `invalid IPv6 address "v1.x"`},
		{"imap://[::1%2]/", `invalid percent-encoding in host "[::1%2]"`},
		{"imap://h:99999/", `invalid port "99999"`},
		{"imap://h:x/", `invalid port "x"`},
		{"imap://h:+1/", `invalid port "+1"`},
		{"imap://alice:secret@h/", `unencoded ":" in user (passwords are not supported)`},
		{"imap://alice;FOO=1@h/", `unsupported userinfo parameter ";FOO=1"`},
		{"imap://al%zzice@h/", `invalid percent-encoding in user "al%zzice"`},
		{"imap://h/INBOX%", `invalid percent-encoding in mailbox "INBOX%"`},
		{"imap://h/INBOX%4", `invalid percent-encoding in mailbox "INBOX%4"`},
		{"imap://h/INBOX%G1", `invalid percent-encoding in mailbox "INBOX%G1"`},
		{"imap://h/My Folder", `unencoded space or control character ' ' at offset 11`},
		{"imap://h/a\x00", `unencoded space or control character '\x00' at offset 10`},
		{"imap://h/INBOX?SUBJECT%20x", `unsupported '?' at offset 14 (searches and fragments are not supported)`},
		{"imap://h/INBOX#x", `unsupported '#' at offset 14 (searches and fragments are not supported)`},
		{"imap://h/INBOX;UIDVALIDITY=0", `invalid UIDVALIDITY "0": zero is not allowed`},
		{"imap://h/INBOX;UIDVALIDITY=", `invalid UIDVALIDITY "": missing number`},
		{"imap://h/INBOX;UIDVALIDITY=abc", `invalid UIDVALIDITY "abc": unexpected character 'a'`},
		{"imap://h/INBOX;UIDVALIDITY=4294967296", `invalid UIDVALIDITY "4294967296": number exceeds 4294967295`},
		{"imap://h/INBOX;UIDVALIDITY=01", `invalid UIDVALIDITY "01": leading zeros are not allowed`},
		{"imap://h/INBOX;UIDVALIDITY=1;EXPIRE=x", `unsupported component ";EXPIRE=x"`},
		{"imap://h/INBOX;UIDVALIDITY=1/x", `unsupported component "/x"`},
		{"imap://h/INBOX/;UID=0", `invalid UID "0": zero is not allowed`},
		{"imap://h/INBOX/;UID=-1", `invalid UID "-1": unexpected character '-'`},
		{"imap://h/INBOX/;UID=99999999999", `invalid UID "99999999999": number exceeds 4294967295`},
		{"imap://h/INBOX/;UID=5/;SECTION=1", `unsupported component "/;SECTION=1"`},
		{"imap://h/INBOX;UID=5", `";UID=" not preceded by "/"`},
		{"imap://h/;UID=5", "UID without a mailbox"},
		{"imap://h//;UID=5", "UID without a mailbox"},
		{"imap://h/;UIDVALIDITY=5", "UIDVALIDITY without a mailbox"},
		{"imap://h/INBOX;FOO=1", `unsupported parameter ";FOO=1"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			u, err := ParseURL(tt.in)
			if err == nil {
				t.Fatalf("ParseURL = %#v, want error", u)
			}
			var ue *URLError
			if !errors.As(err, &ue) {
				t.Fatalf("error %T is not *URLError", err)
			}
			if ue.Input != tt.in || ue.Reason != tt.want {
				t.Errorf("got URLError{%q, %q}, want reason %q", ue.Input, ue.Reason, tt.want)
			}
			if u != (URL{}) {
				t.Errorf("non-zero URL %#v returned with error", u)
			}
		})
	}
	// Error() prefixes and quotes the input once, in full.
	_, err := ParseURL("imap://h/;UID=5")
	if got, want := err.Error(), `event: invalid IMAP URL "imap://h/;UID=5": UID without a mailbox`; got != want {
		t.Errorf("Error() = %s, want %s", got, want)
	}
}

func TestURLValidate(t *testing.T) {
	tests := []struct {
		name string
		url  URL
		want string
	}{
		{"empty host", URL{Mailbox: "INBOX"}, `event: invalid IMAP URL "imap:///INBOX": empty host`},
		{"space in host", URL{Host: "a b"}, `event: invalid IMAP URL "imap://a%20b": invalid character ' ' in host`},
		{"slash in host", URL{Host: "evil/INBOX"}, `event: invalid IMAP URL "imap://evil%2FINBOX": invalid character '/' in host`},
		{"at in host", URL{Host: "a@b"}, `event: invalid IMAP URL "imap://a%40b": invalid character '@' in host`},
		{"IDN host", URL{Host: "exämple.org"}, `event: invalid IMAP URL "imap://ex%C3%A4mple.org": invalid character byte 0xC3 in host`},
		{"host with port", URL{Host: "h:143"}, `event: invalid IMAP URL "imap://[h:143]": invalid IPv6 address "h:143"`},
		{"ipv4 in brackets", URL{Host: "[192.0.2.1]"}, `event: invalid IMAP URL "imap://[192.0.2.1]": invalid IPv6 address "192.0.2.1"`},
		{"half bracket", URL{Host: "[::1"}, `event: invalid IMAP URL "imap://[%5B::1]": invalid IPv6 address "[::1"`},
		{"negative port", URL{Host: host, Port: -1}, `event: invalid IMAP URL "imap://imap.example.org:-1": port -1 out of range`},
		{"big port", URL{Host: host, Port: 65536}, `event: invalid IMAP URL "imap://imap.example.org:65536": port 65536 out of range`},
		{"uid without mailbox", URL{Host: host, UID: 1}, `event: invalid IMAP URL "imap://imap.example.org": UID without a mailbox`},
		{"uidvalidity without mailbox", URL{Host: host, UIDValidity: 1}, `event: invalid IMAP URL "imap://imap.example.org": UIDVALIDITY without a mailbox`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.url.Validate()
			if err == nil {
				t.Fatalf("Validate(%#v) = nil, want error", tt.url)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("Validate:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestURLAppendToAllocs(t *testing.T) {
	u := benchURL()
	buf := make([]byte, 0, 256)
	if allocs := testing.AllocsPerRun(100, func() { buf = u.AppendTo(buf[:0]) }); allocs != 0 {
		t.Errorf("AppendTo: %v allocs/op, want 0", allocs)
	}
}

func benchURL() URL {
	return URL{
		User:        "alice@example.org",
		Host:        host,
		Mailbox:     "Archive/2024 Q1",
		UIDValidity: 1424683682,
		UID:         31337,
	}
}

func BenchmarkURLAppendTo(b *testing.B) {
	u := benchURL()
	b.Run("AppendTo", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 256)
		for b.Loop() {
			buf = u.AppendTo(buf[:0])
		}
	})
	b.Run("String", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = u.String()
		}
	})
	b.Run("ParseURL", func(b *testing.B) {
		b.ReportAllocs()
		s := u.String()
		for b.Loop() {
			if _, err := ParseURL(s); err != nil {
				b.Fatal(err)
			}
		}
	})
}
