package event

import (
	"fmt"
	"net/netip"
	"strings"
)

// ValidationError lists every way an event breaks the rules Validate checks.
type ValidationError struct {
	Type     Type
	Problems []string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("invalid %s event: %s", e.Type, strings.Join(e.Problems, "; "))
}

// uidsetRequired are the types whose uidset RFC 5423 §5 says is included.
func uidsetRequired(t Type) bool {
	switch t {
	case MessageExpire, MessageExpunge, MessageRead, MessageTrash, FlagsSet, FlagsClear:
		return true
	}
	return false
}

// Validate checks what RFC 5423 requires and what the output format promises:
// a known or vendor type; RFC or vendor parameter names; numbers where the RFC
// has numbers, in range; uidset on the six types that carry one, as a valid
// UID set; flagNames on FlagsSet and FlagsClear, without \Recent (§4.2 MUST
// NOT) and made of valid IMAP flags; IMAP URLs in uri, mailboxID and
// oldMailboxID; an RFC 3339 timestamp; an IP address in clientIP; and a uri on
// every RFC event ("uri: Included with all notifications").
//
// The UIDVALIDITY that §4.1 says MessageNew, MessageExpunge and MessageExpire
// MUST carry is not checked here, because no log line carries it; Gaps reports
// it instead, so such events can still be emitted and be seen to lack it.
func (e *Event) Validate() error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	switch {
	case e.Type == "":
		add("no event type")
	case !e.Type.IsRFC() && !e.Type.IsVendor():
		add("unknown event type %q (not RFC 5423, not vnd.)", e.Type)
	}
	for i := range e.params {
		f := &e.params[i]
		if f.rank == rankVendor {
			continue // Set checked the name; vendor values may be anything
		}
		if msg := checkParam(f.name, f.rank, &f.value); msg != "" {
			add("%s: %s", f.name, msg)
		}
	}
	if e.Type.IsRFC() && !e.hasRank(rankURI) {
		add("uri missing (RFC 5423 §5: included with all notifications)")
	}
	if uidsetRequired(e.Type) && !e.hasRank(rankUIDSet) {
		add("uidset missing (RFC 5423 §5: included with %s)", e.Type)
	}
	switch e.Type {
	case FlagsSet, FlagsClear:
		if !e.hasRank(rankFlagNames) {
			add("flagNames missing (RFC 5423 §4.2)")
		}
	case MailboxCreate, MailboxDelete:
		if !e.hasRank(rankMailboxID) {
			add("mailboxID missing (RFC 5423 §5: included in events that affect mailboxes)")
		}
	case MailboxRename:
		if !e.hasRank(rankMailboxID) || !e.hasRank(rankOldMailboxID) {
			add("MailboxRename needs mailboxID and oldMailboxID (RFC 5423 §4.4)")
		}
	}
	if problems != nil {
		return &ValidationError{Type: e.Type, Problems: problems}
	}
	return nil
}

// hasRank reports whether a parameter of rank r (an RFC parameter's, which
// names it) is set: comparing ranks is cheaper than comparing names.
func (e *Event) hasRank(r int) bool {
	for i := range e.params {
		if e.params[i].rank == r {
			return true
		}
	}
	return false
}

// checkParam returns what is wrong with one parameter of rank rank (rankOf(p),
// as Set recorded it), or "".
func checkParam(p Param, rank int, v *Value) string {
	if v.kind == KindInvalid {
		return "no value"
	}
	if rank >= rankVendor && rank != rankContent { // not an RFC parameter
		if rank != rankVendor {
			return "not an RFC 5423 parameter and not vnd."
		}
		return ""
	}
	if rank < len(numericRank) && numericRank[rank] {
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
	switch rank {
	case rankURI, rankMailboxID, rankOldMailboxID:
		if _, err := ParseURL(v.str); err != nil {
			return err.Error()
		}
	case rankUIDSet:
		if _, err := ParseUIDSet(v.str); err != nil {
			return err.Error()
		}
	case rankFlagNames:
		return checkFlagNames(v.str)
	case rankTimestamp:
		if _, err := ParseTimestamp(v.str); err != nil {
			return "not an RFC 3339 timestamp"
		}
	case rankClientIP:
		if isIPv4(v.str) {
			return ""
		}
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

// numericRank[r] reports whether the RFC parameter of rank r is numeric
// (Param.IsNumeric), so that Validate need not compare names.
var numericRank = func() []bool {
	t := make([]bool, len(encodingOrder))
	for r, p := range encodingOrder {
		t[r] = p.IsNumeric()
	}
	return t
}()

func checkRange(p Param, n int64) string {
	switch p {
	case ClientPort, ServerPort:
		if n < 1 || n > 65535 {
			return "port out of range 1..65535"
		}
	case PID:
		if n < 1 {
			return "must be positive"
		}
	case DiskQuota, MaxMessages:
		// Cyrus sends -1 for "no limit".
		if n < -1 {
			return "must be -1 (no limit) or more"
		}
	default:
		if n < 0 {
			return "must not be negative"
		}
	}
	return ""
}

// isIPv4 reports whether s is a dotted-quad IPv4 address in the form
// netip.ParseAddr accepts (four decimal fields of 0..255, no leading zeros).
// It only ever accepts what ParseAddr accepts, and is a fast path for it:
// anything it refuses goes to ParseAddr, which says why.
func isIPv4(s string) bool {
	fields, n, digits := 0, 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if digits == 1 && n == 0 {
				return false // leading zero
			}
			n = n*10 + int(c-'0')
			digits++
			if n > 255 {
				return false
			}
		case c == '.' && digits > 0 && fields < 3:
			fields++
			n, digits = 0, 0
		default:
			return false
		}
	}
	return fields == 3 && digits > 0
}

// checkFlagNames checks a space-separated list of IMAP flags and keywords
// (RFC 3501 flag-list elements), which must not include \Recent.
func checkFlagNames(s string) string {
	if s == "" {
		return "empty"
	}
	for rest, more := s, true; more; {
		var flag string
		flag, rest, more = strings.Cut(rest, " ")
		if flag == "" {
			return "empty flag name (double or edge space)"
		}
		if strings.EqualFold(flag, `\Recent`) {
			return `\Recent is not permitted (RFC 5423 §4.2)`
		}
		if !validFlag(flag) {
			return fmt.Sprintf("%q is not an IMAP flag or keyword", flag)
		}
	}
	return ""
}

// validFlag reports whether flag is "\" atom or atom (RFC 3501 §9).
func validFlag(flag string) bool {
	atom := strings.TrimPrefix(flag, `\`)
	if atom == "" {
		return false
	}
	for i := 0; i < len(atom); i++ {
		if !atomByte[atom[i]] {
			return false
		}
	}
	return true
}

// atomByte marks the bytes of an RFC 3501 atom: printable ASCII other than
// atom-specials.
var atomByte = func() (t [256]bool) {
	for c := '!'; c < 0x7f; c++ {
		t[c] = !strings.ContainsRune(`(){%*"\]`, c)
	}
	return t
}()

// Gaps lists the RFC 5423 requirements the event cannot meet because its
// evidence lacks the facts: today, the UIDVALIDITY that §4.1 requires for
// MessageNew, MessageExpunge and MessageExpire.
func (e *Event) Gaps() []string {
	switch e.Type {
	case MessageNew, MessageExpunge, MessageExpire:
	default:
		return nil
	}
	u, err := ParseURL(e.GetString(URI))
	if err == nil && u.UIDValidity != 0 {
		return nil
	}
	return []string{"uri lacks UIDVALIDITY (RFC 5423 §4.1 MUST)"}
}
