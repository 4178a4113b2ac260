package dovecot

import (
	"strings"

	"github.com/mailevents/mailevents/parsers"
)

// Kinds of disconnect, from the reason text; the mapper passes them on as
// vnd.mailevents.disconnect.
const (
	DisconnectGraceful = "graceful"
	DisconnectAbort    = "abort"
	DisconnectTimeout  = "timeout"
	DisconnectShutdown = "shutdown"
	DisconnectOther    = "other"
)

// isDisconnect recognises the end-of-session line of imap/pop3/managesieve:
// "Disconnected: {reason} {stats}" and the older forms without
// "Disconnected: " (sonic.net's "Connection closed in=…").
func isDisconnect(s string) bool {
	return strings.HasPrefix(s, "Disconnected: ") || strings.HasPrefix(s, "Disconnected for inactivity") ||
		strings.HasPrefix(s, "Connection closed ") || s == "Connection closed" ||
		strings.HasPrefix(s, "Disconnected in IDLE")
}

// parseDisconnect splits "{reason} {counters}". The counters start at the
// first space-separated token shaped "key=…" (imap "in=34 out=534 …", pop3
// "top=0/0, retr=1/50970, …", 1.x "bytes=59/566"); a reason never has such
// a token because its own "k=v" sit inside parentheses ("read(size=1026)").
func parseDisconnect(rec *record, s string) error {
	rec.Action = ActionDisconnect
	s = strings.TrimPrefix(s, "Disconnected: ")
	reason, counters := s, ""
	for i := 0; i < len(s); {
		if isCounterToken(s[i:]) {
			reason, counters = strings.TrimSuffix(s[:i], " "), s[i:]
			break
		}
		j := strings.IndexByte(s[i:], ' ')
		if j < 0 {
			break
		}
		i += j + 1
	}
	rec.Add("reason", reason)
	rec.Add("disconnect", disconnectKind(reason))
	for counters != "" {
		tok, after, _ := strings.Cut(counters, " ")
		counters = after
		tok = strings.TrimSuffix(tok, ",")
		if tok == "" {
			continue
		}
		k, v, ok := strings.Cut(tok, "=")
		if !ok || !isCounterToken(tok) || !isCounterValue(v) {
			return parsers.Malformation("bad disconnect counter", tok)
		}
		rec.Add(k, v)
	}
	return nil
}

// isCounterToken reports whether s starts with "key=" where key is a
// lower-case word.
func isCounterToken(s string) bool {
	i := 0
	for i < len(s) && ('a' <= s[i] && s[i] <= 'z' || s[i] == '_') {
		i++
	}
	return i > 0 && i < len(s) && s[i] == '='
}

// isCounterValue accepts "n", "n/m" and the "+n" Dovecot adds for output
// still buffered ("14383074+19456").
func isCounterValue(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < '0' || c > '9') && c != '/' && c != '+' {
			return false
		}
	}
	return true
}

