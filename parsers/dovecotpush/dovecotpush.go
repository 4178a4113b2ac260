// Package dovecotpush is the grammar of the JSON lines that
// packaging/dovecot/mailevents-push.lua writes from Dovecot's push_notification
// Lua driver: one line per native push-notification event, marked with
// "mailevents":"dovecot-push/1". Unlike Dovecot's logs, these lines carry
// UIDVALIDITY and mailbox (un)subscriptions; mapping/dovecotpush.go turns
// them into RFC 5423 events.
package dovecotpush

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/source"
)

// Format is the marker value of the lines this grammar reads.
const Format = "dovecot-push/1"

// markerKey is the key the Lua script writes first; a JSON object without
// it is someone else's line.
const markerKey = `"mailevents"`

// Native event names, as Dovecot's push_notification plugin spells them;
// they are the Records' actions.
const (
	ActionMessageNew         = "MessageNew"
	ActionMessageAppend      = "MessageAppend"
	ActionMessageExpunge     = "MessageExpunge"
	ActionMessageRead        = "MessageRead"
	ActionMessageTrash       = "MessageTrash"
	ActionFlagsSet           = "FlagsSet"
	ActionFlagsClear         = "FlagsClear"
	ActionMailboxCreate      = "MailboxCreate"
	ActionMailboxDelete      = "MailboxDelete"
	ActionMailboxRename      = "MailboxRename"
	ActionMailboxSubscribe   = "MailboxSubscribe"
	ActionMailboxUnsubscribe = "MailboxUnsubscribe" // RFC 5423 says MailboxUnSubscribe
)

// Record field keys. Lists (flags, keywords) are space-separated.
const (
	FieldMailbox     = "mailbox"
	FieldMailboxOld  = "mailbox_old"
	FieldUID         = "uid"
	FieldUIDValidity = "uid_validity"
	FieldFlags       = "flags"
	FieldKeywords    = "keywords"
	FieldFlagsOld    = "flags_old"
	FieldKeywordsOld = "keywords_old"
	FieldFrom        = "from"
	FieldTo          = "to"
	FieldSubject     = "subject"
	FieldMessageID   = "message_id"
	FieldDate        = "date"
	FieldSnippet     = "snippet"
)

// Reasons of the syntax errors (metrics labels: no values from the line).
const (
	reasonNotPush     = "not a dovecot-push line"
	reasonJSON        = "invalid JSON"
	reasonValue       = "invalid field value"
	reasonVersion     = "unsupported dovecot-push format"
	reasonMissing     = "missing field"
	reasonBadTime     = "invalid time"
	reasonBadUID      = "invalid uid"
	reasonBadFlagList = "invalid flag list"
)

// Grammar parses dovecot-push lines. It has no state.
type Grammar struct{}

// New returns the grammar.
func New() *Grammar { return &Grammar{} }

// Name implements parsers.Parser.
func (*Grammar) Name() string { return "dovecot-push" }

// Server implements parsers.Parser.
func (*Grammar) Server() string { return "dovecot" }

// line is what the Lua script writes. Numbers are uint32 where Dovecot's
// are, so that a negative or fractional value is a decoding error.
type line struct {
	Marker      *string  `json:"mailevents"`
	Time        string   `json:"time"`
	TimeDigits  int      `json:"time_digits"`
	Event       string   `json:"event"`
	User        string   `json:"user"`
	Service     string   `json:"service"`
	Session     string   `json:"session"`
	Mailbox     *string  `json:"mailbox"`
	MailboxOld  string   `json:"mailbox_old"`
	UID         uint32   `json:"uid"`
	UIDValidity uint32   `json:"uid_validity"`
	Flags       []string `json:"flags"`
	Keywords    []string `json:"keywords"`
	FlagsOld    []string `json:"flags_old"`
	KeywordsOld []string `json:"keywords_old"`
	From        string   `json:"from"`
	To          string   `json:"to"`
	Subject     string   `json:"subject"`
	MessageID   string   `json:"message_id"`
	Date        *int64   `json:"date"`
	Snippet     string   `json:"snippet"`
}

// isMessageEvent reports the events about one message (they carry a uid).
func isMessageEvent(name string) bool {
	switch name {
	case ActionMessageNew, ActionMessageAppend, ActionMessageExpunge, ActionMessageRead,
		ActionMessageTrash, ActionFlagsSet, ActionFlagsClear:
		return true
	}
	return false
}

