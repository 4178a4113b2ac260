package cyrus

import (
	"encoding/base64"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Mailbox is a Cyrus mailbox name in its owner's namespace, the form an
// IMAP URL carries.
type Mailbox struct {
	// Owner is the user whose personal mailbox it is ("alice",
	// "alice@example.com" under virtdomains); "" for a shared mailbox.
	Owner string
	// Name is the mailbox as the owner sees it, in UTF-8 with "/" as the
	// hierarchy separator: "INBOX", "Sent", "Archive/2024"; a shared
	// mailbox keeps its full name ("shared/news").
	Name string
	// Deleted is set for the DELETED.… name a delayed delete renames a
	// mailbox to; Owner and Name are then those of the mailbox deleted.
	Deleted bool
}

// deletedPrefix is Cyrus's default deletedprefix (delete_mode: delayed).
const deletedPrefix = "DELETED"

// ParseInternalMailbox converts an internal name (2.4–3.12 prose lines):
// "."-separated, a "." inside a name escaped as "^" (unixhierarchysep),
// "{domain}!" in front under virtdomains, each level in modified UTF-7
// (RFC 3501 §5.1.3). "user.alice" is alice's INBOX, "user.alice.Sent" her
// "Sent"; "example.com!user.bob.A^B" is bob@example.com's "A.B".
func ParseInternalMailbox(internal string) (Mailbox, bool) {
	return parseMailbox(internal, '.', true)
}

// ParseExternalMailbox converts the external names of 3.13's logfmt lines:
// the admin namespace with "/" ("user/alice/Sent") when unixhierarchysep
// is on, else with "." and no escaping of its own.
func ParseExternalMailbox(external string) (Mailbox, bool) {
	if strings.HasPrefix(external, "user/") || (strings.IndexByte(external, '/') >= 0 && !strings.HasPrefix(external, "user.")) {
		return parseMailbox(external, '/', false)
	}
	return parseMailbox(external, '.', false)
}

func parseMailbox(s string, sep byte, caret bool) (Mailbox, bool) {
	var m Mailbox
	domain := ""
	if i := strings.IndexByte(s, '!'); i >= 0 {
		domain, s = s[:i], s[i+1:]
		if domain == "" {
			return Mailbox{}, false
		}
	}
	if rest, ok := strings.CutPrefix(s, deletedPrefix+string(sep)); ok {
		// DELETED.user.alice.Work.5F3A9B21: the last level is the hex time
		// of the deletion.
		i := strings.LastIndexByte(rest, sep)
		if i <= 0 || !isHex(rest[i+1:]) {
			return Mailbox{}, false
		}
		s, m.Deleted = rest[:i], true
	}
	if s == "" {
		return Mailbox{}, false
	}
	levels := strings.Split(s, string(sep))
	for i, l := range levels {
		if l == "" {
			return Mailbox{}, false
		}
		if caret {
			l = strings.ReplaceAll(l, "^", ".")
		}
		d, ok := decodeMUTF7(l)
		if !ok {
			return Mailbox{}, false
		}
		levels[i] = d
	}
	if levels[0] == "user" && len(levels) > 1 {
		m.Owner = levels[1]
		if domain != "" {
			m.Owner += "@" + domain
		}
		if len(levels) == 2 {
			m.Name = "INBOX"
		} else {
			m.Name = strings.Join(levels[2:], "/")
		}
		return m, true
	}
	m.Name = strings.Join(levels, "/")
	return m, true
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'F' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// mutf7 is IMAP's modified base64: "," instead of "/", no padding.
var mutf7 = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,").WithPadding(base64.NoPadding)

// decodeMUTF7 decodes modified UTF-7: "&" starts a base64 run of UTF-16
// ending with "-", "&-" is "&". A name without "&" is returned as is.
func decodeMUTF7(s string) (string, bool) {
	if strings.IndexByte(s, '&') < 0 {
		return s, utf8.ValidString(s)
	}
	var b strings.Builder
	for s != "" {
		i := strings.IndexByte(s, '&')
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		s = s[i+1:]
		end := strings.IndexByte(s, '-')
		if end < 0 {
			return "", false
		}
		if end == 0 {
			b.WriteByte('&')
			s = s[1:]
			continue
		}
		raw, err := mutf7.DecodeString(s[:end])
		if err != nil || len(raw)%2 != 0 {
			return "", false
		}
		units := make([]uint16, len(raw)/2)
		for j := range units {
			units[j] = uint16(raw[2*j])<<8 | uint16(raw[2*j+1])
		}
		for _, r := range utf16.Decode(units) {
			if r == utf8.RuneError {
				return "", false
			}
			b.WriteRune(r)
		}
		s = s[end+1:]
	}
	out := b.String()
	return out, utf8.ValidString(out)
}
