package cyrus

import (
	"strconv"
	"strings"

	"github.com/mailevents/mailevents/parsers"
)

// auditActions maps the prose auditlog action words to Record actions; ""
// marks actions known to evidence no RFC 5423 event.
var auditActions = map[string]string{
	"append": ActionAppend, "expunge": ActionExpunge, "touched": ActionTouched,
	"create": ActionCreate, "delete": ActionDelete, "rename": ActionRename,
	"setquota": ActionQuota, "newquota": ActionQuota, "rmquota": ActionQuota,
	"traffic": ActionTraffic,
	// The file of an expunged message removed from disk, the mailbox's
	// highest modseq, ACL changes, archiving, replication and sieve actions
	// on a delivery: no RFC 5423 event.
	"unlink": "", "unlinkarchive": "", "modseq": "", "acl": "", "archive": "",
	"unarchive": "", "partitionmove": "", "proxy": "", "duplicate": "", "redirect": "",
	"discard": "", "reject": "", "vacation": "", "sieve": "", "snooze": "", "unsnooze": "",
	"seen": "", "annotation": "",
}

// numericFields must hold decimal numbers (a negative one for quota limits).
func numericField(key string) bool {
	switch key {
	case "uid", "modseq", "size", "uidvalidity", "bytes_in", "bytes_out":
		return true
	}
	return false
}

// parseAuditlog reads "{action}[:] {key}=<{value}> …" (2.4–3.12).
func parseAuditlog(rec *parsers.Record, s string) error {
	word, rest, _ := strings.Cut(s, " ")
	word = strings.TrimSuffix(word, ":") // "acl:" has one
	action, known := auditActions[word]
	switch {
	case !known:
		return parsers.Unrecognised(reasonUnknown)
	case action == "":
		return parsers.ErrIgnored
	}
	rec.Action = action
	if action == ActionQuota {
		rec.Add("quota", word)
	}
	if err := parseAngleFields(rec, rest); err != nil {
		return err
	}
	return finishAudit(rec)
}

// finishAudit checks the numbers and lifts the session id out of the fields.
func finishAudit(rec *parsers.Record) error {
	for _, f := range rec.Fields {
		if numericField(f.Key) && !parsers.IsDigits(f.Value) {
			return parsers.Malformation(reasonBadNumber, f.Key+"="+f.Value)
		}
		if f.Key == "sessionid" && rec.Session == "" {
			rec.Session = f.Value
		}
	}
	switch rec.Action {
	case ActionAppend, ActionExpunge, ActionTouched:
		if v, _ := rec.Get("uid"); v == "" {
			return parsers.Malformation(reasonBadAuditlog, "no uid")
		}
		fallthrough
	case ActionCreate, ActionDelete:
		if v, _ := rec.Get("mailbox"); v == "" {
			return parsers.Malformation(reasonBadAuditlog, "no mailbox")
		}
	case ActionRename:
		if v, _ := rec.Get("newmailbox"); v == "" {
			return parsers.Malformation(reasonBadAuditlog, "no newmailbox")
		}
	}
	return nil
}

// parseAngleFields reads "{key}=<{value}> …". A value may hold spaces and
// even '>', so it ends at the first "> " followed by another "{key}=", or
// at the end. messageid= carries the message's own brackets, which are kept.
func parseAngleFields(rec *parsers.Record, s string) error {
	for s = strings.TrimLeft(s, " "); s != ""; s = strings.TrimLeft(s, " ") {
		n := keyLen(s)
		if n == 0 {
			return parsers.Malformation(reasonBadAuditlog, s)
		}
		key := s[:n]
		s = s[n+1:]
		var v string
		if strings.HasPrefix(s, "<") {
			end := angleEnd(s)
			if end < 0 {
				return parsers.Malformation(reasonBadAuditlog, s)
			}
			v, s = s[1:end], s[end+1:]
			if key == "messageid" || key == "message-id" {
				key, v = "messageid", "<"+v+">"
			}
		} else {
			v, s, _ = strings.Cut(s, " ")
		}
		rec.Add(key, v)
	}
	return nil
}

// keyLen returns the length of the "{key}" s starts with when "=" follows
// it, else 0.
func keyLen(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-', c == '.':
		case c == '=' && i > 0:
			return i
		default:
			return 0
		}
	}
	return 0
}

// angleEnd returns the index of the '>' that closes the value s starts
// with, or -1.
func angleEnd(s string) int {
	for i := 1; i < len(s); i++ {
		if s[i] != '>' {
			continue
		}
		after := s[i+1:]
		if strings.TrimLeft(after, " ") == "" {
			return i
		}
		if after[0] == ' ' && keyLen(strings.TrimLeft(after, " ")) > 0 {
			return i
		}
	}
	return -1
}

