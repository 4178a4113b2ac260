package event

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ParseURL parses an RFC 5092 IMAP URL of the forms String produces:
// server, mailbox (optionally with ";UIDVALIDITY=") and message ("/;UID=").
// It is the inverse of String for every valid URL, and every URL it returns
// is valid.
//
// To read other producers' events it also accepts: a raw "@" in the user
// (Cyrus IMAP writes "imap://john@example.org@host/..."; the last "@" of
// the authority ends the user), ";AUTH=" in the userinfo (the mechanism is
// ignored), lower-case hex escapes, a "/" after the host, case-insensitive
// scheme and parameter names, and raw non-ASCII bytes.
//
// It rejects search queries ("?"), fragments, ";SECTION=", ";PARTIAL=",
// URLAUTH and passwords rather than silently dropping them, because a URL
// naming a message part or search result is not a mailbox or message URL.
func ParseURL(s string) (URL, error) {
	u, reason := parseURL(s)
	if reason != "" {
		return URL{}, &URLError{Input: s, Reason: reason}
	}
	return u, nil
}

func parseURL(s string) (URL, string) {
	const scheme = "imap://"
	if !hasPrefixFold(s, scheme) {
		return URL{}, `scheme is not "imap://"`
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c <= ' ' || c == 0x7F:
			return URL{}, fmt.Sprintf("unencoded space or control character %s at offset %d", quoteByte(c), i)
		case c == '?' || c == '#':
			return URL{}, fmt.Sprintf("unsupported %s at offset %d (searches and fragments are not supported)", quoteByte(c), i)
		}
	}

	authority, path, _ := strings.Cut(s[len(scheme):], "/")
	var u URL
	// Splitting on the last "@" rather than the first is what makes Cyrus's
	// unencoded "user@domain@host" parse; a conforming host never has "@".
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		user, reason := parseUserinfo(authority[:at])
		if reason != "" {
			return URL{}, reason
		}
		u.User = user
		authority = authority[at+1:]
	}
	host, port, reason := parseHostPort(authority)
	if reason != "" {
		return URL{}, reason
	}
	u.Host, u.Port = host, port
	if path == "" {
		return u, ""
	}
	if reason := u.parsePath(path); reason != "" {
		return URL{}, reason
	}
	return u, ""
}

func parseUserinfo(userinfo string) (string, string) {
	enc, auth, hasAuth := strings.Cut(userinfo, ";")
	if hasAuth && !hasPrefixFold(auth, "AUTH=") {
		return "", "unsupported userinfo parameter " + quoteInput(";"+auth)
	}
	// Reading "user:password" as a login name would be wrong either way,
	// and RFC 5092 has no passwords; a real ":" in a name is "%3A".
	if strings.IndexByte(enc, ':') >= 0 {
		return "", `unencoded ":" in user (passwords are not supported)`
	}
	user, ok := percentDecode(enc)
	if !ok {
		return "", "invalid percent-encoding in user " + quoteInput(enc)
	}
	return user, ""
}

func parseHostPort(hostport string) (string, int, string) {
	var host, port string
	var hasPort bool
	if strings.HasPrefix(hostport, "[") {
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return "", 0, `unterminated "[" in host`
		}
		// Inside brackets "%" is legitimate: RFC 6874 writes a zone as "%25".
		lit, ok := percentDecode(hostport[1:end])
		if !ok {
			return "", 0, "invalid percent-encoding in host " + quoteInput(hostport[:end+1])
		}
		host = lit
		if rest := hostport[end+1:]; rest != "" {
			if rest[0] != ':' {
				return "", 0, "unexpected " + quoteInput(rest) + " after IPv6 address"
			}
			port, hasPort = rest[1:], true
		}
		if a, err := netip.ParseAddr(host); err != nil || !a.Is6() {
			return "", 0, "invalid IPv6 address " + quoteInput(host)
		}
	} else {
		host, port, hasPort = strings.Cut(hostport, ":")
		if reason := hostReason(host); reason != "" {
			return "", 0, reason
		}
	}
	if !hasPort || port == "" { // RFC 3986 allows an empty port.
		return host, 0, ""
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return "", 0, "invalid port " + quoteInput(port)
	}
	return host, int(n), ""
}