// Parse implements parsers.Parser.
func (*Grammar) Parse(src source.Line) (parsers.Record, error) {
	text := bytes.TrimSpace(src.Text)
	if len(text) == 0 || text[0] != '{' || !bytes.Contains(text, []byte(markerKey)) {
		return parsers.Record{}, parsers.Unrecognised(reasonNotPush)
	}
	var l line
	if err := json.Unmarshal(text, &l); err != nil {
		if !json.Valid(text) {
			return parsers.Record{}, parsers.Malformation(reasonJSON, err.Error())
		}
		if l.Marker == nil || !strings.HasPrefix(*l.Marker, "dovecot-push/") {
			// Valid JSON of another shape that merely mentions the key.
			return parsers.Record{}, parsers.Unrecognised(reasonNotPush)
		}
		// A string where a number belongs, a negative uid, …
		return parsers.Record{}, parsers.Malformation(reasonValue, err.Error())
	}
	switch {
	case l.Marker == nil || !strings.HasPrefix(*l.Marker, "dovecot-push/"):
		return parsers.Record{}, parsers.Unrecognised(reasonNotPush)
	case *l.Marker != Format:
		return parsers.Record{}, parsers.Malformation(reasonVersion, *l.Marker)
	case l.Event == "":
		return parsers.Record{}, parsers.Malformation(reasonMissing, "event")
	case l.User == "":
		return parsers.Record{}, parsers.Malformation(reasonMissing, "user")
	case l.Mailbox == nil || *l.Mailbox == "":
		return parsers.Record{}, parsers.Malformation(reasonMissing, "mailbox")
	case isMessageEvent(l.Event) && l.UID == 0:
		return parsers.Record{}, parsers.Malformation(reasonBadUID, "uid missing or 0")
	case l.Event == ActionMailboxRename && l.MailboxOld == "":
		return parsers.Record{}, parsers.Malformation(reasonMissing, "mailbox_old")
	}
	rec := parsers.Record{
		Server:  "dovecot",
		Grammar: "dovecot-push",
		Action:  l.Event,
		Process: l.Service,
		User:    l.User,
		Session: l.Session,
		Pos:     src.Position,
	}
	if l.Time != "" {
		t, err := time.Parse(time.RFC3339Nano, l.Time)
		if err != nil || l.TimeDigits < 0 || l.TimeDigits > 9 {
			return parsers.Record{}, parsers.Malformation(reasonBadTime, l.Time)
		}
		rec.Time, rec.Precision = t, l.TimeDigits
	}
	rec.Add(FieldMailbox, *l.Mailbox)
	if l.MailboxOld != "" {
		rec.Add(FieldMailboxOld, l.MailboxOld)
	}
	if l.UID != 0 {
		rec.Add(FieldUID, strconv.FormatUint(uint64(l.UID), 10))
	}
	if l.UIDValidity != 0 {
		rec.Add(FieldUIDValidity, strconv.FormatUint(uint64(l.UIDValidity), 10))
	}
	for _, f := range [...]struct {
		key  string
		list []string
	}{{FieldFlags, l.Flags}, {FieldKeywords, l.Keywords}, {FieldFlagsOld, l.FlagsOld}, {FieldKeywordsOld, l.KeywordsOld}} {
		for _, v := range f.list {
			// Lists are joined with spaces: an element with a space (or
			// none at all) cannot be an IMAP flag.
			if v == "" || strings.ContainsAny(v, " \t\r\n") {
				return parsers.Record{}, parsers.Malformation(reasonBadFlagList, f.key)
			}
		}
		if len(f.list) > 0 {
			rec.Add(f.key, strings.Join(f.list, " "))
		}
	}
	// A flag change that neither set nor cleared anything but \Recent (the
	// driver reports FlagsClear for every change, cleared or not) is no event.
	if (l.Event == ActionFlagsSet || l.Event == ActionFlagsClear) && !hasFlag(l.Flags) && !hasFlag(l.Keywords) {
		return parsers.Record{}, parsers.ErrIgnored
	}
	for _, kv := range [...][2]string{
		{FieldFrom, l.From}, {FieldTo, l.To}, {FieldSubject, l.Subject},
		{FieldMessageID, l.MessageID}, {FieldSnippet, l.Snippet},
	} {
		if kv[1] != "" {
			rec.Add(kv[0], kv[1])
		}
	}
	if l.Date != nil {
		rec.Add(FieldDate, strconv.FormatInt(*l.Date, 10))
	}
	return rec, nil
}

// hasFlag reports whether list names a flag other than \Recent.
func hasFlag(list []string) bool {
	for _, f := range list {
		if !strings.EqualFold(f, `\Recent`) {
			return true
		}
	}
	return false
}
