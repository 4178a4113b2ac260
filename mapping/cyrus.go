package mapping

import (
	"fmt"
	"net/netip"
	"strconv"

	"github.com/mailevents/mailevents/event"
	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/parsers/cyrus"
)

// Vendor parameters of the Cyrus mapping that the Dovecot one lacks.
const (
	cyClientHost event.Param = "vnd.mailevents.clientHost"
	cyRetr       event.Param = "vnd.mailevents.retr"
	cyTop        event.Param = "vnd.mailevents.top"
	cyDele       event.Param = "vnd.mailevents.dele"
)

// CyrusOptions configures the Cyrus mapper.
type CyrusOptions struct {
	// ServerHost names the server in URLs when the line has no host; ""
	// means "localhost".
	ServerHost string
	// PlainFlagsSet emits FlagsSet for \Seen and \Deleted too, instead of
	// MessageRead and MessageTrash (RFC 5423 §4.2 lets a server do either).
	PlainFlagsSet bool
	// MaxSessions bounds the logins remembered (default 10000).
	MaxSessions int
	// MaxMailboxes bounds the UIDVALIDITYs and the pending duplicate lines
	// remembered (default 100000).
	MaxMailboxes int
}

// Cyrus maps the Records of parsers/cyrus.
type Cyrus struct {
	opts CyrusOptions
	// sessions holds each open session's login, by SESSIONID; Logout
	// removes it, so a second traffic line of the same session (Cyrus logs
	// one more at process shutdown) is no second Logout.
	sessions *dcBounded[string, cySession]
	// pids holds the session a process serves now: the lines that carry no
	// sessionid ("Rename:", "Deleted mailbox", "Delivered:", pop3
	// "counts:") belong to it.
	pids *dcBounded[cyPIDKey, string]
	// uidvalidity holds what "auditlog: create" said, by internal name;
	// renames carry it along, deletes drop it.
	uidvalidity *dcBounded[cyBoxKey, uint32]
	// pending pairs the two lines Cyrus writes for one change (auditlog
	// append and Delivered:, Deleted mailbox and auditlog delete): the
	// first is emitted, the second dropped.
	pending *dcBounded[cyPendingKey, bool]
}

type cySession struct {
	user, service, clientIP, clientHost, mech string
	tls                                       bool
}

type cyPIDKey struct {
	host string
	pid  int
}

type cyBoxKey struct{ host, box string }

// cyPendingKey names one change by the process that logged it; audit says
// which of the two lines came first.
type cyPendingKey struct {
	host      string
	pid       int
	kind, box string
	extra     string // the new name of a rename, the Message-ID of a delivery
}

// NewCyrus returns a mapper with empty state.
func NewCyrus(opts CyrusOptions) *Cyrus {
	if opts.MaxSessions <= 0 {
		opts.MaxSessions = 10000
	}
	if opts.MaxMailboxes <= 0 {
		opts.MaxMailboxes = 100000
	}
	return &Cyrus{
		opts:        opts,
		sessions:    newDCBounded[string, cySession](opts.MaxSessions),
		pids:        newDCBounded[cyPIDKey, string](opts.MaxSessions),
		uidvalidity: newDCBounded[cyBoxKey, uint32](opts.MaxMailboxes),
		pending:     newDCBounded[cyPendingKey, bool](opts.MaxMailboxes),
	}
}

func cyUnmapped(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnmapped, fmt.Sprintf(format, args...))
}

// Map implements Mapper.
func (c *Cyrus) Map(dst []event.Event, rec *parsers.Record) ([]event.Event, error) {
	pk := cyPIDKey{rec.Host, rec.PID}
	if rec.Session != "" {
		if rec.PID > 0 {
			c.pids.put(pk, rec.Session)
		}
	} else if rec.PID > 0 && rec.Action != cyrus.ActionLogin && rec.Action != cyrus.ActionLoginFailed {
		// A failed login has no session; a later one must not borrow the
		// process's previous session.
		rec.Session, _ = c.pids.get(pk)
	}
	switch rec.Action {
	case cyrus.ActionLogin:
		return c.login(dst, rec), nil
	case cyrus.ActionLoginFailed:
		return c.loginFailed(dst, rec), nil
	case cyrus.ActionTraffic, cyrus.ActionCounts:
		return c.logout(dst, rec), nil
	case cyrus.ActionAppend, cyrus.ActionDelivered:
		return c.appended(dst, rec)
	case cyrus.ActionExpunge, cyrus.ActionTouched:
		return c.changed(dst, rec)
	case cyrus.ActionCreate, cyrus.ActionDelete, cyrus.ActionMailboxDeleted,
		cyrus.ActionRename, cyrus.ActionMailboxRenamed:
		return c.mailbox(dst, rec)
	case cyrus.ActionQuota:
		return c.quota(dst, rec)
	case cyrus.ActionExpunged:
		// A count without UIDs: the auditlog expunge lines name each
		// message (MessageExpunge and MessageExpire need a uidset).
		return dst, nil
	}
	return dst, cyUnmapped("cyrus action %q", rec.Action)
}

