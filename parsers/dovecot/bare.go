package dovecot

import (
	"bytes"
	"errors"

	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/parsers/syslog"
	"github.com/mailevents/mailevents/source"
)

// envUnknown is the syslog.Error reason for a line with no envelope shape at
// all (documented on syslog.Error). Only such lines can be bare messages: a
// line that failed later (a bad stamp, a bad tag) did have an envelope.
const envUnknown = "unknown envelope"

// relayTag is what wazuh's decoders put in front of a line of Dovecot's own
// log file ("dovecot: Jun 23 15:04:06 Info: IMAP(u): …"), and what some grok
// suites keep in front of a bare message.
var relayTag = []byte("dovecot: ")

// parseUnenveloped handles the lines the envelope parser rejected: bare
// messages (journalctl -o cat, grok test suites) and a "dovecot: " relay
// prefix in front of a Dovecot log-file line or a bare message. Anything
// else stays Unknown so that auto-detection can try the next grammar.
func (g *Grammar) parseUnenveloped(line source.Line, err error) (parsers.Record, error) {
	var se *syslog.Error
	if !errors.As(err, &se) || se.Reason != envUnknown {
		return parsers.Record{}, parsers.Unrecognised(reasonNotDovecot)
	}
	text := line.Text
	if rest, ok := bytes.CutPrefix(text, relayTag); ok {
		var env syslog.Envelope
		var sp syslog.Spans
		err := g.Envelope.ParseSpans(rest, &env, &sp)
		switch {
		case err == nil && env.Format == syslog.FormatLocalFile:
			return g.parseEnvelope(line, rest, &env, &sp)
		case err == nil:
			// A whole syslog line behind the tag is no shape Dovecot or a
			// known relay writes; claiming it would hide a broken feed.
			return parsers.Record{}, parsers.Unrecognised(reasonNotDovecot)
		}
		text = rest
	}
	// The process name is checked on the bytes first, so that another
	// program's line is rejected without copying it.
	n := 0
	for n < len(text) && isNameByte(text[n]) {
		n++
	}
	if !bareProcesses[string(text[:n])] {
		return parsers.Record{}, parsers.Unrecognised(reasonNotDovecot)
	}
	msg := string(text)
	if !hasKnownPrefix(msg) {
		return parsers.Record{}, parsers.Unrecognised(reasonNotDovecot)
	}
	var rec record
	rec.Server, rec.Grammar = "dovecot", "dovecot"
	// No time: the mapper then leaves the event's timestamp out, which
	// RFC 5423 allows. -1 is the envelope's precision for a zero Time.
	rec.Precision = -1
	rec.Pos = line.Position
	// Like the log file, a bare message has no tag vouching for Dovecot, so
	// it is parsed as tagless: a prefix without a user is not enough.
	return rec.finish(parseMessage(&rec, msg, true))
}

// hasKnownPrefix reports whether msg starts with a process prefix naming a
// Dovecot process. Any program can write "name: text", so the name must be
// one of Dovecot's own for a line without envelope to be claimed.
func hasKnownPrefix(msg string) bool {
	var p prefix
	ok := parsePrefix(msg, &p)
	// parsePrefix lower-cases the name; the case must be Dovecot's own, so
	// the raw bytes (same length, the name being ASCII) are looked up.
	return ok && bareProcesses[msg[:len(p.name)]]
}

// bareProcesses are the service names Dovecot writes as a process prefix,
// with 1.x's upper-case IMAP and POP3. Helpers whose names other software
// shares too easily (e.g. "ssl-params") are left out: a bare line gives no
// other evidence of coming from Dovecot.
var bareProcesses = map[string]bool{
	"imap": true, "pop3": true, "lmtp": true, "lda": true, "deliver": true,
	"doveadm": true, "managesieve": true, "submission": true,
	"imap-login": true, "pop3-login": true, "submission-login": true,
	"managesieve-login": true, "master": true, "auth": true,
	"auth-worker": true, "config": true, "anvil": true, "log": true,
	"stats": true, "indexer": true, "indexer-worker": true, "dict": true,
	"quota-status": true, "IMAP": true, "POP3": true,
}
