package mapping

import (
	"slices"
	"strconv"
	"strings"

	"github.com/mailevents/mailevents/event"
	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/parsers/dovecot"
)

// dcIsDelivery reports the processes whose saves are new mail rather than a
// client's APPEND.
func dcIsDelivery(process string) bool {
	switch process {
	case "lmtp", "lda", "deliver", "dovecot-lda":
		return true
	}
	return false
}

// dcUID returns the uid field; 0 when absent or "error" (the UID could
// not be assigned).
func dcUID(rec *parsers.Record) uint32 {
	v, _ := rec.Get("uid")
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return 0
	}
	return uint32(n)
}

// dcFlagList splits flags=(…) into the flags an event may name: \Recent is
// session state that RFC 5423 §4.2 forbids, and anything that is not an
// IMAP atom cannot be a flag.
func dcFlagList(s string) []string {
	var out []string
	for f := range strings.FieldsSeq(s) {
		if strings.EqualFold(f, `\Recent`) || !dcIsFlag(f) || slices.Contains(out, f) {
			continue
		}
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

func dcIsFlag(f string) bool {
	atom := strings.TrimPrefix(f, `\`)
	if atom == "" {
		return false
	}
	for i := 0; i < len(atom); i++ {
		if c := atom[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`(){%*"\]`, c) >= 0 {
			return false
		}
	}
	return true
}

// dcMessageFacts sets what mail_log tells about a message.
func dcMessageFacts(e *event.Event, rec *parsers.Record) {
	size, _ := rec.Get("vsize")
	if size == "" || size == "error" {
		size, _ = rec.Get("size")
	}
	if n, err := strconv.ParseInt(size, 10, 64); err == nil {
		e.SetInt(event.MessageSize, n)
	}
	for _, kp := range [...]struct {
		k string
		p event.Param
	}{{"msgid", dcMsgID}, {"from", dcFrom}, {"subject", dcSubject}, {"truncated", dcTruncated}} {
		if v, _ := rec.Get(kp.k); v != "" {
			e.SetString(kp.p, v)
		}
	}
}

// appended maps mail_log save and copy.
func (d *Dovecot) appended(dst []event.Event, rec *parsers.Record) ([]event.Event, error) {
	box, _ := rec.Get("box")
	if box == "" {
		return dst, dcUnmapped("%s without box", rec.Action)
	}
	uid := dcUID(rec)
	flagsText, hasFlags := rec.Get("flags")
	if hasFlags && uid != 0 {
		d.flags.put(dcMsgKey{rec.User, box, uid}, dcFlagList(flagsText))
	}
	t := event.MessageAppend
	if rec.Action == dovecot.ActionSave && dcIsDelivery(rec.Process) {
		t = event.MessageNew
		msgid, _ := rec.Get("msgid")
		if d.seenDelivery(rec, box, msgid, true) {
			return dst, nil
		}
	}
	e := event.New(t)
	d.common(&e, rec)
	h := d.host(rec)
	e.SetURL(event.URI, event.URL{User: rec.User, Host: h, Mailbox: box, UID: uid})
	if uid != 0 {
		e.SetUIDSet(event.NewUIDSet(uid))
	}
	if src, _ := rec.Get("srcbox"); src != "" {
		e.SetURL(event.OldMailboxID, event.URL{User: rec.User, Host: h, Mailbox: src})
	}
	if fl := dcFlagList(flagsText); fl != nil {
		e.SetFlags(fl)
	}
	dcMessageFacts(&e, rec)
	return append(dst, e), nil
}

// delivered maps LDA/LMTP "saved mail to" and sieve "stored mail into".
func (d *Dovecot) delivered(dst []event.Event, rec *parsers.Record) []event.Event {
	box, _ := rec.Get("mailbox")
	msgid, _ := rec.Get("msgid")
	if d.seenDelivery(rec, box, msgid, false) {
		return dst
	}
	e := event.New(event.MessageNew)
	d.common(&e, rec)
	e.SetURL(event.URI, event.URL{User: rec.User, Host: d.host(rec), Mailbox: box})
	if msgid != "" {
		e.SetString(dcMsgID, msgid)
	}
	return append(dst, e)
}

// seenDelivery pairs the two lines one delivery may log (mail_log "save"
// and "saved mail to", in either order): the first is emitted and
// remembered, the second is dropped. Only lines of opposite kinds pair, so
// with mail_log off every "saved mail to" is emitted.
func (d *Dovecot) seenDelivery(rec *parsers.Record, box, msgid string, fromMailLog bool) bool {
	k := dcDeliveryKey{rec.User, rec.Session, box}
	if p, ok := d.pending.get(k); ok && p.fromMailLog != fromMailLog &&
		(p.msgid == "" || msgid == "" || p.msgid == msgid) {
		d.pending.del(k)
		return true
	}
	d.pending.put(k, dcPendingDelivery{fromMailLog: fromMailLog, msgid: msgid})
	return false
}

// changed maps the mail_log lines about an existing message.
func (d *Dovecot) changed(dst []event.Event, rec *parsers.Record) ([]event.Event, error) {
	box, _ := rec.Get("box")
	uid := dcUID(rec)
	if box == "" || uid == 0 {
		return dst, dcUnmapped("%s without box and uid", rec.Action)
	}
	key := dcMsgKey{rec.User, box, uid}
	msg := event.URL{User: rec.User, Host: d.host(rec), Mailbox: box, UID: uid}
	mk := func(t event.Type, flags []string) event.Event {
		e := event.New(t)
		d.common(&e, rec)
		e.SetURL(event.URI, msg)
		e.SetUIDSet(event.NewUIDSet(uid))
		if flags != nil {
			e.SetFlags(flags)
		}
		dcMessageFacts(&e, rec)
		return e
	}
	flagsText, hasFlags := rec.Get("flags")
	switch rec.Action {
	case dovecot.ActionExpunge, dovecot.ActionAutoexpunge:
		d.flags.del(key)
		t := event.MessageExpunge
		if rec.Action == dovecot.ActionAutoexpunge {
			t = event.MessageExpire
		}
		return append(dst, mk(t, nil)), nil
	case dovecot.ActionDelete:
		d.updateFlags(key, hasFlags, flagsText, `\Deleted`, true)
		if d.opts.PlainFlagsSet {
			return append(dst, mk(event.FlagsSet, []string{`\Deleted`})), nil
		}
		return append(dst, mk(event.MessageTrash, nil)), nil
	case dovecot.ActionUndelete:
		d.updateFlags(key, hasFlags, flagsText, `\Deleted`, false)
		return append(dst, mk(event.FlagsClear, []string{`\Deleted`})), nil
	}
	// flag_change: the line shows the resulting flags, not the change.
	if !hasFlags {
		return dst, dcUnmapped("flag_change without the flags field")
	}
	now := dcFlagList(flagsText)
	before, known := d.flags.get(key)
	d.flags.put(key, now)
	if !known {
		if len(now) == 0 {
			return dst, nil
		}
		e := mk(event.FlagsSet, now)
		e.SetString(dcFlagsState, DovecotFlagsStateUnknownBefore)
		return append(dst, e), nil
	}
	var set, cleared []string
	for _, f := range now {
		if !slices.Contains(before, f) {
			set = append(set, f)
		}
	}
	for _, f := range before {
		if !slices.Contains(now, f) {
			cleared = append(cleared, f)
		}
	}
	if !d.opts.PlainFlagsSet {
		// RFC 5423 §4.2: \Seen set is MessageRead, \Deleted set is
		// MessageTrash; those flags then leave the FlagsSet.
		for _, special := range [...]struct {
			flag string
			t    event.Type
		}{{`\Seen`, event.MessageRead}, {`\Deleted`, event.MessageTrash}} {
			if i := slices.Index(set, special.flag); i >= 0 {
				set = slices.Delete(set, i, i+1)
				dst = append(dst, mk(special.t, nil))
			}
		}
	}
	if len(set) > 0 {
		dst = append(dst, mk(event.FlagsSet, set))
	}
	if len(cleared) > 0 {
		dst = append(dst, mk(event.FlagsClear, cleared))
	}
	return dst, nil
}

// updateFlags records a \Deleted change: the full flags when the line has
// them, else the one flag applied to what was known.
func (d *Dovecot) updateFlags(key dcMsgKey, hasFlags bool, flagsText, flag string, set bool) {
	if hasFlags {
		d.flags.put(key, dcFlagList(flagsText))
		return
	}
	before, ok := d.flags.get(key)
	if !ok {
		return
	}
	after := slices.DeleteFunc(slices.Clone(before), func(f string) bool { return f == flag })
	if set {
		after = append(after, flag)
		slices.Sort(after)
	}
	d.flags.put(key, after)
}
