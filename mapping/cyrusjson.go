package mapping

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mailevents/mailevents/event"
	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/parsers/cyrusjson"
)

// Parameters the Cyrus JSON mapping writes besides Cyrus's own.
const (
	// cjMailboxUniqueID keeps Cyrus 3's mailboxID, the mailbox's unique id
	// ("jfv9oadiu8ksmpnvlmgdtnv5"), which is not the IMAP URL RFC 5423
	// wants there; mailboxID then gets the mailbox's URL.
	cjMailboxUniqueID event.Param = "vnd.cmu.mailboxID"
	cjSessionID       event.Param = "vnd.cmu.sessionId"
	cjVendorPrefix                = "vnd.cmu."
)

// CyrusJSONOptions configures the mapper of parsers/cyrusjson. It has none
// yet: a Cyrus notification names its server itself.
type CyrusJSONOptions struct{}

// CyrusJSON maps the Records of parsers/cyrusjson. It keeps no state: every
// notification carries what its events need.
type CyrusJSON struct{}

// NewCyrusJSON returns the mapper.
func NewCyrusJSON(CyrusJSONOptions) *CyrusJSON { return &CyrusJSON{} }

// Map implements Mapper.
func (*CyrusJSON) Map(dst []event.Event, rec *parsers.Record) ([]event.Event, error) {
	var t event.Type
	switch rec.Action {
	case cyrusjson.ActionMessageCopy, cyrusjson.ActionMessageMove:
		t = event.MessageAppend
	default:
		t = event.Type(rec.Action)
		if !t.IsRFC() {
			return dst, fmt.Errorf("%w: Cyrus event %q", ErrUnmapped, rec.Action)
		}
	}
	e := event.New(t)
	if err := cjParams(&e, rec); err != nil {
		return dst, err
	}
	if t == event.FlagsSet || t == event.FlagsClear {
		if !e.Has(event.FlagNames) {
			return dst, nil // only \Recent changed: nothing an RFC event may say
		}
	}
	// A single-message URL names the message; uidset says it too, as the
	// other mappings do, so consumers need not parse URLs.
	if !e.Has(event.UIDSetParam) {
		if u, err := event.ParseURL(e.GetString(event.URI)); err == nil && u.UID != 0 {
			e.Set(event.UIDSetParam, event.UIDValue(u.UID))
		}
	}
	if _, ok := rec.Get("user"); ok {
		cjOwnerUser(&e)
	}
	if err := cjCheck(&e); err != nil {
		return dst, err
	}
	// vnd.cmu.MessageMove is only the append: Cyrus expunges the source
	// through index_expunge, which sends a MessageExpunge of its own (so
	// index_copy does since 2.5; seen on a real 3.6.1).
	return append(dst, e), nil
}

// cjOwnerUser makes user the owner of the mailbox the event is about, as
// the syslog mapping does: Cyrus names the session's user, so the admin
// creating user/alice is "user":"cyrus", while cyr_expire sends "user":"".
// The session's user, when someone else, becomes admin (RFC 5423 §5).
// Only for notifications that have a user key, as Cyrus's always do.
func cjOwnerUser(e *event.Event) {
	u, err := event.ParseURL(e.GetString(event.URI))
	if err != nil || u.User == "" || u.Mailbox == "" {
		return
	}
	cur := e.GetString(event.User)
	if cur == u.User {
		return
	}
	if cur != "" && !e.Has(event.Admin) {
		e.SetString(event.Admin, cur)
	}
	e.SetString(event.User, u.User)
}

// cjCheck validates a mapped event. The grammar checked the JSON types;
// what is left (a uidset or URL Cyrus should not have written) is the
// line's fault, so it is reported as malformed rather than as a mapper bug.
func cjCheck(e *event.Event) error {
	if err := e.Validate(); err != nil {
		return parsers.Malformation("invalid parameter value", err.Error())
	}
	return nil
}