// parseDelivered reads lmtpd's delivery line: "{msgid} to mailbox: {box}"
// (2.4–3.8) or the key=value form of 3.10+.
func parseDelivered(rec *parsers.Record, s string) error {
	rec.Action = ActionDelivered
	if strings.HasPrefix(s, "sessionid=") {
		if err := parseAngleFields(rec, s); err != nil {
			return err
		}
		if err := finishAudit(rec); err != nil {
			return err
		}
		rec.User, _ = rec.Get("userid")
		if v, _ := rec.Get("mailbox"); v == "" {
			return parsers.Malformation(reasonBadLine, s)
		}
		return nil
	}
	i := strings.LastIndex(s, " to mailbox: ")
	if i < 0 {
		return parsers.Malformation(reasonBadLine, s)
	}
	box := s[i+len(" to mailbox: "):]
	if box == "" || strings.IndexByte(box, ' ') >= 0 {
		return parsers.Malformation(reasonBadLine, s)
	}
	rec.Add("messageid", s[:i])
	rec.Add("mailbox", box)
	return nil
}

// logfmtKeys maps 3.13's logfmt keys (imap/auditlog.c, imap/loginlog.c) to
// the prose auditlog's, so that the mapper reads one vocabulary.
var logfmtKeys = map[string]string{
	"r.sessionid": "sessionid", "mbox.name": "mailbox", "mbox.uniqueid": "uniqueid",
	"mbox.uidvalidity": "uidvalidity", "old.mbox.name": "oldmailbox", "msg.imapuid": "uid",
	"msg.modseq": "modseq", "msg.sysflags": "sysflags", "old.msg.sysflags": "oldflags",
	"msg.size": "size", "msg.id": "messageid", "msg.guid": "guid", "quota.root": "root",
	"r.clienthost": "clienthost", "u.username": "userid", "login.mech": "mech",
	"login.tls": "tls", "error": "reason",
}

// parseLogfmt reads 3.13's "event={name} {key}={value} …" lines; values are
// quoted with '"' only when they hold spaces or awkward bytes.
func parseLogfmt(rec *parsers.Record, s string) error {
	var name string
	for s != "" {
		n := keyLen(s)
		if n == 0 {
			return parsers.Malformation(reasonBadLogfmt, s)
		}
		key := s[:n]
		s = s[n+1:]
		var v string
		if strings.HasPrefix(s, `"`) {
			end := quotedEnd(s)
			if end < 0 {
				return parsers.Malformation(reasonBadLogfmt, s)
			}
			uq, err := strconv.Unquote(s[:end+1])
			if err != nil {
				return parsers.Malformation(reasonBadLogfmt, s[:end+1])
			}
			v, s = uq, s[end+1:]
		} else {
			v, s, _ = strings.Cut(s, " ")
		}
		s = strings.TrimLeft(s, " ")
		if key == "event" {
			name = v
			continue
		}
		if k, ok := logfmtKeys[key]; ok {
			key = k
		}
		rec.Add(key, v)
	}
	switch {
	case name == "login.good" || name == "login.bad":
		rec.Action = ActionLogin
		if name == "login.bad" {
			rec.Action = ActionLoginFailed
		}
		for i, f := range rec.Fields {
			switch f.Key {
			case "userid":
				rec.User = f.Value
			case "sessionid":
				rec.Session = f.Value
			case "tls":
				rec.Fields[i].Value = map[bool]string{true: "yes", false: "no"}[f.Value == "1"]
			case "clienthost":
				// "{name} [{ip}]" like the prose lines.
				if h, ip, rest, ok := cutClienthost(f.Value); ok && rest == "" {
					rec.Fields[i].Value = h
					rec.Add("clientip", ip)
				}
			}
		}
		return nil
	case strings.HasPrefix(name, "auditlog."):
		word := name[len("auditlog."):]
		action, known := auditActions[word]
		if strings.HasPrefix(word, "sieve.") {
			action, known = "", true
		}
		switch {
		case !known:
			return parsers.Unrecognised(reasonUnknown)
		case action == "":
			return parsers.ErrIgnored
		}
		rec.Action = action
		rec.Add(FieldNames, "external")
		if action == ActionRename {
			// logfmt names the new mailbox mbox.name, the old old.mbox.name.
			for i, f := range rec.Fields {
				if f.Key == "mailbox" {
					rec.Fields[i].Key = "newmailbox"
				}
			}
		}
		if action == ActionQuota {
			rec.Add("quota", word)
		}
		return finishAudit(rec)
	}
	// Other logfmt events (3.13 logs much in this form): no RFC 5423 event.
	return parsers.ErrIgnored
}

// quotedEnd returns the index of the '"' that closes the quoted value s
// starts with, or -1.
func quotedEnd(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}
