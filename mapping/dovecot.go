package mapping

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/mailevents/mailevents/event"
	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/parsers/dovecot"
)

// Vendor parameters of the Dovecot mapping.
const (
	dcMethod     event.Param = "vnd.mailevents.method"
	dcTLS        event.Param = "vnd.mailevents.tls"
	dcReason     event.Param = "vnd.mailevents.reason"
	dcDisconnect event.Param = "vnd.mailevents.disconnect"
	dcBytesIn    event.Param = "vnd.mailevents.bytesIn"
	dcBytesOut   event.Param = "vnd.mailevents.bytesOut"
	dcMsgID      event.Param = "vnd.mailevents.msgid"
	dcFrom       event.Param = "vnd.mailevents.from"
	dcSubject    event.Param = "vnd.mailevents.subject"
	dcTruncated  event.Param = "vnd.mailevents.truncated"
	dcFlagsState event.Param = "vnd.mailevents.flagsState"
)

// DovecotFlagsStateUnknownBefore marks a FlagsSet built from a flag_change whose
// earlier flags were not known: flagNames then lists every flag the message
// has, not only the ones just set.
const DovecotFlagsStateUnknownBefore = "unknown-before"

// DovecotOptions configures the Dovecot mapper.
type DovecotOptions struct {
	// ServerHost names the server in URLs when the line has no host (a
	// Dovecot log file, multilog); "" means "localhost".
	ServerHost string
	// PlainFlagsSet emits FlagsSet for \Seen and \Deleted too, instead of
	// MessageRead and MessageTrash (RFC 5423 §4.2 lets a server do either).
	PlainFlagsSet bool
	// MaxSessions bounds the logins remembered for correlation (default 10000).
	MaxSessions int
	// MaxMessages bounds the messages whose flags, and the deliveries whose
	// second log line, are remembered (default 100000).
	MaxMessages int
}

// Dovecot maps the Records of parsers/dovecot.
type Dovecot struct {
	opts     DovecotOptions
	sessions *dcBounded[string, dcSession]
	// flags holds a message's flags as dcFlags normalises them.
	flags   *dcBounded[dcMsgKey, string]
	pending *dcBounded[dcDeliveryKey, dcPendingDelivery]
	// kept holds the one copy of the strings the state tables keep that
	// recur (users, mailboxes, flag lists, addresses). A record's strings
	// are substrings of its line: kept as they are, each entry would hold
	// its whole line in memory for as long as the entry lives.
	kept *interner
	// The last host checked, so each line does not re-validate it.
	lastHost, lastHostURL string
	// The server URL of the last host, the uri of every session event.
	serverURIHost  string
	serverURIValue event.Value
	// counterNames caches the vendor names of logout counters
	// ("hdr_count" -> "vnd.mailevents.hdrCount"), built once per key
	// instead of once per logout.
	counterNames map[string]event.Param
}

// dcMaxCounterNames bounds counterNames: Dovecot has a dozen counters, but
// keys come from log lines.
const dcMaxCounterNames = 64

// dcMaxKept bounds kept: far more than the users and mailboxes that are
// active at once on a busy host, and little memory.
const dcMaxKept = 8192

// keepSession returns info with strings of its own.
func (d *Dovecot) keepSession(info dcSession) dcSession {
	info.clientIP = d.kept.get(info.clientIP)
	info.serverDomain = d.kept.get(info.serverDomain)
	info.method = d.kept.get(info.method)
	return info
}

// msgKey is the flags table's key for a message, with strings of its own.
func (d *Dovecot) msgKey(user, box string, uid uint32) dcMsgKey {
	return dcMsgKey{d.kept.get(user), d.kept.get(box), uid}
}

type dcSession struct {
	clientIP, serverDomain string
	clientPort, serverPort int64
	method                 string
}

type dcMsgKey struct {
	user, box string
	uid       uint32
}

// dcDeliveryKey identifies one delivery to one mailbox: LMTP/LDA logs it
// twice when mail_log is on ("save:" and "saved mail to").
type dcDeliveryKey struct{ user, session, box string }

type dcPendingDelivery struct {
	fromMailLog bool
	msgid       string
}

// NewDovecot returns a mapper with empty state.
func NewDovecot(opts DovecotOptions) *Dovecot {
	if opts.MaxSessions <= 0 {
		opts.MaxSessions = 10000
	}
	if opts.MaxMessages <= 0 {
		opts.MaxMessages = 100000
	}
	return &Dovecot{
		opts:         opts,
		sessions:     newDCBounded[string, dcSession](opts.MaxSessions),
		flags:        newDCBounded[dcMsgKey, string](opts.MaxMessages),
		pending:      newDCBounded[dcDeliveryKey, dcPendingDelivery](opts.MaxMessages),
		counterNames: make(map[string]event.Param),
		kept:         newInterner(dcMaxKept),
	}
}