// cjParams copies the notification's keys into e, normalised to the
// output format.
func cjParams(e *event.Event, rec *parsers.Record) error {
	if !rec.Time.IsZero() {
		e.SetTimestamp(rec.Time, rec.Precision)
	}
	var uniqueID string
	for _, f := range rec.Fields {
		p := event.Param(f.Key)
		switch {
		case f.Key == "event" || p == event.Timestamp || f.Value == "null":
		case strings.HasPrefix(f.Key, "vnd.mailevents."):
			// The pipeline writes these; a Cyrus line cannot set them.
		case p == event.URI || p == event.MailboxID || p == event.OldMailboxID:
			s, ok := cjString(f.Value)
			u, err := event.ParseURL(s)
			if !ok || err != nil {
				if p == event.MailboxID && ok {
					uniqueID = s // Cyrus 3: the mailbox's unique id
					continue
				}
				return parsers.Malformation("invalid IMAP URL", f.Key)
			}
			e.Set(p, event.URLValue(cjOwnerView(u)))
		case p == event.FlagNames:
			s, _ := cjString(f.Value)
			var flags []string
			for fl := range strings.FieldsSeq(s) {
				if !strings.EqualFold(fl, `\Recent`) {
					flags = append(flags, cjSystemFlag(fl))
				}
			}
			e.SetFlags(flags)
		case p == event.MessageContent && f.Value[0] != '"':
			// Kolab's builds send an object keyed by UID; RFC 5423's
			// messageContent is the message text, so it moves under vnd.cmu.
			if err := cjSetRaw(e, cjVendorPrefix+"messageContent", f.Value); err != nil {
				return err
			}
		case p.IsRFC():
			if err := cjSetRaw(e, p, f.Value); err != nil {
				return err
			}
		case p.IsVendor():
			if err := cjSetRaw(e, p, f.Value); err != nil {
				return err
			}
			if p == cjSessionID {
				s, _ := cjString(f.Value)
				e.SetString(event.Session, s)
			}
		default:
			// Keys Cyrus (or a fork) adds without a vnd. prefix, such as
			// Kolab's messageHeaders: Cyrus's extensions, so vnd.cmu.
			if err := cjSetRaw(e, event.Param(cjVendorPrefix+f.Key), f.Value); err != nil {
				return err
			}
		}
	}
	if uniqueID != "" {
		// RFC 5423: mailboxID is the mailbox's URL, i.e. uri without a UID.
		e.SetString(cjMailboxUniqueID, uniqueID)
		if u, err := event.ParseURL(e.GetString(event.URI)); err == nil && u.Mailbox != "" {
			u.UID = 0
			e.Set(event.MailboxID, event.URLValue(u))
		}
	}
	return nil
}

// cjSystemFlags are RFC 3501's system flags in their usual spelling: Cyrus
// 3.6 writes an APPEND's "\\flagged" in lower case.
var cjSystemFlags = [...]string{`\Answered`, `\Flagged`, `\Deleted`, `\Seen`, `\Draft`}

// cjSystemFlag spells a system flag as RFC 3501 does (flags are case
// insensitive); keywords are left as they are.
func cjSystemFlag(f string) string {
	if strings.HasPrefix(f, `\`) {
		for _, s := range cjSystemFlags {
			if strings.EqualFold(f, s) {
				return s
			}
		}
	}
	return f
}

// cjSetRaw sets p from a raw JSON value: strings and integers as such (an
// empty string drops the parameter, as Cyrus's "user":"" on MailboxModseq
// says nothing), anything else as JSON.
func cjSetRaw(e *event.Event, p event.Param, raw string) error {
	if s, ok := cjString(raw); ok {
		e.SetString(p, s)
		return nil
	}
	var n json.Number
	if json.Unmarshal([]byte(raw), &n) == nil {
		if i, err := n.Int64(); err == nil {
			e.SetInt(p, i)
			return nil
		}
	}
	switch raw {
	case "true", "false":
		e.Set(p, event.Bool(raw == "true"))
		return nil
	}
	v, err := event.RawJSON([]byte(raw))
	if err != nil {
		return parsers.Malformation("invalid JSON value", string(p))
	}
	e.Set(p, v)
	return nil
}

func cjString(raw string) (string, bool) {
	if raw == "" || raw[0] != '"' {
		return "", false
	}
	var s string
	if json.Unmarshal([]byte(raw), &s) != nil {
		return "", false
	}
	return s, true
}

// cjOwnerView puts a mailbox Cyrus names as an administrator would
// ("user/alice/Work", "user.alice.Work", with virtual domains
// "user/alice/Work@example.org") into its owner's namespace ("Work", and
// "INBOX" for "user/alice"), with the owner as the URL's user. Cyrus 3 writes
// every URL that way and without a user; the output format promises the
// user's own namespace. A URL whose user is someone else (an admin or a
// sharer looking at another user's mailbox) is left as it is.
func cjOwnerView(u event.URL) event.URL {
	var sep byte
	switch {
	case strings.HasPrefix(u.Mailbox, "user/"):
		sep = '/'
	case strings.HasPrefix(u.Mailbox, "user."):
		sep = '.'
	default:
		return u
	}
	rest, domain := u.Mailbox[len("user/"):], ""
	if i := strings.LastIndexByte(rest, '@'); i >= 0 && strings.IndexByte(rest[i:], sep) < 0 {
		rest, domain = rest[:i], rest[i+1:]
	}
	owner, sub, _ := strings.Cut(rest, string(sep))
	if sep == '.' {
		owner = strings.ReplaceAll(owner, "^", ".") // Cyrus's escape of "." in a name
	}
	if domain != "" {
		owner += "@" + domain
	}
	if owner == "" || (u.User != "" && u.User != owner) {
		return u
	}
	u.User = owner
	u.Mailbox = sub
	if sub == "" {
		u.Mailbox = "INBOX"
	}
	return u
}
