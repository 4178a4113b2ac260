package mapping

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/mailevents/mailevents/event"
	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/parsers/dovecotpush"
)

// Vendor parameters of the dovecot-push mapping besides those it shares with
// the Dovecot log mapping (msgid, from, subject).
const (
	dpTo event.Param = "vnd.mailevents.to"
)

// DovecotPushOptions configures the mapper of parsers/dovecotpush.
type DovecotPushOptions struct {
	// ServerHost names the server in URLs; "" means "localhost".
	ServerHost string
	// PlainFlagsSet keeps \Seen and \Deleted in FlagsSet and drops Dovecot's
	// MessageRead and MessageTrash, instead of the default: MessageRead and
	// MessageTrash, with those two flags left out of FlagsSet (RFC 5423 §4.2
	// lets a server do either; Dovecot reports both).
	PlainFlagsSet bool
}

// DovecotPush maps the Records of parsers/dovecotpush. It keeps no state:
// every line carries what its events need.
type DovecotPush struct {
	opts DovecotPushOptions
}

// NewDovecotPush returns the mapper.
func NewDovecotPush(opts DovecotPushOptions) *DovecotPush {
	if opts.ServerHost == "" {
		opts.ServerHost = "localhost"
	}
	return &DovecotPush{opts: opts}
}

// Map implements Mapper.
func (d *DovecotPush) Map(dst []event.Event, rec *parsers.Record) ([]event.Event, error) {
	box, _ := rec.Get(dovecotpush.FieldMailbox)
	mbox := event.URL{User: rec.User, Host: d.opts.ServerHost, Mailbox: box, UIDValidity: dpNumber(rec, dovecotpush.FieldUIDValidity)}
	msg := mbox
	msg.UID = dpNumber(rec, dovecotpush.FieldUID)

	var e event.Event
	switch rec.Action {
	case dovecotpush.ActionMessageNew, dovecotpush.ActionMessageAppend:
		t := event.MessageAppend
		if rec.Action == dovecotpush.ActionMessageNew {
			t = event.MessageNew
		}
		e = d.message(t, rec, msg)
		if fl := dpFlags(rec, dovecotpush.FieldFlags, dovecotpush.FieldKeywords, false); fl != nil {
			e.SetFlags(fl)
		}
		for _, kp := range [...]struct {
			k string
			p event.Param
		}{{dovecotpush.FieldMessageID, dcMsgID}, {dovecotpush.FieldFrom, dcFrom}, {dovecotpush.FieldTo, dpTo}, {dovecotpush.FieldSubject, dcSubject}} {
			v, _ := rec.Get(kp.k)
			e.SetString(kp.p, v)
		}
	case dovecotpush.ActionMessageExpunge:
		e = d.message(event.MessageExpunge, rec, msg)
	case dovecotpush.ActionMessageRead, dovecotpush.ActionMessageTrash:
		if d.opts.PlainFlagsSet {
			return dst, nil // the FlagsSet of the same change names the flag
		}
		t := event.MessageRead
		if rec.Action == dovecotpush.ActionMessageTrash {
			t = event.MessageTrash
		}
		e = d.message(t, rec, msg)
	case dovecotpush.ActionFlagsSet, dovecotpush.ActionFlagsClear:
		t, dropSpecial := event.FlagsSet, !d.opts.PlainFlagsSet
		if rec.Action == dovecotpush.ActionFlagsClear {
			t, dropSpecial = event.FlagsClear, false
		}
		fl := dpFlags(rec, dovecotpush.FieldFlags, dovecotpush.FieldKeywords, dropSpecial)
		if fl == nil {
			return dst, nil // only \Seen or \Deleted: MessageRead/MessageTrash tell it
		}
		e = d.message(t, rec, msg)
		e.SetFlags(fl)
	case dovecotpush.ActionMailboxCreate, dovecotpush.ActionMailboxDelete,
		dovecotpush.ActionMailboxSubscribe, dovecotpush.ActionMailboxUnsubscribe:
		e = event.New(dpMailboxType(rec.Action))
		d.common(&e, rec)
		e.SetURL(event.URI, mbox)
		e.SetURL(event.MailboxID, mbox)
	case dovecotpush.ActionMailboxRename:
		old, _ := rec.Get(dovecotpush.FieldMailboxOld)
		e = event.New(event.MailboxRename)
		d.common(&e, rec)
		e.SetURL(event.URI, mbox)
		e.SetURL(event.MailboxID, mbox)
		e.SetURL(event.OldMailboxID, event.URL{User: rec.User, Host: d.opts.ServerHost, Mailbox: old})
	default:
		return dst, fmt.Errorf("%w: dovecot push event %q", ErrUnmapped, rec.Action)
	}
	return append(dst, e), nil
}

// message starts an event about the message u names.
func (d *DovecotPush) message(t event.Type, rec *parsers.Record, u event.URL) event.Event {
	e := event.New(t)
	d.common(&e, rec)
	e.SetURL(event.URI, u)
	e.SetUIDSet(event.NewUIDSet(u.UID))
	return e
}

func (d *DovecotPush) common(e *event.Event, rec *parsers.Record) {
	if !rec.Time.IsZero() {
		e.SetTimestamp(rec.Time, rec.Precision)
	}
	e.SetString(event.Service, dcService(rec.Process))
	e.SetString(event.User, rec.User)
	e.SetString(event.Session, rec.Session)
}

// dpNumber reads a uint32 field; 0 when absent.
func dpNumber(rec *parsers.Record, key string) uint32 {
	v, _ := rec.Get(key)
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return 0
	}
	return uint32(n)
}

// dpFlags joins the flags and keywords fields into flagNames: never \Recent,
// nothing that is not an IMAP flag, and without \Seen and \Deleted when
// dropSpecial. nil when nothing is left.
func dpFlags(rec *parsers.Record, flagsKey, keywordsKey string, dropSpecial bool) []string {
	flags, _ := rec.Get(flagsKey)
	keywords, _ := rec.Get(keywordsKey)
	var out []string
	for _, f := range dcFlagList(flags + " " + keywords) {
		if dropSpecial && (strings.EqualFold(f, `\Seen`) || strings.EqualFold(f, `\Deleted`)) {
			continue
		}
		out = append(out, f)
	}
	return slices.Clip(out)
}

// dpMailboxType is the RFC 5423 type of a mailbox event; RFC 5423 spells
// Dovecot's MailboxUnsubscribe with a capital S.
func dpMailboxType(action string) event.Type {
	switch action {
	case dovecotpush.ActionMailboxCreate:
		return event.MailboxCreate
	case dovecotpush.ActionMailboxDelete:
		return event.MailboxDelete
	case dovecotpush.ActionMailboxSubscribe:
		return event.MailboxSubscribe
	}
	return event.MailboxUnSubscribe
}