// cyService turns a Cyrus service or program name into the RFC 5423
// service, as Cyrus's own notifications name it: "imapd" is "imap".
func cyService(process string) string {
	switch process {
	case "imapd":
		return "imap"
	case "pop3d":
		return "pop3"
	case "lmtpd":
		return "lmtp"
	case "timsieved", "managesieve":
		return "sieve"
	case "httpd":
		return "http"
	case "nntpd":
		return "nntp"
	case "deliver", "cyrdeliver":
		return "lmtp"
	}
	return process
}

// cyIsDelivery reports the services whose appends are new mail.
func cyIsDelivery(process string) bool {
	switch cyService(process) {
	case "lmtp", "lmtps", "lmtpunix":
		return true
	}
	return len(process) > 4 && process[:4] == "lmtp"
}

// cyIsExpiry reports the tools whose expunges are expiry, not a user's.
func cyIsExpiry(process string) bool { return process == "cyr_expire" || process == "ipurge" }

// host returns the server name for URLs; a logged host that is not a
// valid URL host falls back like a missing one.
func (c *Cyrus) host(rec *parsers.Record) string {
	if rec.Host != "" && (event.URL{Host: rec.Host}).Validate() == nil {
		return rec.Host
	}
	if c.opts.ServerHost != "" {
		return c.opts.ServerHost
	}
	return "localhost"
}

func (c *Cyrus) session(rec *parsers.Record) (cySession, bool) {
	if rec.Session == "" {
		return cySession{}, false
	}
	return c.sessions.get(rec.Session)
}

// cyLoginInfo reads the client of a login line, keeping only an address
// the output schema accepts.
func cyLoginInfo(rec *parsers.Record) cySession {
	s := cySession{user: rec.User, service: cyService(rec.Process)}
	if v, _ := rec.Get("clientip"); v != "" {
		if a, err := netip.ParseAddr(v); err == nil {
			s.clientIP = a.WithZone("").String()
		}
	}
	s.clientHost, _ = rec.Get("clienthost")
	s.mech, _ = rec.Get("mech")
	tls, _ := rec.Get("tls")
	s.tls = tls == "yes"
	return s
}

func (c *Cyrus) login(dst []event.Event, rec *parsers.Record) []event.Event {
	s := cyLoginInfo(rec)
	p := cyParams{sess: s, user: rec.User, uri: event.URLValue(event.URL{Host: c.host(rec)}), hasTLS: true}
	if rec.Session != "" {
		c.sessions.put(rec.Session, s)
	}
	return append(dst, c.emit(event.Login, rec, &p))
}

func (c *Cyrus) loginFailed(dst []event.Event, rec *parsers.Record) []event.Event {
	p := cyParams{sess: cyLoginInfo(rec), user: rec.User, uri: event.URLValue(event.URL{Host: c.host(rec)}), hasTLS: true}
	p.reason, _ = rec.Get("reason")
	return append(dst, c.emit(event.LoginFailed, rec, &p))
}

// logout maps the end of a session: the auditlog traffic line (imapd logs
// it at LOGOUT) or pop3d's counts line (written at QUIT; its traffic line
// waits for the process to exit). Only the first of them for an open
// session is a Logout.
func (c *Cyrus) logout(dst []event.Event, rec *parsers.Record) []event.Event {
	s, ok := c.session(rec)
	if !ok {
		return dst
	}
	c.sessions.del(rec.Session)
	if cur, _ := c.pids.get(cyPIDKey{rec.Host, rec.PID}); cur == rec.Session {
		c.pids.del(cyPIDKey{rec.Host, rec.PID})
	}
	p := cyParams{sess: s, user: s.user, uri: event.URLValue(event.URL{Host: c.host(rec)})}
	e := c.emit(event.Logout, rec, &p)
	for _, f := range rec.Fields {
		n, err := strconv.ParseInt(f.Value, 10, 64)
		if err != nil || n < 0 {
			continue
		}
		switch f.Key {
		case "bytes_in":
			e.SetInt(dcBytesIn, n)
		case "bytes_out":
			e.SetInt(dcBytesOut, n)
		case "retr":
			e.SetInt(cyRetr, n)
		case "top":
			e.SetInt(cyTop, n)
		case "dele":
			e.SetInt(cyDele, n)
		}
	}
	return append(dst, e)
}
