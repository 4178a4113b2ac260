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
func dcFlagList(s string) []string { return dcAppendFlags(nil, s) }

// dcAppendFlags appends dcFlagList(s) to dst, sorted.
func dcAppendFlags(dst []string, s string) []string {
	n := len(dst)
	for f := range strings.FieldsSeq(s) {
		if strings.EqualFold(f, `\Recent`) || !dcIsFlag(f) || slices.Contains(dst[n:], f) {
			continue
		}
		dst = append(dst, f)
	}
	slices.Sort(dst[n:])
	return dst
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

// dcFlags is dcFlagList joined by spaces, the form of flagNames and of the
// flag state. The line's own text is returned when it already is in that
// form, as it mostly is, so that normalising allocates nothing.
func dcFlags(s string) string {
	if dcFlagsNormal(s) {
		return s
	}
	var buf [16]string // on the stack: only the joined string is allocated
	return strings.Join(dcAppendFlags(buf[:0], s), " ")
}

// dcFlagsNormal reports whether s is what dcFlags would make of it: flags
// that dcFlagList keeps, separated by single spaces, strictly increasing
// (so sorted and without repeats).
func dcFlagsNormal(s string) bool {
	prev := ""
	for s != "" {
		f, rest, more := strings.Cut(s, " ")
		if f <= prev || (more && rest == "") || strings.EqualFold(f, `\Recent`) || !dcIsFlag(f) {
			return false
		}
		prev, s = f, rest
	}
	return true
}

// dcHasFlag reports whether the normalised flags list holds flag.
func dcHasFlag(list, flag string) bool {
	for list != "" {
		f, rest, _ := strings.Cut(list, " ")
		if f == flag {
			return true
		}
		list = rest
	}
	return false
}

// dcFlagDiff appends to set the flags of a that b lacks.
func dcFlagDiff(set []string, a, b string) []string {
	for a != "" {
		f, rest, _ := strings.Cut(a, " ")
		if !dcHasFlag(b, f) {
			set = append(set, f)
		}
		a = rest
	}
	return set
}

// appended maps mail_log save and copy.
func (d *Dovecot) appended(dst []event.Event, rec *parsers.Record) ([]event.Event, error) {
	box, _ := rec.Get("box")
	if box == "" {
		return dst, dcUnmapped("%s without box", rec.Action)
	}
	uid := dcUID(rec)
	flagsText, hasFlags := rec.Get("flags")
	flags := dcFlags(flagsText)
	if hasFlags && uid != 0 {
		d.flags.put(d.msgKey(rec.User, box, uid), d.kept.get(flags))
	}
	t := event.MessageAppend
	if rec.Action == dovecot.ActionSave && dcIsDelivery(rec.Process) {
		t = event.MessageNew
		msgid, _ := rec.Get("msgid")
		if d.seenDelivery(rec, box, msgid, true) {
			return dst, nil
		}
	}
	p := dcParams{sess: d.sessionOf(rec), flags: flags}
	h := d.host(rec)
	if src, _ := rec.Get("srcbox"); src != "" {
		p.oldMailboxID = event.URLValue(event.URL{User: rec.User, Host: h, Mailbox: src})
	}
	p.uri = event.URLValue(event.URL{User: rec.User, Host: h, Mailbox: box, UID: uid})
	if uid != 0 {
		p.uidset = event.UIDValue(uid)
	}
	dcMessageFacts(&p, rec)
	return append(dst, d.emit(t, rec, &p)), nil
}

// delivered maps LDA/LMTP "saved mail to" and sieve "stored mail into".
func (d *Dovecot) delivered(dst []event.Event, rec *parsers.Record) []event.Event {
	box, _ := rec.Get("mailbox")
	msgid, _ := rec.Get("msgid")
	if d.seenDelivery(rec, box, msgid, false) {
		return dst
	}
	p := dcParams{sess: d.sessionOf(rec), msgid: msgid}
	p.uri = event.URLValue(event.URL{User: rec.User, Host: d.host(rec), Mailbox: box})
	return append(dst, d.emit(event.MessageNew, rec, &p))
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
	k = dcDeliveryKey{d.kept.get(k.user), strings.Clone(k.session), d.kept.get(k.box)}
	d.pending.put(k, dcPendingDelivery{fromMailLog: fromMailLog, msgid: strings.Clone(msgid)})
	return false
}

// changed maps the mail_log lines about an existing message. Its events
// share all parameters but flagNames, gathered once in p.
func (d *Dovecot) changed(dst []event.Event, rec *parsers.Record) ([]event.Event, error) {
	box, _ := rec.Get("box")
	uid := dcUID(rec)
	if box == "" || uid == 0 {
		return dst, dcUnmapped("%s without box and uid", rec.Action)
	}
	key := dcMsgKey{rec.User, box, uid}
	p := dcParams{sess: d.sessionOf(rec), uidset: event.UIDValue(uid)}
	p.uri = event.URLValue(event.URL{User: rec.User, Host: d.host(rec), Mailbox: box, UID: uid})
	dcMessageFacts(&p, rec)
	mk := func(t event.Type, flags string) event.Event {
		p.flags = flags
		return d.emit(t, rec, &p)
	}
	flagsText, hasFlags := rec.Get("flags")
	switch rec.Action {
	case dovecot.ActionExpunge, dovecot.ActionAutoexpunge:
		d.flags.del(key)
		t := event.MessageExpunge
		if rec.Action == dovecot.ActionAutoexpunge {
			t = event.MessageExpire
		}
		return append(dst, mk(t, "")), nil
	case dovecot.ActionDelete:
		d.updateFlags(key, hasFlags, flagsText, `\Deleted`, true)
		if d.opts.PlainFlagsSet {
			return append(dst, mk(event.FlagsSet, `\Deleted`)), nil
		}
		return append(dst, mk(event.MessageTrash, "")), nil
	case dovecot.ActionUndelete:
		d.updateFlags(key, hasFlags, flagsText, `\Deleted`, false)
		return append(dst, mk(event.FlagsClear, `\Deleted`)), nil
	}
	// flag_change: the line shows the resulting flags, not the change.
	if !hasFlags {
		return dst, dcUnmapped("flag_change without the flags field")
	}
	now := dcFlags(flagsText)
	before, known := d.flags.swap(d.msgKey(key.user, key.box, key.uid), d.kept.get(now))
	if !known {
		if now == "" {
			return dst, nil
		}
		p.flagsState = DovecotFlagsStateUnknownBefore
		return append(dst, mk(event.FlagsSet, now)), nil
	}
	// Both lists are sorted, so set and cleared are too. Stack arrays hold
	// them: a message rarely has more than a few flags.
	var setBuf, clearedBuf [8]string
	set := dcFlagDiff(setBuf[:0], now, before)
	cleared := dcFlagDiff(clearedBuf[:0], before, now)
	if !d.opts.PlainFlagsSet {
		// RFC 5423 §4.2: \Seen set is MessageRead, \Deleted set is
		// MessageTrash; those flags then leave the FlagsSet.
		for _, special := range [...]struct {
			flag string
			t    event.Type
		}{{`\Seen`, event.MessageRead}, {`\Deleted`, event.MessageTrash}} {
			if i := slices.Index(set, special.flag); i >= 0 {
				set = slices.Delete(set, i, i+1)
				dst = append(dst, mk(special.t, ""))
			}
		}
	}
	if len(set) > 0 {
		dst = append(dst, mk(event.FlagsSet, strings.Join(set, " ")))
	}
	if len(cleared) > 0 {
		dst = append(dst, mk(event.FlagsClear, strings.Join(cleared, " ")))
	}
	return dst, nil
}

// updateFlags records a \Deleted change: the full flags when the line has
// them, else the one flag applied to what was known.
func (d *Dovecot) updateFlags(key dcMsgKey, hasFlags bool, flagsText, flag string, set bool) {
	if hasFlags {
		d.flags.put(d.msgKey(key.user, key.box, key.uid), d.kept.get(dcFlags(flagsText)))
		return
	}
	before, ok := d.flags.get(key)
	if !ok {
		return
	}
	var buf [8]string
	after := buf[:0]
	for before != "" {
		f, rest, _ := strings.Cut(before, " ")
		if f != flag {
			after = append(after, f)
		}
		before = rest
	}
	if set {
		after = append(after, flag)
		slices.Sort(after)
	}
	d.flags.put(d.msgKey(key.user, key.box, key.uid), d.kept.get(strings.Join(after, " ")))
}
