package dovecot

import (
	"strings"

	"github.com/mailevents/mailevents/parsers"
)

// parseLoginProcess handles the lines of {proto}-login processes: a
// successful login, or a connection that ended before one.
func parseLoginProcess(rec *record, rest string) error {
	if s, ok := cutAny(rest, "Login: ", "Logged in: "); ok {
		rec.Action = ActionLogin
		return parseElements(rec, s)
	}
	if strings.HasPrefix(rest, "proxy(") {
		// The proxy's view of a session; the backend logs the real login.
		return parsers.ErrIgnored
	}
	head, elems, ok := splitElements(rest)
	if !ok {
		return parsers.Unrecognised(reasonUnknownLogin)
	}
	// head is "{reason}[ ({detail})][ ({event_reason})]"; the reason can
	// hold ": " and parentheses itself, so the groups are taken from the end.
	reason, detail := cutGroup(head)
	eventReason := ""
	if detail != "" && !strings.ContainsAny(detail, " ,") && strings.HasSuffix(reason, ")") {
		// 2.4: "Login aborted: {reason} ({detail}) ({event_reason})".
		eventReason = detail
		reason, detail = cutGroup(reason)
	}
	reason = strings.TrimSuffix(reason, ":")
	for {
		r, ok := cutAny(reason, "Disconnected: ", "Login aborted: ")
		if !ok {
			break
		}
		reason = r
	}
	if err := parseElements(rec, elems); err != nil {
		return err
	}
	if !authFailed(rec, detail, eventReason, reason) {
		// No credentials were tried (or the client gave up before the
		// server could judge them): a connection, not a failed login.
		return parsers.ErrIgnored
	}
	rec.Action = ActionLoginFailed
	rec.Add("reason", reason)
	if detail != "" {
		rec.Add("detail", detail)
	}
	if eventReason != "" {
		rec.Add("event_reason", eventReason)
	}
	return nil
}

// authFailed decides whether an ended login connection was a failed login:
// the server judged credentials (or refused an authenticated user), as
// opposed to a client that never tried.
func authFailed(rec *record, detail, eventReason, reason string) bool {
	switch eventReason {
	case "auth_failed", "auth_plaintext_disabled", "auth_aborted_by_client":
		return true
	case "":
	default:
		return false
	}
	switch {
	case strings.Contains(detail, "auth failed"),
		strings.Contains(detail, "authentication attempts"), // 1.x "(1 authentication attempts)"
		strings.HasPrefix(detail, "tried to use dis"),       // disallowed/disabled plaintext or mechanism
		strings.HasPrefix(reason, "Maximum number of connections"):
		return true
	case detail == "" && rec.User != "" && strings.HasPrefix(reason, "Aborted login"):
		// 1.x "Aborted login: user=<u>, method=PLAIN": a user was named.
		return true
	}
	return false
}

// splitElements finds where login_log_format_elements start: after the last
// ": " that is followed by a known element key.
func splitElements(s string) (head, elems string, ok bool) {
	for i := len(s); i > 0; {
		j := strings.LastIndex(s[:i], ": ")
		if j < 0 {
			break
		}
		if startsElement(s[j+2:]) {
			return s[:j], s[j+2:], true
		}
		i = j
	}
	// 1.x "Disconnected: rip=1.2.3.4, lip=1.2.3.5" has no head text left.
	return "", "", false
}

func startsElement(s string) bool {
	for _, k := range [...]string{"user=", "method=", "rip=", "lip=", "session="} {
		if strings.HasPrefix(s, k) {
			return true
		}
	}
	return false
}

// cutGroup splits "text (group)" into text and group; group is "" when s
// does not end with ')'.
func cutGroup(s string) (string, string) {
	if !strings.HasSuffix(s, ")") {
		return s, ""
	}
	depth := 0
	for i := len(s) - 1; i >= 0; i-- {
		switch s[i] {
		case ')':
			depth++
		case '(':
			depth--
			if depth == 0 {
				return strings.TrimSuffix(s[:i], " "), s[i+1 : len(s)-1]
			}
		}
	}
	return s, ""
}

// parseElements reads the comma-separated login elements by key, never by
// position: sites reorder them (sonic.net puts session second, unbracketed).
// Bare items are flags ("TLS", "secured", "TLS: read(…) failed: …").
func parseElements(rec *record, s string) error {
	for s != "" {
		k := 0
		for k < len(s) && (isNameByte(s[k])) {
			k++
		}
		var item string
		if k > 0 && k < len(s) && s[k] == '=' {
			key := s[:k]
			v, after, err := elementValue(s[k+1:])
			if err != nil {
				return err
			}
			if err := addElement(rec, key, v); err != nil {
				return err
			}
			s = after
			continue
		}
		item, s = cutItem(s)
		switch {
		case strings.HasPrefix(item, "TLS"):
			if _, dup := rec.Get("tls"); dup {
				rec.Add("tls_detail", item)
			} else {
				rec.Add("tls", item)
			}
		case item == "secured":
			rec.Add("secured", "yes")
		case item != "":
			rec.Add("flag", item)
		}
	}
	return nil
}

// elementValue reads one value: "<…>" up to the '>' that ends the item
// (user names can hold ", "), else up to the next ','.
func elementValue(s string) (v, after string, err error) {
	if strings.HasPrefix(s, "<") {
		for i := 1; i < len(s); i++ {
			if s[i] != '>' {
				continue
			}
			if i+1 == len(s) {
				return s[1:i], "", nil
			}
			if s[i+1] == ',' {
				return s[1:i], skipSep(s[i+2:]), nil
			}
		}
		return "", "", parsers.Malformation("unterminated <value>", s)
	}
	v, after = cutItem(s)
	return v, after, nil
}

func cutItem(s string) (string, string) {
	if i := strings.IndexByte(s, ','); i >= 0 {
		return s[:i], skipSep(s[i+1:])
	}
	return s, ""
}

func skipSep(s string) string { return strings.TrimLeft(s, " ") }

// addElement stores one key=value element, checking the values the mapper
// relies on.
func addElement(rec *record, key, v string) error {
	switch key {
	case "user":
		rec.User = v
		return nil
	case "session":
		rec.Session = v
		return nil
	case "rip", "lip":
		if v == "" || strings.IndexByte(v, ' ') >= 0 {
			return parsers.Malformation("bad address", v)
		}
	case "rport", "lport", "mpid", "pid":
		if _, ok := atoi(v); !ok {
			return parsers.Malformation("bad number", key+"="+v)
		}
	}
	rec.Add(key, v)
	return nil
}

// cutAny cuts the first of prefixes that s starts with.
func cutAny(s string, prefixes ...string) (string, bool) {
	for _, p := range prefixes {
		if r, ok := strings.CutPrefix(s, p); ok {
			return r, true
		}
	}
	return s, false
}
