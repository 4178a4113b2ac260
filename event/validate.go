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
	for _, f := range e.params {
		if f.rank == rankVendor {
			continue // Set checked the name; vendor values may be anything
		}
		if msg := checkParam(f.name, f.value); msg != "" {
			add("%s: %s", f.name, msg)
		}
	}
	if e.Type.IsRFC() && !e.Has(URI) {
		add("uri missing (RFC 5423 §5: included with all notifications)")
	}
	if uidsetRequired(e.Type) && !e.Has(UIDSetParam) {
		add("uidset missing (RFC 5423 §5: included with %s)", e.Type)
	}
	switch e.Type {
	case FlagsSet, FlagsClear:
		if !e.Has(FlagNames) {
			add("flagNames missing (RFC 5423 §4.2)")
		}
	case MailboxCreate, MailboxDelete:
		if !e.Has(MailboxID) {
			add("mailboxID missing (RFC 5423 §5: included in events that affect mailboxes)")
		}
	case MailboxRename:
		if !e.Has(MailboxID) || !e.Has(OldMailboxID) {
			add("MailboxRename needs mailboxID and oldMailboxID (RFC 5423 §4.4)")
		}
	}
	if problems != nil {
		return &ValidationError{Type: e.Type, Problems: problems}
	}
	return nil
}

// checkParam returns what is wrong with one parameter, or "".
func checkParam(p Param, v Value) string {
	if v.kind == KindInvalid {
		return "no value"
	}
	if !p.IsRFC() {
		if !p.IsVendor() {
			return "not an RFC 5423 parameter and not vnd."
		}
		return ""
	}
	if p.IsNumeric() {
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
	switch p {
	case URI, MailboxID, OldMailboxID:
		if _, err := ParseURL(v.str); err != nil {
			return err.Error()
		}
	case UIDSetParam:
		if _, err := ParseUIDSet(v.str); err != nil {
			return err.Error()
		}
	case FlagNames:
		return checkFlagNames(v.str)
	case Timestamp:
		if _, err := ParseTimestamp(v.str); err != nil {
			return "not an RFC 3339 timestamp"
		}
	case ClientIP:
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

// checkFlagNames checks a space-separated list of IMAP flags and keywords
// (RFC 3501 flag-list elements), which must not include \Recent.
func checkFlagNames(s string) string {
	if s == "" {
		return "empty"
	}
	for flag := range strings.SplitSeq(s, " ") {
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
		switch c := atom[i]; {
		case c <= ' ' || c >= 0x7f:
			return false
		case strings.IndexByte(`(){%*"\]`, c) >= 0:
			return false
		}
	}
	return true
}

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
