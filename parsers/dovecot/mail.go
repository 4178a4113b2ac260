package dovecot

import (
	"strings"

	"github.com/mailevents/mailevents/parsers"
)

// parseMailProcess handles the lines of a mail process that serves one user
// (imap, pop3, lmtp, lda, doveadm, managesieve, submission, …).
func parseMailProcess(rec *record, rest, level string) error {
	// 2.4 logs mailbox-scoped lines through the mailbox event, which puts
	// "Mailbox {vname}: " in front.
	vname, hasVname := "", false
	if s, ok := strings.CutPrefix(rest, "Mailbox "); ok {
		if v, r, ok := cutMailboxPrefix(s); ok {
			vname, rest, hasVname = v, r, true
		}
	}
	// An LMTP/LDA prefix may repeat the session as text:
	// "lmtp(u): 93b6I/NRL1YjfgAAMW3Dmg: sieve: msgid=…".
	// The cheap tests on what follows come first: they fail on most lines.
	// The cut is kept for cutMailLogActionAt, which needs the same one.
	tok, after, cut := strings.Cut(rest, ": ")
	if cut && !hasVname && (strings.HasPrefix(after, "sieve: ") || strings.HasPrefix(after, "msgid=")) &&
		tok != "" && tok != "sieve" && !strings.ContainsAny(tok, " =") {
		if rec.Session == "" {
			rec.Session = tok
		}
		rest = after
		tok, after, cut = strings.Cut(rest, ": ")
	}

	if action, fields, src, ok := cutMailLogActionAt(rest, tok, after, cut); ok {
		rec.Action = action
		if action == ActionCopy {
			rec.Add("srcbox", src)
		}
		return parseMailLogFields(rec, fields, vname, hasVname)
	}
	if isDisconnect(rest) {
		return parseDisconnect(rec, rest)
	}
	if ok, err := parseMailboxLine(rec, rest, vname, hasVname); ok {
		return err
	}
	if s, ok := strings.CutPrefix(rest, "sieve: "); ok {
		return parseDelivery(rec, s, true)
	}
	if strings.HasPrefix(rest, "msgid=") {
		return parseDelivery(rec, rest, false)
	}
	if level != "" && level != "Info" {
		// Warnings and errors of a session (an IMAP command that failed, a
		// corrupted index) describe no completed change.
		return parsers.ErrIgnored
	}
	return parsers.Unrecognised(reasonUnknownMail)
}

// mailboxActions are the texts of the 2.4 mailbox lines, which come after
// a "Mailbox {vname}: " prefix.
func startsMailboxAction(s string) bool {
	return s == "Mailbox created" || s == "Mailbox deleted" || strings.HasPrefix(s, "Mailbox renamed: ")
}

// cutMailboxPrefix splits "{vname}: {rest}" at the first ": " after which a
// known action follows, since a mailbox name may itself hold ": ".
func cutMailboxPrefix(s string) (vname, rest string, ok bool) {
	// 2.2/2.3 "Mailbox created: X" is not a prefix.
	if strings.HasPrefix(s, "created: ") || strings.HasPrefix(s, "deleted: ") || strings.HasPrefix(s, "renamed: ") {
		return "", "", false
	}
	for i := 0; ; {
		j := strings.Index(s[i:], ": ")
		if j < 0 {
			return "", "", false
		}
		j += i
		r := s[j+2:]
		if _, _, _, ok := cutMailLogAction(r); ok || startsMailboxAction(r) {
			return s[:j], r, true
		}
		i = j + 2
	}
}

// cutMailLogAction recognises "{action}: {fields}" of the mail_log plugin.
// For "copy from {src}: " the source box may hold ": ", so the action ends
// at the first ": " followed by a field key (or the end).
func cutMailLogAction(s string) (action, fields, src string, ok bool) {
	tok, after, cut := strings.Cut(s, ": ")
	return cutMailLogActionAt(s, tok, after, cut)
}

// cutMailLogActionAt is cutMailLogAction given strings.Cut(s, ": ").
func cutMailLogActionAt(s, tok, after string, cut bool) (action, fields, src string, ok bool) {
	if cut {
		switch tok {
		case "save":
			return ActionSave, after, "", true
		case "expunge":
			return ActionExpunge, after, "", true
		case "autoexpunge":
			return ActionAutoexpunge, after, "", true
		case "delete":
			return ActionDelete, after, "", true
		case "undelete":
			return ActionUndelete, after, "", true
		case "flag_change":
			return ActionFlagChange, after, "", true
		}
	}
	rest, found := strings.CutPrefix(s, "copy from ")
	if !found {
		return "", "", "", false
	}
	for i := 0; ; {
		j := strings.Index(rest[i:], ": ")
		if j < 0 {
			if strings.HasSuffix(rest, ":") {
				return ActionCopy, "", rest[:len(rest)-1], true
			}
			return "", "", "", false
		}
		j += i
		if fieldKeyAt(rest[j+2:]) >= 0 {
			return ActionCopy, rest[j+2:], rest[:j], true
		}
		i = j + 2
	}
}

// mailLogKeys are the mail_log fields in the fixed order the plugin writes
// them (mail_log_append_mail_message); "flags" is always last.
var mailLogKeys = [...]string{"box", "uid", "msgid", "size", "vsize", "from", "subject", "flags"}

// truncation limits of mail_log values (str_sanitize): a value cut there
// ends in "...".
const (
	boxLimit    = 64
	headerLimit = 80
)

