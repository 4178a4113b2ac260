package event

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// URL is an RFC 5092 IMAP URL naming a server, a mailbox or a message. It
// is the value of the RFC 5423 "uri", "mailboxID" and "oldMailboxID" event
// parameters.
//
// Fields hold decoded values; String applies the RFC 5092 percent-encoding.
// URL is comparable with ==.
type URL struct {
	// User is the IMAP login name, e.g. "alice@example.org". "" omits the
	// userinfo part.
	User string
	// Host is a DNS name, an IPv4 address or an IPv6 address. IPv6 may be
	// given with or without brackets; ParseURL returns it without. IDNs
	// must be in A-label (xn--) form.
	Host string
	// Port is the TCP port; 0 means the default (143) and is omitted.
	Port int
	// Mailbox is the mailbox name in the user's namespace, in UTF-8 (not
	// modified UTF-7), e.g. "INBOX" or "Archive/2024". "" makes a
	// server-only URL. Any byte sequence is preserved, even invalid UTF-8.
	Mailbox string
	// UIDValidity is the mailbox's UIDVALIDITY; 0 means unknown and is
	// omitted.
	UIDValidity uint32
	// UID names a message in Mailbox; 0 means none.
	UID uint32
}

// Character classes from RFC 5092 § 11 and RFC 3986 § 3.2.2. Bytes outside
// a class are percent-encoded when writing.
const (
	unreservedChars  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
	subDelimsShChars = "!$'()*+,"                                 // RFC 5092 sub-delims-sh
	acharChars       = unreservedChars + subDelimsShChars + "&=~" // RFC 5092 achar
)

var (
	// userChars is enc-user: achar only, so "@", ":", "/" and ";" in a
	// login name are encoded and cannot be mistaken for delimiters.
	userChars = newByteSet(acharChars)
	// mailboxChars is enc-mailbox (bchar): ":", "@" and "/" stay literal
	// because they commonly appear as hierarchy separators. "&" is literal
	// too, so modified-UTF-7-looking names such as "&AOQ-" pass unchanged.
	mailboxChars = newByteSet(acharChars + ":@/")
	// hostChars is RFC 3986 reg-name without pct-encoded: the characters
	// a host may contain for Validate to accept it.
	hostChars = newByteSet(unreservedChars + "!$&'()*+,;=")
	// ipLiteralChars is what may appear raw inside "[...]"; anything else,
	// notably the "%" of a zone ID (RFC 6874), is encoded.
	ipLiteralChars = newByteSet(unreservedChars + "!$&'()*+,;=:")
)

type byteSet [256]bool

func newByteSet(chars string) *byteSet {
	var s byteSet
	for i := 0; i < len(chars); i++ {
		s[chars[i]] = true
	}
	return &s
}

// String returns the URL in RFC 5092 form, e.g.
// "imap://alice%40example.org@imap.example.org/INBOX;UIDVALIDITY=1/;UID=7".
//
// String does not validate u. For an invalid URL (see Validate) it still
// returns a well-formed URI in which every field stays within its own
// component, but ParseURL may reject it or return different fields.
func (u URL) String() string {
	// An upper bound that is tight apart from the fixed parts and numbers:
	// over-allocating a few dozen bytes beats growing the buffer.
	const fixed = len("imap://[]:65535/;UIDVALIDITY=4294967295/;UID=4294967295") + 1
	// Each byte encodes to at most three: most URLs fit without counting.
	n := fixed + 3*(len(u.User)+len(u.Host)+len(u.Mailbox))
	if n > 256 {
		n = fixed + encodedLen(u.User, userChars) + encodedLen(u.Host, ipLiteralChars) +
			encodedLen(u.Mailbox, mailboxChars)
	}
	if n <= 256 {
		// A stack buffer: the string conversion is then the only allocation.
		var buf [256]byte
		return string(u.AppendTo(buf[:0]))
	}
	return appendToString(n, u.AppendTo)
}

func encodedLen(s string, safe *byteSet) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		if !safe[s[i]] {
			n += 2
		}
	}
	return n
}

