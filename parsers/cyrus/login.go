package cyrus

import (
	"strings"

	"github.com/mailevents/mailevents/parsers"
)

// cutClienthost reads Cyrus's clienthost at the start of s: "{name} [{ip}]"
// (a space inside), "[{ip}]" alone, or "{name}[{ip}]" (2.x, timsieved). It
// returns the name, the address and what follows the closing bracket.
func cutClienthost(s string) (name, ip, rest string, ok bool) {
	open := strings.IndexByte(s, '[')
	if open < 0 {
		return "", "", "", false
	}
	end := strings.IndexByte(s[open:], ']')
	if end < 0 {
		return "", "", "", false
	}
	end += open
	name = strings.TrimSuffix(s[:open], " ")
	if strings.IndexByte(name, ' ') >= 0 || strings.IndexByte(name, '[') >= 0 {
		return "", "", "", false
	}
	ip = s[open+1 : end]
	rest = s[end+1:]
	if rest != "" && rest[0] != ' ' {
		return "", "", "", false
	}
	return name, ip, strings.TrimPrefix(rest, " "), ip != "" || name != ""
}

// addClient records the client host of a login line.
func addClient(rec *parsers.Record, name, ip string) {
	if name != "" {
		rec.Add("clienthost", name)
	}
	if ip != "" {
		rec.Add("clientip", ip)
	}
}

// addMech records "{mech}[+TLS]".
func addMech(rec *parsers.Record, mech string) {
	m, tls := strings.CutSuffix(mech, "+TLS")
	rec.Add("mech", m)
	if tls {
		rec.Add("tls", "yes")
	} else {
		rec.Add("tls", "no")
	}
}

// parseLogin reads "{clienthost} {userid} {mech}[+TLS] {reply}[ SESSIONID=<{id}>]"
// (imapd, pop3d, timsieved; the reply is "User logged in").
func parseLogin(rec *parsers.Record, s string) error {
	name, ip, rest, ok := cutClienthost(s)
	if !ok {
		return parsers.Malformation(reasonBadClienthost, s)
	}
	user, rest, ok1 := strings.Cut(rest, " ")
	mech, reply, _ := strings.Cut(rest, " ")
	if !ok1 || user == "" || mech == "" {
		return parsers.Malformation(reasonBadLine, s)
	}
	if i := strings.LastIndex(reply, "SESSIONID=<"); i >= 0 && strings.HasSuffix(reply, ">") {
		rec.Session = reply[i+len("SESSIONID=<") : len(reply)-1]
		reply = strings.TrimRight(reply[:i], " ")
	}
	rec.Action = ActionLogin
	rec.User = user
	addClient(rec, name, ip)
	addMech(rec, mech)
	if reply != "" {
		rec.Add("reply", reply)
	}
	return nil
}

// parseBadLogin reads the failed-login lines, whose shape varies:
//
//	3.x LOGIN:        {clienthost} plaintext ({userid}) [{reason}]
//	2.4 LOGIN:        {clienthost} plaintext {userid} {reason}
//	AUTHENTICATE:     {clienthost} {mech} [{reason}]
//	timsieved:        {clienthost} {mech} {reason}
//
// A user name is written only for the LOGIN command ("plaintext").
func parseBadLogin(rec *parsers.Record, s string) error {
	name, ip, rest, ok := cutClienthost(s)
	if !ok {
		return parsers.Malformation(reasonBadClienthost, s)
	}
	mech, rest, _ := strings.Cut(rest, " ")
	if mech == "" {
		return parsers.Malformation(reasonBadLine, s)
	}
	rec.Action = ActionLoginFailed
	addClient(rec, name, ip)
	addMech(rec, mech)
	switch {
	case strings.HasPrefix(rest, "("):
		end := strings.IndexByte(rest, ')')
		if end < 0 {
			return parsers.Malformation(reasonBadLine, s)
		}
		rec.User = rest[1:end]
		rest = strings.TrimPrefix(rest[end+1:], " ")
	case strings.EqualFold(mech, "plaintext") && rest != "" && rest[0] != '[':
		rec.User, rest, _ = strings.Cut(rest, " ")
	}
	if strings.HasPrefix(rest, "[") && strings.HasSuffix(rest, "]") {
		rest = rest[1 : len(rest)-1]
	}
	if rest != "" {
		rec.Add("reason", rest)
	}
	return nil
}
