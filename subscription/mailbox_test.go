package subscription

import (
	"path"
	"testing"

	"github.com/mailevents/mailevents/event"
)

func TestMailboxOf(t *testing.T) {
	tests := []struct{ uri, want string }{
		{"imap://mx", ""},
		{"imap://mx/", ""},
		{"imap://alice%40example.org@mx/INBOX", "INBOX"},
		{"imap://alice%40example.org@mx/INBOX/;UID=3", "INBOX"},
		{"imap://alice@mx/Archive/2024;UIDVALIDITY=9/;UID=1", "Archive/2024"},
		{"imap://alice@mx/Archive/2024;uidvalidity=9", "Archive/2024"},
		{"IMAP://alice@mx/Sent/;uid=7", "Sent"},
		{"imap://alice@mx/Entw%C3%BCrfe%202025", "Entwürfe 2025"},
		{"imap://alice@mx/a%3Bb/;UID=1", "a;b"},
		{"imap://alice@mx/dir//;UID=1", "dir/"}, // a mailbox whose name ends in "/"
		{"imap://john@example.org@mx/INBOX", "INBOX"},
		{"imap://[2001:db8::1]:143/INBOX", "INBOX"},
		{"not a url", ""},
		{"imap://mx/bad%zz", ""},
	}
	for _, tc := range tests {
		if got := mailboxOf(tc.uri); got != tc.want {
			t.Errorf("mailboxOf(%q) = %q, want %q", tc.uri, got, tc.want)
		}
	}
}

// FuzzMailboxOf holds the in-place reading to what event.ParseURL decodes,
// for every URL ParseURL accepts (events reaching a filter have passed
// Validate, so their uri is one).
func FuzzMailboxOf(f *testing.F) {
	for _, s := range []string{
		"imap://mx", "imap://a%40b@mx/INBOX/;UID=3", "imap://a@mx/x;UIDVALIDITY=1/;UID=2",
		"imap://a@mx/%41/;UID=1", "Imap://mx/a/b/", "imap://mx//;UID=1", "imap://mx/;UID=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := event.ParseURL(s)
		if err != nil {
			return
		}
		if got := mailboxOf(s); got != u.Mailbox {
			t.Errorf("mailboxOf(%q) = %q, ParseURL says %q", s, got, u.Mailbox)
		}
	})
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern string
		mailbox bool
		name    string
		want    bool
	}{
		{"*@example.org", false, "alice@example.org", true},
		{"*@example.org", false, "alice@example.org.evil", false},
		{"*@example.org", false, "a/b@example.org", false},
		{"alice*", false, "alice/x", false},
		{"?ob@*", false, "bob@example.com", true},
		{"[ab]*", false, "carol", false},
		{"[^ab]*", false, "carol", true},
		{`\*`, false, "*", true},
		{`\*`, false, "x", false},
		{"INBOX", true, "INBOX", true},
		{"INBOX", true, "inbox", false},
		{"Archive/*", true, "Archive/2024", true},
		{"Archive/*", true, "Archive/2024/Q1", false},
		{"Archive/*", true, "Archive", false},
		{"*", true, "Archive/2024", false},
		{"*/2024", true, "Archive/2024", true},
		{"Archive/**", true, "Archive/2024/Q1", true},
		{"Archive/**", true, "Archive/2024", true},
		{"Archive/**", true, "Archive", false},
		{"Archive/**", true, "Archive/", false},
		{"Archive/**", true, "Archives/x", false},
		{"*/**", true, "a/b/c", true},
		{"*/**", true, "a", false},
		{"A*/**", true, "Archive/x", true},
		{"A*/**", true, "Box/x", false},
		{"**", true, "a/b/c", true},
		{"**", true, "INBOX", true},
	}
	for _, tc := range tests {
		g, err := compileGlob(tc.pattern, tc.mailbox)
		if err != nil {
			t.Fatalf("compileGlob(%q): %v", tc.pattern, err)
		}
		var m matcher
		m.add(g)
		if got := m.match(tc.name); got != tc.want {
			t.Errorf("%q matches %q = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
}

// FuzzGlob holds the shortcuts for common pattern shapes to path.Match.
func FuzzGlob(f *testing.F) {
	for _, s := range [][2]string{
		{"*@example.org", "alice@example.org"}, {"*@example.org", "a/b@example.org"},
		{"Junk/*", "Junk/x"}, {"Junk/*", "Junk/x/y"}, {"*", "a/b"}, {"INBOX", "INBOX"},
		{"a*b", "axxb"}, {`\*x`, "*x"}, {"[a-c]?", "b/"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		g, err := compileGlob(pattern, false)
		want, werr := path.Match(pattern, name)
		if err != nil {
			if werr == nil && pattern != "" {
				t.Fatalf("compileGlob(%q) refused a pattern path.Match takes: %v", pattern, err)
			}
			return
		}
		if got := g.matchWhole(name); got != want {
			t.Errorf("%q matches %q = %v, path.Match says %v", pattern, name, got, want)
		}
	})
}