// AppendTo appends the String form to dst and returns the extended slice.
// It does not allocate when dst has enough capacity, because event
// formatting runs once per log line.
func (u URL) AppendTo(dst []byte) []byte {
	dst = append(dst, "imap://"...)
	if u.User != "" {
		dst = appendEscaped(dst, u.User, userChars)
		dst = append(dst, '@')
	}
	if h, ok := ipv6Literal(u.Host); ok {
		dst = append(dst, '[')
		dst = appendEscaped(dst, h, ipLiteralChars)
		dst = append(dst, ']')
	} else {
		// Encoding (rather than copying) an invalid host keeps a hostile
		// value such as "evil/INBOX" from forging a path.
		dst = appendEscaped(dst, u.Host, hostChars)
	}
	if u.Port != 0 {
		dst = append(dst, ':')
		dst = strconv.AppendInt(dst, int64(u.Port), 10)
	}
	// UIDVALIDITY and UID qualify a mailbox, so without one they have
	// nowhere to go; Validate reports that case.
	if u.Mailbox == "" {
		return dst
	}
	dst = append(dst, '/')
	dst = appendEscaped(dst, u.Mailbox, mailboxChars)
	if u.UIDValidity != 0 {
		dst = append(dst, ";UIDVALIDITY="...)
		dst = strconv.AppendUint(dst, uint64(u.UIDValidity), 10)
	}
	if u.UID != 0 {
		dst = append(dst, "/;UID="...)
		dst = strconv.AppendUint(dst, uint64(u.UID), 10)
	}
	return dst
}

const upperHex = "0123456789ABCDEF"

func appendEscaped(dst []byte, s string, safe *byteSet) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; !safe[c] {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '%', upperHex[c>>4], upperHex[c&0xF])
			start = i + 1
		}
	}
	return append(dst, s[start:]...)
}

// ipv6Literal reports whether host is meant as an IPv6 address and returns
// it without brackets. A colon is the signal: reg-names and IPv4 addresses
// cannot contain one.
func ipv6Literal(host string) (string, bool) {
	if len(host) >= 2 && host[0] == '[' && host[len(host)-1] == ']' {
		return host[1 : len(host)-1], true
	}
	return host, strings.IndexByte(host, ':') >= 0
}

// Validate reports whether u can be written and read back unchanged, i.e.
// whether ParseURL(u.String()) returns u (with any IPv6 brackets removed
// from Host). A URL is valid when:
//   - Host is non-empty and is either an IPv6 address (optionally
//     bracketed, optionally with a zone) or consists only of RFC 3986
//     unreserved and sub-delims characters, which excludes whitespace,
//     "/", "?", "#", "@", ":", "%", "[", "]" and non-ASCII;
//   - Port is within 0..65535;
//   - UIDValidity and UID are 0 unless Mailbox is non-empty.
//
// User and Mailbox may hold any bytes.
func (u URL) Validate() error {
	if reason := u.invalidReason(); reason != "" {
		return &URLError{Input: u.String(), Reason: reason}
	}
	return nil
}

func (u URL) invalidReason() string {
	if reason := hostReason(u.Host); reason != "" {
		return reason
	}
	switch {
	case u.Port < 0 || u.Port > 65535:
		return fmt.Sprintf("port %d out of range", u.Port)
	case u.Mailbox == "" && u.UID != 0:
		return "UID without a mailbox"
	case u.Mailbox == "" && u.UIDValidity != 0:
		return "UIDVALIDITY without a mailbox"
	}
	return ""
}

// hostReason explains why host is not valid, or returns "".
func hostReason(host string) string {
	if host == "" {
		return "empty host"
	}
	if lit, ok := ipv6Literal(host); ok {
		if a, err := netip.ParseAddr(lit); err != nil || !a.Is6() {
			return "invalid IPv6 address " + quoteInput(lit)
		}
		return ""
	}
	for i := 0; i < len(host); i++ {
		if !hostChars[host[i]] {
			return "invalid character " + quoteByte(host[i]) + " in host"
		}
	}
	return ""
}

// URLError reports why ParseURL rejected its input or why Validate
// rejected a URL.
type URLError struct {
	Input  string // the string given to ParseURL, or the URL's String form
	Reason string // human-readable explanation
}

func (e *URLError) Error() string {
	return "event: invalid IMAP URL " + quoteInput(e.Input) + ": " + e.Reason
}
