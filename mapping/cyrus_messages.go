package mapping

import (
	"slices"
	"strconv"
	"strings"

	"github.com/mailevents/mailevents/event"
	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/parsers/cyrus"
)

// cyMailbox converts the mailbox name in field key to the owner's namespace.
func cyMailbox(rec *parsers.Record, key string) (cyrus.Mailbox, string, error) {
	name, _ := rec.Get(key)
	var m cyrus.Mailbox
	ok := false
	if v, _ := rec.Get(cyrus.FieldNames); v == "external" {
		m, ok = cyrus.ParseExternalMailbox(name)
	} else {
		m, ok = cyrus.ParseInternalMailbox(name)
	}
	if !ok {
		return m, name, cyUnmapped("mailbox name %q", name)
	}
	return m, name, nil
}

// boxParams fills the parameters every mailbox and message event shares:
// the user (the owner; the session's user for a shared mailbox) and the
// admin acting on someone else's mailbox.
func (c *Cyrus) boxParams(rec *parsers.Record, m cyrus.Mailbox) (cyParams, string) {
	s, _ := c.session(rec)
	p := cyParams{user: m.Owner}
	if p.user == "" {
		p.user = s.user
	}
	if s.user != "" && s.user != p.user {
		p.admin = s.user
	}
	return p, p.user
}

// boxURL is the URL of a mailbox with the UIDVALIDITY its create line
// gave, when it was seen.
func (c *Cyrus) boxURL(rec *parsers.Record, user string, m cyrus.Mailbox, internal string, uid uint32) event.URL {
	u := event.URL{User: user, Host: c.host(rec), Mailbox: m.Name, UID: uid}
	u.UIDValidity, _ = c.uidvalidity.get(cyBoxKey{rec.Host, internal})
	return u
}

func cyNumber(rec *parsers.Record, key string) int64 {
	v, _ := rec.Get(key)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

func cyUID(rec *parsers.Record) uint32 {
	v, _ := rec.Get("uid")
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return 0
	}
	return uint32(n)
}

// seenPair reports whether the other line of a pair (see Cyrus.pending)
// was already mapped; otherwise it remembers this one.
func (c *Cyrus) seenPair(k cyPendingKey, audit bool) bool {
	if first, ok := c.pending.get(k); ok && first != audit {
		c.pending.del(k)
		return true
	}
	c.pending.put(k, audit)
	return false
}

// appended maps auditlog append (MessageNew from lmtpd, MessageAppend from
// a client) and lmtpd's Delivered: line, which repeats the delivery.
func (c *Cyrus) appended(dst []event.Event, rec *parsers.Record) ([]event.Event, error) {
	m, internal, err := cyMailbox(rec, "mailbox")
	if err != nil {
		return dst, err
	}
	msgid, _ := rec.Get("messageid")
	if msgid == "<>" || msgid == "<NIL>" {
		msgid = ""
	}
	t := event.MessageAppend
	audit := rec.Action == cyrus.ActionAppend
	if !audit || cyIsDelivery(rec.Process) {
		t = event.MessageNew
		k := cyPendingKey{host: rec.Host, pid: rec.PID, kind: "deliver", box: internal, extra: msgid}
		if c.seenPair(k, audit) {
			return dst, nil
		}
	}
	p, user := c.boxParams(rec, m)
	uid := cyUID(rec)
	p.uri = event.URLValue(c.boxURL(rec, user, m, internal, uid))
	if uid != 0 {
		p.uidset = event.UIDValue(uid)
	}
	p.modseq = cyNumber(rec, "modseq")
	p.size = cyNumber(rec, "size")
	p.msgid = msgid
	sys, _ := rec.Get("sysflags")
	flags, _ := cyFlags(sys)
	p.flags = strings.Join(flags, " ")
	return append(dst, c.emit(t, rec, &p)), nil
}

