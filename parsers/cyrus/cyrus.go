// Package cyrus is the grammar of Cyrus IMAP's syslog lines (2.4 to 3.12
// prose, and the 3.13 logfmt lines): logins, lmtpd deliveries, the auditlog
// (auditlog: yes) and the few other prose lines that evidence an RFC 5423
// event. Mailbox names stay in Cyrus's internal form in the Records;
// ParseInternalMailbox turns them into the owner's namespace for the mapper
// (mapping/cyrus.go). README.md lists every shape handled.
package cyrus

import (
	"strings"

	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/parsers/syslog"
	"github.com/mailevents/mailevents/source"
)

// Actions of the Records this grammar returns: Cyrus's own words, with the
// auditlog actions prefixed "auditlog." as 3.13's logfmt names them.
const (
	ActionLogin          = "login"
	ActionLoginFailed    = "login_failed"
	ActionAppend         = "auditlog.append"
	ActionExpunge        = "auditlog.expunge"
	ActionTouched        = "auditlog.touched"
	ActionCreate         = "auditlog.create"
	ActionDelete         = "auditlog.delete"
	ActionRename         = "auditlog.rename"
	ActionQuota          = "auditlog.quota" // setquota, newquota, rmquota: field "quota" says which
	ActionTraffic        = "auditlog.traffic"
	ActionDelivered      = "delivered"       // lmtpd "Delivered:"
	ActionMailboxRenamed = "rename"          // "Rename: A -> B"
	ActionMailboxDeleted = "deleted_mailbox" // "Deleted mailbox X"
	ActionExpunged       = "expunged"        // "Expunged N messages from X"
	ActionCounts         = "counts"          // pop3d "counts:" at QUIT
)

// FieldNames is set to "external" on Records of 3.13's logfmt lines, whose
// mailbox names are external (ParseExternalMailbox) rather than internal.
const FieldNames = "names"

// Reasons of the syntax errors: metrics labels, never values from the line.
const (
	reasonNotCyrus      = "not a cyrus line"
	reasonUnknown       = "unknown cyrus message"
	reasonBadClienthost = "bad client host"
	reasonBadAuditlog   = "bad auditlog line"
	reasonBadNumber     = "bad number"
	reasonBadLogfmt     = "bad logfmt line"
	reasonBadLine       = "bad line"
)

// Grammar parses Cyrus lines. It is safe for concurrent use.
type Grammar struct {
	Envelope syslog.Parser
}

// New returns a Grammar that strips envelopes with env.
func New(env syslog.Parser) *Grammar { return &Grammar{Envelope: env} }

// Name implements parsers.Parser.
func (*Grammar) Name() string { return "cyrus" }

// Server implements parsers.Parser.
func (*Grammar) Server() string { return "cyrus" }

// Parse implements parsers.Parser.
func (g *Grammar) Parse(line source.Line) (parsers.Record, error) {
	env, err := g.Envelope.Parse(line.Text)
	if err != nil {
		return parsers.Record{}, parsers.Unrecognised(reasonNotCyrus)
	}
	service, ok := ServiceOfTag(env.Tag)
	if !ok {
		return parsers.Record{}, parsers.Unrecognised(reasonNotCyrus)
	}
	rec := parsers.Record{
		Server:    "cyrus",
		Grammar:   "cyrus",
		Time:      env.Time,
		Precision: env.Precision,
		Host:      env.Host,
		Process:   service,
		PID:       env.PID,
		Pos:       line.Position,
	}
	if err := parseMessage(&rec, string(env.Message)); err != nil {
		return parsers.Record{}, err
	}
	return rec, nil
}

// ServiceOfTag returns the Cyrus service a syslog tag names: "cyrus/imap"
// (Debian's syslog_prefix), "{prefix}/{service}" for a custom
// syslog_prefix, or the bare program name ("imapd", "lmtpunix").
func ServiceOfTag(tag string) (string, bool) {
	prefix, service, hasPrefix := strings.Cut(tag, "/")
	if !hasPrefix {
		return tag, isCyrusService(tag)
	}
	switch {
	case service == "" || strings.IndexByte(service, '/') >= 0:
		return "", false
	case prefix == "cyrus":
		// cyrus.conf names services freely (imaps, lmtpunix, sieve-tls).
		return service, true
	case prefix == "postfix":
		// Postfix's own daemons share names with Cyrus's (lmtp, master).
		return "", false
	}
	return service, prefix != "" && isCyrusService(service)
}

// isCyrusService reports the service and program names Cyrus logs under
// (cyrus.conf's usual service names and the binaries of the distribution).
func isCyrusService(s string) bool {
	switch s {
	case "imap", "imapd", "imaps", "pop3", "pop3d", "pop3s", "lmtp", "lmtpd", "lmtpunix",
		"sieve", "timsieved", "managesieve", "master", "cyrmaster", "ctl_cyrusdb", "ctl_mboxlist",
		"ctl_deliver", "cyr_expire", "ipurge", "squatter", "idled", "notifyd", "httpd", "http",
		"https", "nntp", "nntpd", "fud", "sync_client", "sync_server", "syncserver",
		"cyrdeliver", "deliver", "reconstruct", "quota", "tls_prune", "delprune",
		"cyr_dbtool", "mupdate", "proxyd", "lmtpproxyd", "cyr_info", "arbitron", "backupd":
		return true
	}
	return false
}