// parsePath parses what follows the "/" after the authority:
// enc-mailbox [";UIDVALIDITY=" nz-number] ["/;UID=" nz-number].
func (u *URL) parsePath(path string) string {
	// Mailbox names encode ";" so the first raw ";" starts the parameters.
	rawMailbox, params, hasParams := strings.Cut(path, ";")
	var uidValidity, uid string
	var hasUIDValidity, hasUID bool
	if hasParams {
		switch {
		case hasPrefixFold(params, "UIDVALIDITY="):
			uidValidity, params, hasUID = strings.Cut(params[len("UIDVALIDITY="):], "/")
			hasUIDValidity = true
			if hasUID {
				if !hasPrefixFold(params, ";UID=") {
					return "unsupported component " + quoteInput("/"+params)
				}
				uid = params[len(";UID="):]
			}
		case hasPrefixFold(params, "UID="):
			// The "/" of "/;UID=" was consumed into rawMailbox; a mailbox
			// that itself ends in "/" shows up as "//;UID=".
			var ok bool
			if rawMailbox, ok = strings.CutSuffix(rawMailbox, "/"); !ok {
				if rawMailbox == "" {
					return "UID without a mailbox"
				}
				return `";UID=" not preceded by "/"`
			}
			uid, hasUID = params[len("UID="):], true
		default:
			return "unsupported parameter " + quoteInput(";"+params)
		}
	}

	mailbox, ok := percentDecode(rawMailbox)
	if !ok {
		return "invalid percent-encoding in mailbox " + quoteInput(rawMailbox)
	}
	switch {
	case mailbox == "" && hasUID:
		return "UID without a mailbox"
	case mailbox == "" && hasUIDValidity:
		return "UIDVALIDITY without a mailbox"
	}
	u.Mailbox = mailbox
	if hasUIDValidity {
		v, reason := parseURLNumber("UIDVALIDITY", uidValidity)
		if reason != "" {
			return reason
		}
		u.UIDValidity = v
	}
	if hasUID {
		v, reason := parseURLNumber("UID", uid)
		if reason != "" {
			return reason
		}
		u.UID = v
	}
	return ""
}

// parseURLNumber parses the value of a UIDVALIDITY or UID parameter.
func parseURLNumber(name, s string) (uint32, string) {
	// Whatever follows the number is a component this package does not
	// model (";SECTION=", ";PARTIAL=", URLAUTH); say so rather than
	// complaining about a stray character.
	if i := strings.IndexAny(s, "/;"); i >= 0 {
		return 0, "unsupported component " + quoteInput(s[i:])
	}
	v, reason := parseNZNumber(s)
	if reason != "" {
		return 0, "invalid " + name + " " + quoteInput(s) + ": " + reason
	}
	return v, ""
}

// percentDecode decodes %XX escapes (either hex case) into raw bytes and
// keeps every other byte as is. ok is false for a malformed escape.
func percentDecode(s string) (string, bool) {
	i := strings.IndexByte(s, '%')
	if i < 0 {
		return s, true // The common case needs no allocation.
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		if s[i] != '%' {
			b = append(b, s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		hi, ok1 := unhex(s[i+1])
		lo, ok2 := unhex(s[i+2])
		if !ok1 || !ok2 {
			return "", false
		}
		b = append(b, hi<<4|lo)
		i += 2
	}
	return string(b), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// hasPrefixFold is strings.HasPrefix ignoring ASCII case; RFC 5234 string
// literals, and thus RFC 5092's scheme and parameter names, are
// case-insensitive. strings.EqualFold is not used because its Unicode
// folding would match e.g. U+212A KELVIN SIGN against "k".
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if lowerASCII(s[i]) != lowerASCII(prefix[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}