func dcUnmapped(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnmapped, fmt.Sprintf(format, args...))
}

// Map implements Mapper.
func (d *Dovecot) Map(dst []event.Event, rec *parsers.Record) ([]event.Event, error) {
	switch rec.Action {
	case dovecot.ActionLogin:
		return d.login(dst, rec), nil
	case dovecot.ActionLoginFailed:
		return d.loginFailed(dst, rec), nil
	case dovecot.ActionDisconnect:
		return d.logout(dst, rec), nil
	case dovecot.ActionSave, dovecot.ActionCopy:
		return d.appended(dst, rec)
	case dovecot.ActionDeliver:
		return d.delivered(dst, rec), nil
	case dovecot.ActionDeliverFailed:
		return d.deliveryFailed(dst, rec)
	case dovecot.ActionExpunge, dovecot.ActionAutoexpunge, dovecot.ActionDelete,
		dovecot.ActionUndelete, dovecot.ActionFlagChange:
		return d.changed(dst, rec)
	case dovecot.ActionMailboxCreate, dovecot.ActionMailboxDelete, dovecot.ActionMailboxRename:
		return d.mailbox(dst, rec), nil
	}
	return dst, dcUnmapped("dovecot action %q", rec.Action)
}

// dcService turns a Dovecot process name into the RFC 5423 service: the
// protocol a login process serves, "admincli" for doveadm as Cyrus names
// its admin tools.
func dcService(process string) string {
	s := strings.TrimSuffix(process, "-login")
	switch s {
	case "deliver", "dovecot-lda":
		return "lda"
	case "doveadm":
		return "admincli"
	}
	return s
}

// host returns the server name for URLs; a logged host that is not a
// valid URL host ("(none)") falls back like a missing one.
func (d *Dovecot) host(rec *parsers.Record) string {
	if rec.Host != "" {
		if rec.Host == d.lastHost {
			return d.lastHostURL
		}
		h := rec.Host
		if (event.URL{Host: h}).Validate() != nil {
			h = ""
		}
		if h == "" {
			h = d.defaultHost()
		}
		d.lastHost, d.lastHostURL = rec.Host, h
		return h
	}
	return d.defaultHost()
}

func (d *Dovecot) defaultHost() string {
	if d.opts.ServerHost != "" {
		return d.opts.ServerHost
	}
	return "localhost"
}

// dcBaseSession drops the per-recipient suffix of LMTP session ids
// ("ID:R2", "ID:2").
func dcBaseSession(s string) string {
	if i := strings.IndexByte(s, ':'); i > 0 {
		return s[:i]
	}
	return s
}

// dcClientInfo reads the address elements of a login line, keeping only
// values the output schema accepts.
func dcClientInfo(rec *parsers.Record) dcSession {
	var s dcSession
	if v, _ := rec.Get("rip"); v != "" {
		if a, err := netip.ParseAddr(v); err == nil {
			s.clientIP = v
			if a.Zone() != "" {
				// A link-local zone names an interface of the server,
				// not part of the client's address.
				s.clientIP = a.WithZone("").String()
			}
		}
	}
	s.serverDomain, _ = rec.Get("lip")
	s.clientPort = dcPort(rec, "rport")
	s.serverPort = dcPort(rec, "lport")
	s.method, _ = rec.Get("method")
	return s
}

func dcPort(rec *parsers.Record, key string) int64 {
	v, _ := rec.Get(key)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 || n > 65535 {
		return 0
	}
	return n
}

func (d *Dovecot) login(dst []event.Event, rec *parsers.Record) []event.Event {
	info := dcClientInfo(rec)
	merged := d.withSessionPorts(rec, info)
	p := dcParams{sess: merged, uri: d.serverURI(rec)}
	for _, k := range [...]string{"mpid", "pid"} {
		if v, ok := rec.Get(k); ok {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
				p.pid = n
			}
		}
	}
	tls, _ := rec.Get("tls")
	p.tls, p.hasTLS = tls != "" && !strings.HasPrefix(tls, "TLS handshaking"), true
	e := d.emit(event.Login, rec, &p)
	if rec.Session != "" {
		d.sessions.put(strings.Clone(rec.Session), d.keepSession(info))
	}
	return append(dst, e)
}

