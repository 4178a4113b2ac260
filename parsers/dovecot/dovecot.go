// Package dovecot is the grammar of Dovecot's log lines (2.2, 2.3 and 2.4,
// with the 1.x shapes still found in old corpora). It recognises the lines
// that evidence an RFC 5423 event (logins, logouts, the mail_log plugin,
// LDA/LMTP deliveries) and ignores Dovecot's other chatter; mapping/dovecot.go
// turns its Records into events. README.md lists every shape handled.
package dovecot

import (
	"strings"

	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/parsers/syslog"
	"github.com/mailevents/mailevents/source"
)

// Actions of the Records this grammar returns. They are the grammar's own
// stable vocabulary, close to Dovecot's words; the mapper keys on them.
const (
	ActionLogin         = "login"
	ActionLoginFailed   = "login_failed"
	ActionDisconnect    = "disconnect"
	ActionSave          = "save"
	ActionCopy          = "copy"
	ActionExpunge       = "expunge"
	ActionAutoexpunge   = "autoexpunge"
	ActionDelete        = "delete"
	ActionUndelete      = "undelete"
	ActionFlagChange    = "flag_change"
	ActionMailboxCreate = "mailbox_create"
	ActionMailboxDelete = "mailbox_delete"
	ActionMailboxRename = "mailbox_rename"
	ActionDeliver       = "deliver"
	ActionDeliverFailed = "deliver_failed"
)

// Reasons of the syntax errors. They are metrics labels, so they never carry
// values from the line.
const (
	reasonNotDovecot   = "not a dovecot line"
	reasonNoPrefix     = "no dovecot process prefix"
	reasonUnknownLogin = "unknown login process message"
	reasonUnknownMail  = "unknown mail process message"
)

// Grammar parses Dovecot lines. It is safe for concurrent use: Parse only
// reads the Grammar.
type Grammar struct {
	Envelope syslog.Parser
}

// New returns a Grammar that strips envelopes with env.
func New(env syslog.Parser) *Grammar { return &Grammar{Envelope: env} }

// Name implements parsers.Parser.
func (*Grammar) Name() string { return "dovecot" }

// Server implements parsers.Parser.
func (*Grammar) Server() string { return "dovecot" }

// Parse implements parsers.Parser.
func (g *Grammar) Parse(line source.Line) (parsers.Record, error) {
	var env syslog.Envelope
	var sp syslog.Spans
	if err := g.Envelope.ParseSpans(line.Text, &env, &sp); err != nil {
		return g.parseUnenveloped(line, err)
	}
	return g.parseEnvelope(line, line.Text, &env, &sp)
}

// parseEnvelope parses the message of a line whose envelope was stripped
// from text (line.Text, or what follows a relay tag in it) by ParseSpans.
func (g *Grammar) parseEnvelope(line source.Line, text []byte, env *syslog.Envelope, sp *syslog.Spans) (parsers.Record, error) {
	// Dovecot's own file and multilog have no tag: the message itself must
	// then show a Dovecot process prefix, which parseMessage checks.
	tagless := env.Format == syslog.FormatLocalFile || env.Format == syslog.FormatTAI64N
	tag := env.Tag
	if sp.InLine {
		tag = string(text[sp.TagStart:sp.TagEnd]) // compared only: no copy
	}
	if !tagless && tag != "dovecot" {
		return parsers.Record{}, parsers.Unrecognised(reasonNotDovecot)
	}
	var rec record
	rec.Server, rec.Grammar = "dovecot", "dovecot"
	rec.Time, rec.Precision, rec.Host, rec.Pos = env.Time, env.Precision, env.Host, line.Position
	// One copy of the line, from the host on: the host and every field
	// below are substrings of it. The Record outlives the line (the
	// pipeline reuses its buffer), so the copy cannot be avoided, but one
	// is enough.
	var msg string
	switch {
	case !sp.InLine:
		// Journal JSON: the message was decoded, not found in the line.
		msg = string(env.Message)
	case sp.HostEnd > sp.HostStart:
		s := string(text[sp.HostStart:])
		rec.Host = s[:sp.HostEnd-sp.HostStart]
		msg = s[sp.Message-sp.HostStart:]
	default:
		msg = string(text[sp.Message:])
	}
	return rec.finish(parseMessage(&rec, msg, tagless))
}

// record is a Record being parsed. Its fields are gathered in an array
// inside it, which lives on Parse's stack, and copied to the heap once, at
// their final size, when the line is recognised: a Record costs one
// allocation for its fields instead of Record.Add's room for ten (a
// disconnect line's eleven, twice), and there is no pool to maintain. Add
// and Get shadow the Record's own.
type record struct {
	parsers.Record
	n    int
	buf  [12]parsers.Field
	more []parsers.Field // what does not fit in buf, rare
}

// Add appends a field.
func (r *record) Add(key, value string) {
	if r.n < len(r.buf) {
		r.buf[r.n] = parsers.Field{Key: key, Value: value}
		r.n++
		return
	}
	r.more = append(r.more, parsers.Field{Key: key, Value: value})
}

// Get returns the value of the first field named key.
func (r *record) Get(key string) (string, bool) {
	for _, f := range r.buf[:r.n] {
		if f.Key == key {
			return f.Value, true
		}
	}
	for _, f := range r.more {
		if f.Key == key {
			return f.Value, true
		}
	}
	return "", false
}

// finish returns the parsed Record, or the zero Record and err.
func (r *record) finish(err error) (parsers.Record, error) {
	if err != nil {
		return parsers.Record{}, err
	}
	rec := r.Record
	if r.n > 0 {
		rec.Fields = make([]parsers.Field, r.n+len(r.more))
		copy(rec.Fields[copy(rec.Fields, r.buf[:r.n]):], r.more)
	}
	return rec, nil
}