// changed maps auditlog expunge and touched (a flag change: the line
// gives the flags before and after).
func (c *Cyrus) changed(dst []event.Event, rec *parsers.Record) ([]event.Event, error) {
	m, internal, err := cyMailbox(rec, "mailbox")
	if err != nil {
		return dst, err
	}
	uid := cyUID(rec)
	if uid == 0 {
		return dst, cyUnmapped("%s without uid", rec.Action)
	}
	p, user := c.boxParams(rec, m)
	p.uri = event.URLValue(c.boxURL(rec, user, m, internal, uid))
	p.uidset = event.UIDValue(uid)
	p.modseq = cyNumber(rec, "modseq")
	// cyr_expire 3.6 marks an expired message with a touched line setting
	// EX and writes no expunge line; should one follow anyway, the pair
	// is one MessageExpire.
	expiry := cyIsExpiry(rec.Process)
	expKey := cyPendingKey{host: rec.Host, pid: rec.PID, kind: "expire", box: internal, extra: strconv.FormatUint(uint64(uid), 10)}
	if rec.Action == cyrus.ActionExpunge {
		t := event.MessageExpunge
		if expiry {
			t = event.MessageExpire
			if c.seenPair(expKey, true) {
				return dst, nil
			}
		}
		p.size = cyNumber(rec, "size")
		return append(dst, c.emit(t, rec, &p)), nil
	}
	oldText, _ := rec.Get("oldflags")
	newText, _ := rec.Get("sysflags")
	before, wasGone := cyFlags(oldText)
	after, gone := cyFlags(newText)
	if gone && !wasGone {
		if expiry && !c.seenPair(expKey, false) {
			return append(dst, c.emit(event.MessageExpire, rec, &p)), nil
		}
		// Marked expunged: the expunge line that follows is the event,
		// whatever else changed with it (pop3d's DELE sets \Deleted too).
		return dst, nil
	}
	var set, cleared []string
	for _, f := range after {
		if !slices.Contains(before, f) {
			set = append(set, f)
		}
	}
	for _, f := range before {
		if !slices.Contains(after, f) {
			cleared = append(cleared, f)
		}
	}
	if !c.opts.PlainFlagsSet {
		for _, sp := range [...]struct {
			flag string
			t    event.Type
		}{{`\Seen`, event.MessageRead}, {`\Deleted`, event.MessageTrash}} {
			if i := slices.Index(set, sp.flag); i >= 0 {
				set = slices.Delete(set, i, i+1)
				dst = append(dst, c.emit(sp.t, rec, &p))
			}
		}
	}
	if len(set) > 0 {
		p.flags = strings.Join(set, " ")
		dst = append(dst, c.emit(event.FlagsSet, rec, &p))
	}
	if len(cleared) > 0 {
		p.flags = strings.Join(cleared, " ")
		dst = append(dst, c.emit(event.FlagsClear, rec, &p))
	}
	return dst, nil
}

// cyFlagLetters are the system flags as 3.x's auditlog writes them.
var cyFlagLetters = map[string]string{
	"AN": `\Answered`, "FL": `\Flagged`, "DE": `\Deleted`, "DR": `\Draft`, "SE": `\Seen`,
}

// cyFlags reads sysflags: "DE|SE|EX" (3.x) or the numeric bits of 3.0.
// EX (expunged) and Cyrus's other internal marks are not IMAP flags; gone
// reports EX. The flags come sorted.
func cyFlags(s string) (flags []string, gone bool) {
	if parsers.IsDigits(s) {
		n, _ := strconv.ParseUint(s, 10, 64)
		for bit, f := range [...]string{`\Answered`, `\Flagged`, `\Deleted`, `\Draft`, `\Seen`} {
			if n&(1<<bit) != 0 {
				flags = append(flags, f)
			}
		}
		slices.Sort(flags)
		return flags, n&(1<<31) != 0
	}
	for tok := range strings.FieldsFuncSeq(s, func(r rune) bool { return r == '|' || r == ' ' }) {
		if f, ok := cyFlagLetters[tok]; ok && !slices.Contains(flags, f) {
			flags = append(flags, f)
		}
		gone = gone || tok == "EX"
	}
	slices.Sort(flags)
	return flags, gone
}