// parseMessage dispatches on the message's first words.
func parseMessage(rec *parsers.Record, msg string) error {
	msg = strings.TrimRight(msg, " ")
	switch {
	case strings.HasPrefix(msg, "login: "):
		return parseLogin(rec, msg[len("login: "):])
	case strings.HasPrefix(msg, "badlogin: "):
		return parseBadLogin(rec, msg[len("badlogin: "):])
	case strings.HasPrefix(msg, "auditlog: "):
		return parseAuditlog(rec, msg[len("auditlog: "):])
	case strings.HasPrefix(msg, "event="):
		return parseLogfmt(rec, msg)
	case strings.HasPrefix(msg, "Delivered: "):
		return parseDelivered(rec, msg[len("Delivered: "):])
	case strings.HasPrefix(msg, "Rename: "):
		old, nw, ok := strings.Cut(msg[len("Rename: "):], " -> ")
		if !ok || old == "" || nw == "" || strings.IndexByte(old, ' ') >= 0 || strings.IndexByte(nw, ' ') >= 0 {
			return parsers.Malformation(reasonBadLine, msg)
		}
		rec.Action = ActionMailboxRenamed
		rec.Add("oldmailbox", old)
		rec.Add("newmailbox", nw)
		return nil
	case strings.HasPrefix(msg, "Deleted mailbox "):
		box := msg[len("Deleted mailbox "):]
		if box == "" || strings.IndexByte(box, ' ') >= 0 {
			return parsers.Malformation(reasonBadLine, msg)
		}
		rec.Action = ActionMailboxDeleted
		rec.Add("mailbox", box)
		return nil
	case strings.HasPrefix(msg, "Expunged "):
		return parseExpunged(rec, msg)
	case strings.HasPrefix(msg, "counts: "):
		rec.Action = ActionCounts
		return parseAngleFields(rec, msg[len("counts: "):])
	}
	if isChatter(rec.Process, msg) {
		return parsers.ErrIgnored
	}
	return parsers.Unrecognised(reasonUnknown)
}

// parseExpunged reads "Expunged {n} messages from {mailbox}".
func parseExpunged(rec *parsers.Record, msg string) error {
	n, rest, ok := strings.Cut(msg[len("Expunged "):], " ")
	box, found := strings.CutPrefix(rest, "messages from ")
	if !ok || !found || !parsers.IsDigits(n) || box == "" {
		if !ok || !found {
			// "Expunged message …" and other wordings: no count to read.
			return parsers.ErrIgnored
		}
		return parsers.Malformation(reasonBadNumber, msg)
	}
	rec.Action = ActionExpunged
	rec.Add("count", n)
	rec.Add("mailbox", box)
	return nil
}

// isChatter reports the Cyrus lines known to evidence no event: process
// bookkeeping, resource usage, database maintenance, errors of a command.
// Processes that never act for a client (master, ctl_cyrusdb, …) are chatter
// whatever they say.
func isChatter(process, msg string) bool {
	switch process {
	case "notifyd":
		// notifyd's log method writes the native event notifications as
		// quoted JSON: those belong to the cyrus-json grammar, which the
		// detector tries once this one calls them unknown.
		return !strings.Contains(msg, `"{`)
	case "master", "cyrmaster", "ctl_cyrusdb", "ctl_mboxlist", "ctl_deliver", "squatter", "idled",
		"tls_prune", "delprune", "cyr_dbtool", "cyr_info", "arbitron", "quota", "reconstruct",
		"sync_client", "sync_server", "syncserver", "mupdate", "fud", "backupd":
		return true
	}
	for _, p := range chatterPrefixes {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// chatterPrefixes start the known lines of the service processes that carry
// no event. Anything else from a Cyrus service is rejected as unknown, so
// that a new shape is noticed.
var chatterPrefixes = [...]string{
	"USAGE ", "graceful shutdown", "created stage directory", "accepted connection",
	"IOERROR", "DBERROR", "Fatal error", "fatal error", "skiplist:", "twoskip:", "seen_db:",
	"starttls:", "TLS ", "SSL_accept", "imapd:Loading", "pop3d:Loading", "dupelim:",
	"duplicate_check", "duplicate_mark", "sieve ", "autosieve", "executed", "process type",
	"open: user", "mystore:", "verify_user", "lmtp connection", "LMTP ", "lost connection",
	"idle ", "Doing a peer verify", "received ", "cyrus_", "mboxlist", "mailbox_", "proc_",
	"debug:", "Connection reset", "telemetry", "couldn't", "unable to", "failed to",
	"ptload", "ptclient", "SASL", "No worthy mechs", "shutdown", "exiting", "Unable to",
	"ctl_cyrusdb", "checkpointing", "done checkpointing", "recovering", "done recovering",
	"archiving", "expunging", "Expunged message", "cyr_expire:", "pop3d: ", "imapd: ",
	"client id", "ID: ", "IMAP4rev1", "user ", "Autocreate", "autocreate",
	// cyr_expire's bookkeeping (real 3.6.1); its auditlog lines are events.
	"Repacking mailbox ", "Removed unused cache file ", "Expired ", "duplicate_prune:",
}