// disconnectKind classifies a reason: the client said LOGOUT/QUIT, the
// connection dropped, the server timed it out or shut down, or else. The
// match ignores case; an ASCII reason (all of Dovecot's) is compared
// without building its lower-case copy.
func disconnectKind(reason string) string {
	var hasPrefix, contains func(s, lower string) bool
	r := reason
	if isASCII(reason) {
		hasPrefix, contains = hasPrefixFoldASCII, containsFoldASCII
	} else {
		r = strings.ToLower(reason)
		hasPrefix, contains = strings.HasPrefix, strings.Contains
	}
	switch {
	case hasPrefix(r, "logged out"):
		return DisconnectGraceful
	case contains(r, "inactivity"), contains(r, "timeout"), contains(r, "timed out"):
		return DisconnectTimeout
	case contains(r, "shutting down"):
		return DisconnectShutdown
	case hasPrefix(r, "connection closed"), hasPrefix(r, "disconnected in idle"),
		contains(r, "eof"), contains(r, "connection reset"):
		return DisconnectAbort
	}
	return DisconnectOther
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// hasPrefixFoldASCII is strings.HasPrefix(strings.ToLower(s), lower) for
// an ASCII s and a lower-case ASCII prefix.
func hasPrefixFoldASCII(s, lower string) bool {
	if len(s) < len(lower) {
		return false
	}
	for i := 0; i < len(lower); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// containsFoldASCII is strings.Contains(strings.ToLower(s), lower) for an
// ASCII s and a lower-case ASCII substring.
func containsFoldASCII(s, lower string) bool {
	for i := 0; i+len(lower) <= len(s); i++ {
		if hasPrefixFoldASCII(s[i:], lower) {
			return true
		}
	}
	return false
}

// Texts of the LDA/LMTP delivery log (mail_deliver_log, deliver_log_format
// "msgid=%m: %$") and of Pigeonhole's sieve actions.
const (
	textSaved      = "saved mail to "
	textFailedOpen = "save failed to open mailbox "
	textFailed     = "save failed to "
	textStored     = "stored mail into mailbox '"
)

// parseDelivery handles "msgid=…[ key=…]: {message}". Admins add fields to
// deliver_log_format, so everything before the last ": " ahead of a known
// message text is "key=value" pairs.
func parseDelivery(rec *record, s string, sieve bool) error {
	head, msg, ok := cutDeliveryMessage(s)
	if !ok {
		if sieve {
			// forwarded to, discarded, sent vacation response, script
			// errors: no message is stored in this store.
			return parsers.ErrIgnored
		}
		return parsers.Unrecognised(reasonUnknownMail)
	}
	if sieve {
		// "msgid=…: fileinto action: stored mail into mailbox 'X'".
		if i := strings.LastIndex(head, ": "); i >= 0 && strings.HasSuffix(head, " action") {
			head = head[:i]
		}
	}
	if err := parseDeliveryHead(rec, head); err != nil {
		return err
	}
	switch {
	case strings.HasPrefix(msg, textSaved):
		rec.Action = ActionDeliver
		rec.Add("mailbox", msg[len(textSaved):])
	case strings.HasPrefix(msg, textStored):
		box := msg[len(textStored):]
		if !strings.HasSuffix(box, "'") {
			return parsers.Malformation("unterminated mailbox name", msg)
		}
		rec.Action = ActionDeliver
		rec.Add("mailbox", box[:len(box)-1])
		rec.Add("sieve", "yes")
	default:
		var box, reason string
		if after, ok := strings.CutPrefix(msg, textFailedOpen); ok {
			box, reason, _ = strings.Cut(after, ": ")
		} else {
			box, reason, _ = strings.Cut(msg[len(textFailed):], ": ")
		}
		rec.Action = ActionDeliverFailed
		rec.Add("mailbox", box)
		rec.Add("reason", reason)
		// The text is quota_exceeded_message, configurable; its default
		// starts "Quota exceeded" and sites rarely drop the word.
		if strings.Contains(strings.ToLower(reason), "quota") {
			rec.Add("quota", "yes")
		}
	}
	if m, _ := rec.Get("mailbox"); m == "" {
		return parsers.Malformation("delivery without mailbox", msg)
	}
	return nil
}

// cutDeliveryMessage finds the known message text after a ": ".
func cutDeliveryMessage(s string) (head, msg string, ok bool) {
	for i := 0; ; {
		j := strings.Index(s[i:], ": ")
		if j < 0 {
			return "", "", false
		}
		j += i
		m := s[j+2:]
		if strings.HasPrefix(m, textSaved) || strings.HasPrefix(m, textFailed) || strings.HasPrefix(m, textStored) {
			return s[:j], m, true
		}
		i = j + 2
	}
}

// parseDeliveryHead reads "msgid=<…> size=… from=…": a value runs to the
// next " key=". msgid "?" (unparsable) and "? <…>" are normalised to what
// is known: nothing, or the id in brackets.
func parseDeliveryHead(rec *record, s string) error {
	for s != "" {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" || strings.IndexByte(k, ' ') >= 0 {
			return parsers.Malformation("bad delivery field", s)
		}
		s = ""
		for i := 0; i < len(v); i++ {
			if v[i] == ' ' && isCounterToken(v[i+1:]) {
				v, s = v[:i], v[i+1:]
				break
			}
		}
		if k == "msgid" {
			v = strings.TrimPrefix(strings.TrimPrefix(v, "?"), " ")
		}
		rec.Add(k, v)
	}
	return nil
}