// prefix is a parsed process prefix.
type prefix struct {
	name    string // lower-case service, e.g. "imap", "imap-login", "auth-worker"
	user    string
	hasUser bool // a "(…)" group followed the name
	pid     string
	session string
	rest    string // the text after the prefix
}

// parseMessage fills rec from a message that starts at the process prefix.
func parseMessage(rec *record, msg string, tagless bool) error {
	// Relayed lines sometimes repeat the tag; 1.x files put the level first.
	msg = strings.TrimPrefix(msg, "dovecot: ")
	msg, level := stripLevel(msg)
	var p prefix
	if !parsePrefix(msg, &p) {
		// A syslog line tagged dovecot without a process prefix comes from
		// the master process ("Dovecot v2.3.10 starting up", "Fatal: Auth
		// process died too early"): known, no event.
		if !tagless && (level != "" || strings.HasPrefix(msg, "Dovecot v")) {
			return parsers.ErrIgnored
		}
		return parsers.Unrecognised(reasonNoPrefix)
	}
	rest, lvl := stripLevel(p.rest)
	if lvl != "" {
		level = lvl
	}
	rec.Process = p.name
	switch {
	case strings.HasSuffix(p.name, "-login"):
		return parseLoginProcess(rec, rest)
	case isNoiseProcess(p.name):
		return parsers.ErrIgnored
	case !p.hasUser:
		if !tagless {
			return parsers.ErrIgnored
		}
		return parsers.Unrecognised(reasonNoPrefix)
	}
	rec.User = p.user
	rec.Session = p.session
	if n, ok := atoi(p.pid); ok {
		rec.PID = n
	}
	if rec.User == "" && p.pid != "" && p.session == "" {
		// "lmtp(1440447): Connect from local": a connection without a user.
		return parsers.ErrIgnored
	}
	return parseMailProcess(rec, rest, level)
}

// parsePrefix reads "{name}[({user})][<…>…]: ". 2.3+ writes
// "<pid><session>"; admins change mail_log_prefix, so any number of groups
// is accepted and the groups are told apart by content. It fills the
// zero *p rather than returning a prefix: copying that large result out
// was a visible share of the grammar's time.
func parsePrefix(msg string, p *prefix) bool {
	i := 0
	for i < len(msg) && isNameByte(msg[i]) {
		i++
	}
	if i == 0 || i == len(msg) {
		return false
	}
	p.name = lowerASCII(msg[:i])
	if msg[i] == '(' {
		// The user may itself hold ')' (rare), so the group ends at the
		// first ')' that is followed by '<' or ':'.
		j := i + 1
		for {
			k := strings.IndexByte(msg[j:], ')')
			if k < 0 {
				return false
			}
			j += k
			if j+1 < len(msg) && (msg[j+1] == '<' || msg[j+1] == ':') {
				break
			}
			j++
		}
		p.user, p.hasUser = msg[i+1:j], true
		i = j + 1
		if parsers.IsDigits(p.user) {
			// "lmtp(1440447):" names the process, not a user.
			p.pid, p.user = p.user, ""
		}
	}
	var groups [3]string
	n := 0
	for i < len(msg) && msg[i] == '<' {
		// A plain loop: groups are a few bytes long, too short to pay for
		// IndexByte's setup.
		k := i + 1
		for k < len(msg) && msg[k] != '>' {
			k++
		}
		if k == len(msg) {
			return false
		}
		if n < len(groups) {
			groups[n] = msg[i+1 : k]
		}
		n++
		i = k + 1
	}
	switch {
	case n == 1 && parsers.IsDigits(groups[0]):
		p.pid = groups[0]
	case n == 1:
		p.session = groups[0]
	case n >= 2:
		p.pid, p.session = groups[0], groups[1]
	}
	if i >= len(msg) || msg[i] != ':' {
		return false
	}
	p.rest = strings.TrimPrefix(msg[i+1:], " ")
	if n == 0 && p.hasUser {
		// sonic.net's mail_log_prefix "%s(%u): session=%{session} ".
		if s, ok := strings.CutPrefix(p.rest, "session="); ok {
			sess, after, _ := strings.Cut(s, " ")
			p.session, p.rest = sess, after
		}
	}
	return true
}

// levels are the words Dovecot writes before a message (always in its own
// file, for non-info levels through syslog); "Warn" is 1.x.
var levels = [...]string{"Info", "Warning", "Error", "Fatal", "Panic", "Debug", "Warn"}

// stripLevel removes a leading level word and returns it.
func stripLevel(s string) (string, string) {
	if s == "" || s[0] < 'D' || s[0] > 'W' {
		return s, ""
	}
	for _, l := range levels {
		if len(s) > len(l)+1 && s[len(l)] == ':' && s[len(l)+1] == ' ' && s[:len(l)] == l {
			return s[len(l)+2:], l
		}
	}
	return s, ""
}

// isNoiseProcess reports Dovecot processes whose lines never evidence an
// event: authentication (its failures are also logged by the login
// process, which is where login_failed comes from), the master and helpers.
func isNoiseProcess(name string) bool {
	switch name {
	case "auth", "auth-worker", "dovecot-auth", "master", "stats", "ssl-params",
		"ssl-build-param", "config", "anvil", "log", "dict", "dict-async",
		"indexer", "replicator", "director", "aggregator", "imap-hibernate",
		"old-stats", "dovecot", "deliver-log", "userdb", "passdb":
		return true
	}
	return strings.HasPrefix(name, "auth-")
}

func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// atoi parses a non-negative decimal that fits in 31 bits.
func atoi(s string) (int, bool) {
	if !parsers.IsDigits(s) || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// lowerASCII lower-cases s without allocating when it already is ("IMAP"
// is 1.x's spelling of "imap").
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}