// fieldKeyAt returns the index in mailLogKeys of the "key=" s starts with,
// or -1. It is asked at every ", " of a mail_log line, so the first two
// bytes pick the one key to compare.
func fieldKeyAt(s string) int {
	if len(s) < 2 {
		return -1
	}
	i := -1
	switch s[0] {
	case 'b':
		i = 0 // box
	case 'u':
		i = 1 // uid
	case 'm':
		i = 2 // msgid
	case 's':
		if s[1] == 'i' {
			i = 3 // size
		} else {
			i = 6 // subject
		}
	case 'v':
		i = 4 // vsize
	case 'f':
		if s[1] == 'r' {
			i = 5 // from
		} else {
			i = 7 // flags
		}
	default:
		return -1
	}
	if k := mailLogKeys[i]; len(s) > len(k) && s[len(k)] == '=' && s[:len(k)] == k {
		return i
	}
	return -1
}

// parseMailLogFields reads the fields left to right. Values are neither
// quoted nor escaped and from=/subject= can hold ", ", so a value ends only
// at a ", " followed by a key that may come later in the fixed order.
func parseMailLogFields(rec *record, s, vname string, hasVname bool) error {
	var truncated []string
	boxSeen := false
	last := -1
	ki := fieldKeyAt(s) // then cutFieldValue tells the next field's key
	for s != "" {
		if ki <= last {
			return parsers.Malformation("unexpected mail_log field", s)
		}
		key := mailLogKeys[ki]
		s = s[len(key)+1:]
		var v string
		if key == "flags" {
			if !strings.HasPrefix(s, "(") || !strings.HasSuffix(s, ")") {
				return parsers.Malformation("bad flags", s)
			}
			v, s = s[1:len(s)-1], ""
		} else {
			var next int
			v, s, next = cutFieldValue(s, ki)
			last, ki = ki, next
		}
		switch key {
		case "uid", "size", "vsize":
			if v != "error" && !parsers.IsDigits(v) {
				return parsers.Malformation("bad "+key, v)
			}
		case "box":
			boxSeen = true
		}
		if isTruncated(key, v) {
			truncated = append(truncated, key)
		}
		rec.Add(key, v)
	}
	if !boxSeen && hasVname {
		rec.Add("box", vname)
		if isTruncated("box", vname) {
			truncated = append(truncated, "box")
		}
	}
	if truncated != nil {
		rec.Add("truncated", strings.Join(truncated, ","))
	}
	return nil
}

// cutFieldValue returns the value of the field with key index ki, what
// follows its ", " separator and the key index of that next field (-1 at
// the end), which the caller would otherwise look up again.
func cutFieldValue(s string, ki int) (v, rest string, next int) {
	// IndexByte rather than Index(", "): values are mostly a few bytes
	// long, where the plain byte search costs less to set up.
	for i := 0; ; {
		j := strings.IndexByte(s[i:], ',')
		if j < 0 {
			return s, "", -1
		}
		j += i
		if j+1 < len(s) && s[j+1] == ' ' {
			if k := fieldKeyAt(s[j+2:]); k > ki {
				return s[:j], s[j+2:], k
			}
		}
		i = j + 1
	}
}

func isTruncated(key, v string) bool {
	limit := headerLimit
	switch key {
	case "box":
		limit = boxLimit
	case "msgid", "from", "subject":
	default:
		return false
	}
	// str_sanitize keeps up to limit-3 bytes (less at a UTF-8 boundary)
	// and appends "..."; a short value ending in "..." is just a value.
	return strings.HasSuffix(v, "...") && len(v) >= limit-6
}

// parseMailboxLine handles the mail_log mailbox events: 2.2/2.3
// "Mailbox created: X" and 2.4 "Mailbox X: Mailbox created".
func parseMailboxLine(rec *record, rest, vname string, hasVname bool) (bool, error) {
	switch {
	case hasVname && rest == "Mailbox created":
		rec.Action = ActionMailboxCreate
		rec.Add("mailbox", vname)
	case hasVname && rest == "Mailbox deleted":
		rec.Action = ActionMailboxDelete
		rec.Add("mailbox", vname)
	case strings.HasPrefix(rest, "Mailbox created: "):
		rec.Action = ActionMailboxCreate
		rec.Add("mailbox", rest[len("Mailbox created: "):])
	case strings.HasPrefix(rest, "Mailbox deleted: "):
		rec.Action = ActionMailboxDelete
		rec.Add("mailbox", rest[len("Mailbox deleted: "):])
	case strings.HasPrefix(rest, "Mailbox renamed: "):
		s := rest[len("Mailbox renamed: "):]
		var oldName, newName string
		if hasVname && strings.HasPrefix(s, vname+" -> ") {
			// The prefix tells where the old name ends even if a name
			// holds " -> ".
			oldName, newName = vname, s[len(vname)+4:]
		} else {
			var ok bool
			if oldName, newName, ok = strings.Cut(s, " -> "); !ok {
				return true, parsers.Malformation("rename without ->", s)
			}
		}
		if oldName == "" || newName == "" {
			return true, parsers.Malformation("rename without name", s)
		}
		rec.Action = ActionMailboxRename
		rec.Add("old", oldName)
		rec.Add("new", newName)
	default:
		return false, nil
	}
	if m, _ := rec.Get("mailbox"); rec.Action != ActionMailboxRename && m == "" {
		return true, parsers.Malformation("mailbox without name", rest)
	}
	return true, nil
}