// withSessionPorts completes the addresses of a login line with the ports
// of the session's earlier login that the line lacks (the line's own
// addresses and method win, even when empty).
func (d *Dovecot) withSessionPorts(rec *parsers.Record, info dcSession) dcSession {
	if s, ok := d.session(rec); ok {
		if info.clientPort <= 0 {
			info.clientPort = s.clientPort
		}
		if info.serverPort <= 0 {
			info.serverPort = s.serverPort
		}
	}
	return info
}

func (d *Dovecot) loginFailed(dst []event.Event, rec *parsers.Record) []event.Event {
	info := d.withSessionPorts(rec, dcClientInfo(rec))
	p := dcParams{sess: info, uri: d.serverURI(rec)}
	p.reason, _ = rec.Get("detail")
	if p.reason == "" {
		p.reason, _ = rec.Get("reason")
	}
	return append(dst, d.emit(event.LoginFailed, rec, &p))
}

func (d *Dovecot) logout(dst []event.Event, rec *parsers.Record) []event.Event {
	p := dcParams{sess: d.sessionOf(rec), uri: d.serverURI(rec)}
	e := d.emit(event.Logout, rec, &p)
	// The counters are vendor parameters, which Set keeps sorted by name.
	for _, f := range rec.Fields {
		switch f.Key {
		case "reason":
			e.SetString(dcReason, f.Value)
		case "disconnect":
			e.SetString(dcDisconnect, f.Value)
		case "in":
			dcSetCount(&e, dcBytesIn, f.Value)
		case "out":
			dcSetCount(&e, dcBytesOut, f.Value)
		case "bytes":
			// 1.x "bytes=in/out".
			in, out, _ := strings.Cut(f.Value, "/")
			dcSetCount(&e, dcBytesIn, in)
			dcSetCount(&e, dcBytesOut, out)
		default:
			// Other counters (deleted=, hdr_count=, pop3 retr=n/bytes, …)
			// keep Dovecot's text under a camel-cased vendor name.
			name := d.counterName(f.Key)
			if n, err := strconv.ParseInt(f.Value, 10, 64); err == nil {
				e.SetInt(name, n)
			} else {
				e.SetString(name, f.Value)
			}
		}
	}
	// The session is over: its login need not be remembered any longer.
	if rec.Session != "" {
		d.sessions.del(dcBaseSession(rec.Session))
	}
	return append(dst, e)
}

// counterName returns the vendor parameter of a logout counter.
func (d *Dovecot) counterName(key string) event.Param {
	if name, ok := d.counterNames[key]; ok {
		return name
	}
	name := event.Param("vnd.mailevents." + dcCamel(key))
	if len(d.counterNames) < dcMaxCounterNames {
		d.counterNames[key] = name
	}
	return name
}

// dcSetCount sets a byte counter; "14383074+19456" (output still buffered)
// counts what was sent.
func dcSetCount(e *event.Event, p event.Param, v string) {
	v, _, _ = strings.Cut(v, "+")
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
		e.SetInt(p, n)
	}
}

func dcCamel(s string) string {
	if strings.IndexByte(s, '_') < 0 {
		return s
	}
	var b strings.Builder
	up := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_':
			up = true
			continue
		case up && 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		up = false
		b.WriteByte(c)
	}
	return b.String()
}

func (d *Dovecot) mailbox(dst []event.Event, rec *parsers.Record) []event.Event {
	h := d.host(rec)
	p := dcParams{sess: d.sessionOf(rec)}
	t := event.MailboxRename
	name := ""
	switch rec.Action {
	case dovecot.ActionMailboxCreate:
		t = event.MailboxCreate
		name, _ = rec.Get("mailbox")
	case dovecot.ActionMailboxDelete:
		t = event.MailboxDelete
		name, _ = rec.Get("mailbox")
	default:
		name, _ = rec.Get("new")
		oldName, _ := rec.Get("old")
		p.oldMailboxID = event.URLValue(event.URL{User: rec.User, Host: h, Mailbox: oldName})
	}
	p.mailboxID = event.URLValue(event.URL{User: rec.User, Host: h, Mailbox: name})
	p.uri = p.mailboxID
	return append(dst, d.emit(t, rec, &p))
}

func (d *Dovecot) deliveryFailed(dst []event.Event, rec *parsers.Record) ([]event.Event, error) {
	reason, _ := rec.Get("reason")
	if q, _ := rec.Get("quota"); q != "yes" {
		return dst, dcUnmapped("delivery failed: %s", reason)
	}
	box, _ := rec.Get("mailbox")
	p := dcParams{sess: d.sessionOf(rec), reason: reason}
	p.uri = event.URLValue(event.URL{User: rec.User, Host: d.host(rec), Mailbox: box})
	p.msgid, _ = rec.Get("msgid")
	return append(dst, d.emit(event.QuotaExceed, rec, &p)), nil
}
