package event

import "strings"

// Type is an event type name, spelled as RFC 5423 §4 does, or a vendor
// extension beginning with "vnd." (RFC 5423 §6).
type Type string

// The 18 event types of RFC 5423 §4.
const (
	MessageAppend      Type = "MessageAppend"
	MessageExpire      Type = "MessageExpire"
	MessageExpunge     Type = "MessageExpunge"
	MessageNew         Type = "MessageNew"
	QuotaExceed        Type = "QuotaExceed"
	QuotaWithin        Type = "QuotaWithin"
	QuotaChange        Type = "QuotaChange"
	MessageRead        Type = "MessageRead"
	MessageTrash       Type = "MessageTrash"
	FlagsSet           Type = "FlagsSet"
	FlagsClear         Type = "FlagsClear"
	Login              Type = "Login"
	Logout             Type = "Logout"
	MailboxCreate      Type = "MailboxCreate"
	MailboxDelete      Type = "MailboxDelete"
	MailboxRename      Type = "MailboxRename"
	MailboxSubscribe   Type = "MailboxSubscribe"
	MailboxUnSubscribe Type = "MailboxUnSubscribe"
)

// Vendor event types of this project. RFC 5423 Appendix A names authentication
// failure as a future event; until it is registered it is a vnd. type.
const (
	LoginFailed Type = "vnd.mailevents.LoginFailed"
	// Seal is not an event of the message store: it is the signed
	// checkpoint record of a sealed output stream (package seal), written
	// through the same sink after the events it covers.
	Seal Type = "vnd.mailevents.Seal"
)

// RFCTypes lists the RFC 5423 event types in the RFC's order.
var RFCTypes = []Type{
	MessageAppend, MessageExpire, MessageExpunge, MessageNew,
	QuotaExceed, QuotaWithin, QuotaChange,
	MessageRead, MessageTrash, FlagsSet, FlagsClear,
	Login, Logout,
	MailboxCreate, MailboxDelete, MailboxRename, MailboxSubscribe, MailboxUnSubscribe,
}

// Group is a set of related event types that a subscriber turns on or off as a
// whole (RFC 5423 §3). The names are those of Cyrus IMAP's event_groups option.
type Group string

// Event groups, named as Cyrus's imapd.conf event_groups.
const (
	GroupMessage      Group = "message"
	GroupQuota        Group = "quota"
	GroupFlags        Group = "flags"
	GroupAccess       Group = "access"
	GroupMailbox      Group = "mailbox"
	GroupSubscription Group = "subscription"
)

// Groups lists every group.
var Groups = []Group{GroupMessage, GroupQuota, GroupFlags, GroupAccess, GroupMailbox, GroupSubscription}

// IsRFC reports whether t is one of the 18 RFC 5423 types.
func (t Type) IsRFC() bool {
	switch t {
	case MessageAppend, MessageExpire, MessageExpunge, MessageNew,
		QuotaExceed, QuotaWithin, QuotaChange,
		MessageRead, MessageTrash, FlagsSet, FlagsClear,
		Login, Logout,
		MailboxCreate, MailboxDelete, MailboxRename, MailboxSubscribe, MailboxUnSubscribe:
		return true
	}
	return false
}

// IsVendor reports whether t is a well-formed vendor extension type.
func (t Type) IsVendor() bool { return isVendorName(string(t)) }

// Group returns the group t belongs to, as Cyrus assigns them; vendor types
// belong to the group their RFC counterpart would (LoginFailed is access), and
// unknown vendor types to none ("").
func (t Type) Group() Group {
	switch t {
	case MessageAppend, MessageExpire, MessageExpunge, MessageNew:
		return GroupMessage
	case QuotaExceed, QuotaWithin, QuotaChange:
		return GroupQuota
	case MessageRead, MessageTrash, FlagsSet, FlagsClear:
		return GroupFlags
	case Login, Logout, LoginFailed:
		return GroupAccess
	case MailboxCreate, MailboxDelete, MailboxRename:
		return GroupMailbox
	case MailboxSubscribe, MailboxUnSubscribe:
		return GroupSubscription
	}
	return ""
}

// isVendorName reports whether name is "vnd." followed by at least one
// US-ASCII printable character and no space (RFC 5423 §3 restricts names to
// US-ASCII printable characters).
func isVendorName(name string) bool {
	rest, ok := strings.CutPrefix(name, "vnd.")
	if !ok || rest == "" {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if !vendorByte[rest[i]] {
			return false
		}
	}
	return true
}

// vendorByte marks the bytes a vendor name may hold after "vnd.": one table
// lookup per byte rather than four comparisons.
var vendorByte = func() (t [256]bool) {
	for c := '!'; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()
