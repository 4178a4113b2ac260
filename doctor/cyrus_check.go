package doctor

import (
	"slices"
	"strings"

	"github.com/mailevents/mailevents/event"
)

// CyrusInput is what CheckCyrus examines.
type CyrusInput struct {
	// Source names the file in the report.
	Source string
	// Text is the imapd.conf.
	Text []byte
	// Include reads the files of "@include:" lines; nil: they are not
	// read (a finding says so).
	Include func(file string) ([]byte, error)
}

// Cyrus's defaults (imapd.conf(5) of 3.6.1, as cyr_info conf-default
// prints them).
const (
	cyDefaultGroups = "message mailbox"
	cyDefaultExtra  = "timestamp"
)

// What packaging/cyrus/imapd-mailevents.conf sets: the values proposed.
const (
	cyWantNotifier = "log"
	cyWantSocket   = "dlist:/run/cyrus/socket/mailevents"
)

var (
	cyWantGroups = strings.Fields("message flags access mailbox subscription")
	cyWantExtra  = strings.Fields("timestamp service clientAddress flagNames messageSize diskUsed vnd.cmu.sessionId vnd.cmu.midset")
	// The values Cyrus 3.6.1 accepts; it refuses to start on any other.
	cyKnownGroups = strings.Fields("message quota flags access mailbox subscription calendar applepushservice")
	cyKnownExtra  = strings.Fields("bodyStructure clientAddress diskUsed flagNames messageContent messageSize messages modseq " +
		"service timestamp uidnext vnd.cmu.midset vnd.cmu.unseenMessages vnd.cmu.envelope vnd.cmu.sessionId " +
		"vnd.cmu.mailboxACL vnd.cmu.mbtype vnd.cmu.davFilename vnd.cmu.davUid vnd.cmu.emailid vnd.cmu.threadid")
)

type cyrusCheck struct {
	cfg      *CyrusConfig
	findings findings

	auditlog      bool
	configdir     string
	notifier      string
	socket        string
	notifications bool   // notifications reach mailevents
	notifyReason  string // why they do not
	groups, extra []string

	// Lines to propose.
	needAuditlog bool
	needNotify   bool
	needGroups   []string
	needExtra    []string
}

// CheckCyrus tells, for the imapd.conf in in.Text, which event types
// mailevents will see in Cyrus's syslog lines and native notifications.
func CheckCyrus(in CyrusInput) ServerReport {
	cfg := ParseImapdConf(in.Source, in.Text, in.Include)
	c := &cyrusCheck{cfg: cfg}
	for _, p := range cfg.Problems {
		c.findings.add(Error, "", "Cyrus refuses this file: %s", p)
	}
	c.read()
	r := ServerReport{Server: "cyrus", Source: in.Source}
	for _, t := range EventTypes() {
		r.Events = append(r.Events, c.event(t).result(t))
	}
	c.general()
	r.Findings = c.findings
	r.Changes = c.changes()
	r.finish()
	return r
}

// read takes the settings that matter, with their defaults.
func (c *cyrusCheck) read() {
	if o, ok := c.cfg.Get("auditlog"); ok {
		on, valid := cyrusSwitch(o.Value)
		if !valid {
			c.findings.add(Error, "auditlog", "auditlog: %s is not a switch Cyrus accepts (yes/no, on/off, true/false, 1/0, lower case): it refuses to start", o.Value)
		}
		c.auditlog = on
	}
	if o, ok := c.cfg.Get("configdirectory"); ok {
		c.configdir = o.Value
	}
	if o, ok := c.cfg.Get("event_notifier"); ok {
		c.notifier = o.Value
	}
	c.socket = "{configdirectory}/socket/notify"
	if o, ok := c.cfg.Get("notifysocket"); ok {
		c.socket = o.Value
	}
	c.groups = c.bitfield("event_groups", cyDefaultGroups, cyKnownGroups)
	c.extra = c.bitfield("event_extra_params", cyDefaultExtra, cyKnownExtra)

	switch {
	case c.notifier == "":
		c.notifyReason = "event_notifier is not set, so Cyrus sends no notifications"
	case notifydSocket(c.socket, c.configdir) && c.notifier != "log":
		c.notifyReason = "notifications go to notifyd (notifysocket: " + c.socket + "), whose " + c.notifier + " method does not hand them to mailevents"
	default:
		c.notifications = true
	}
}

// bitfield reads a space-separated list option.
func (c *cyrusCheck) bitfield(key, def string, known []string) []string {
	o, ok := c.cfg.Get(key)
	if !ok {
		return strings.Fields(def)
	}
	values := strings.Fields(o.Value)
	for _, v := range values {
		if !slices.Contains(known, v) && !strings.HasPrefix(v, "vnd.fastmail.") {
			c.findings.add(Warning, key, "%s: %s is not a value Cyrus 3.6.1 knows, and Cyrus refuses to start on a value it does not know", key, v)
		}
	}
	return values
}

func (c *cyrusCheck) group(g string) bool { return c.notifications && slices.Contains(c.groups, g) }

// noNotification says why notifications give no event of group g, and
// records the lines that would.
func (c *cyrusCheck) noNotification(v *verdict, g string) {
	if !c.notifications {
		v.addDetail(c.notifyReason)
		v.addSetting("event_notifier")
		c.needNotify = true
	} else {
		v.addSetting("event_groups")
	}
	if !slices.Contains(c.groups, g) {
		if c.notifications {
			v.addDetail("event_groups lacks " + g)
		}
		if g != "quota" {
			c.needGroups = appendNew(c.needGroups, g)
		}
	}
}

// needParam checks that the notifications carry param, which Cyrus adds
// only when event_extra_params lists it; what names the event's loss.
func (c *cyrusCheck) needParam(v *verdict, param, what string) bool {
	if slices.Contains(c.extra, param) {
		return true
	}
	c.needExtra = appendNew(c.needExtra, param)
	v.addDetail("without " + what + ": event_extra_params lacks " + param)
	v.addSetting("event_extra_params")
	return false
}

// event examines one event type. The evidence of each is listed in
// parsers/cyrus/README.md (syslog, auditlog) and parsers/cyrusjson.
func (c *cyrusCheck) event(t event.Type) *verdict {
	v := &verdict{status: NotSeen}
	ok := func(via string) {
		if v.status != Seen {
			v.status, v.detail, v.settings = Seen, nil, nil
		}
		v.addVia(via)
	}
	// auditlogOrGroup: the event comes from the auditlog or from the
	// notifications of group g.
	auditlogOrGroup := func(g string) {
		if c.auditlog {
			ok("auditlog")
		}
		if c.group(g) {
			ok("notifications")
		}
		if v.status == NotSeen {
			v.addDetail("auditlog is off")
			v.addSetting("auditlog")
			c.needAuditlog = true
			c.noNotification(v, g)
		}
	}
	switch t {
	case event.LoginFailed:
		ok("syslog")
	case event.Login:
		v.status, v.via = Partly, []string{"syslog"}
		if c.group("access") {
			v.addVia("notifications")
			if c.needParam(v, "clientAddress", "clientPort") {
				v.status = Seen
			}
		} else {
			v.addDetail("without clientPort: Cyrus's login: line has no port, its notifications do (event_groups access, event_extra_params clientAddress)")
			c.noNotification(v, "access")
			c.needExtra = appendNew(c.needExtra, "clientAddress")
		}
	case event.Logout:
		auditlogOrGroup("access")
		if v.status == NotSeen {
			v.status, v.via = Partly, []string{"syslog"}
			v.detail = append([]string{"POP3 logouts only (pop3d's counts: line): IMAP's need the auditlog"}, v.detail...)
		}
	case event.MessageNew, event.MessageAppend:
		auditlogOrGroup("message")
		if v.status == Seen && !c.auditlog {
			if !c.needParam(v, "messageSize", "messageSize") {
				v.status = Partly
			}
		}
		if t == event.MessageNew && v.status == NotSeen {
			v.status, v.via = Partly, []string{"syslog"}
			v.detail = append([]string{"without UID and messageSize (only lmtpd's Delivered: line)"}, v.detail...)
		}
	case event.MessageExpunge, event.MessageExpire:
		auditlogOrGroup("message")
	case event.MessageRead, event.MessageTrash:
		auditlogOrGroup("flags")
	case event.FlagsSet, event.FlagsClear:
		auditlogOrGroup("flags")
		if v.status == Seen && !c.group("flags") {
			v.status = Partly
			v.addDetail("without keywords: the auditlog records system flags only")
			c.noNotification(v, "flags")
		}
	case event.MailboxCreate:
		auditlogOrGroup("mailbox")
	case event.MailboxDelete, event.MailboxRename:
		ok("syslog")
		if c.auditlog {
			v.addVia("auditlog")
		}
		if c.group("mailbox") {
			v.addVia("notifications")
		}
	case event.QuotaChange:
		auditlogOrGroup("quota")
	case event.QuotaExceed, event.QuotaWithin:
		if c.group("quota") {
			ok("notifications")
			break
		}
		v.addDetail("Cyrus reports it in notifications only")
		c.noNotification(v, "quota")
		if !slices.Contains(c.groups, "quota") {
			v.addDetail("but the quota group makes Cyrus 3.6.1's lmtpd crash on a delivery over quota (parsers/cyrus/README.md, Known Cyrus defects): add it only to a Cyrus where that is fixed")
		}
	case event.MailboxSubscribe, event.MailboxUnSubscribe:
		if c.group("subscription") {
			ok("notifications")
			break
		}
		v.addDetail("Cyrus reports it in notifications only")
		c.noNotification(v, "subscription")
	}
	return v
}

// general adds the findings about the configuration as a whole.
func (c *cyrusCheck) general() {
	for _, key := range []string{"auditlog", "event_notifier", "notifysocket", "event_groups", "event_extra_params", "syslog_facility"} {
		for _, o := range c.cfg.ServiceSpecific(key) {
			svc := strings.TrimSuffix(o.Key, "_"+key)
			c.findings.add(Warning, key, "%s: %s sets %s for the service %s only; this report reads the setting that applies to every service", o.Key, o.Value, key, svc)
		}
	}
	if o, ok := c.cfg.Get("syslog_facility"); ok {
		c.findings.add(Info, "syslog_facility", "Cyrus logs with facility %s: have mailevents read the file your syslog daemon writes it to (Debian's rsyslog has no rule of its own for local6, so its lines go to /var/log/syslog only)", o.Value)
	} else {
		c.findings.add(Info, "syslog_facility", "syslog_facility is not set: Cyrus logs with the facility compiled into it; have mailevents read the file your syslog daemon writes that to")
	}
	if c.notifications && notifydSocket(c.socket, c.configdir) {
		c.findings.add(Info, "notifysocket", "notifications go to notifyd (notifysocket: %s): mailevents reads what notifyd's log method writes to syslog (grammar cyrus-json) — or listens itself with notifysocket: %s", c.socket, cyWantSocket)
	}
	if c.notifications && !strings.HasPrefix(c.socket, "dlist:") {
		for _, p := range []string{"messageContent", "bodyStructure"} {
			if slices.Contains(c.extra, p) {
				c.findings.add(Warning, "event_extra_params", "event_extra_params has %s: notifications sent as datagrams that grow too large are dropped by Cyrus (\"datagram too large\"); use notifysocket: dlist:… or leave it out", p)
			}
		}
	}
	if c.group("quota") {
		c.findings.add(Warning, "event_groups", "event_groups has quota: on Cyrus 3.6.1 lmtpd dies on an assertion when a delivery crosses a quota and answers 421 (parsers/cyrus/README.md, Known Cyrus defects)")
	}
	if c.auditlog && c.notifications {
		c.findings.add(Info, "", "the auditlog and the notifications both report most actions: read both with mailevents parse --dedup, or one of them")
		if !slices.Contains(c.extra, "vnd.cmu.sessionId") {
			c.findings.add(Warning, "event_extra_params", "event_extra_params lacks vnd.cmu.sessionId: --dedup cannot pair the notifications with the auditlog's lines")
		}
	}
	if c.notifications {
		if o, ok := c.cfg.Get("event_exclude_specialuse"); !ok {
			c.findings.add(Info, "event_exclude_specialuse", "notifications leave out mailboxes with special use \\Junk (event_exclude_specialuse's default)")
		} else if o.Value != "" {
			c.findings.add(Info, "event_exclude_specialuse", "notifications leave out mailboxes with special use %s (event_exclude_specialuse)", o.Value)
		}
		if o, ok := c.cfg.Get("event_exclude_flags"); ok {
			c.findings.add(Info, "event_exclude_flags", "notifications leave out changes of the flags %s (event_exclude_flags)", o.Value)
		}
	}
}

// changes turns what the events need into imapd.conf lines.
func (c *cyrusCheck) changes() []Change {
	var out []Change
	add := func(key, value string) {
		ch := Change{Setting: key, Lines: []string{key + ": " + value}}
		if o, ok := c.cfg.Get(key); ok {
			if o.Value == value {
				return
			}
			ch.Current = key + ": " + o.Value
		}
		out = append(out, ch)
	}
	if c.needAuditlog {
		add("auditlog", "yes")
	}
	if c.needNotify {
		if c.notifier == "" || notifydSocket(c.socket, c.configdir) && c.notifier != "log" {
			add("event_notifier", cyWantNotifier)
		}
		if notifydSocket(c.socket, c.configdir) {
			add("notifysocket", cyWantSocket)
		}
	}
	if len(c.needGroups) > 0 {
		add("event_groups", strings.Join(appendNew(slices.Clone(c.groups), orderedLike(c.needGroups, cyWantGroups)...), " "))
	}
	// With both paths on, --dedup pairs their reports by session id.
	if (c.auditlog || c.needAuditlog) && (c.notifications || c.needNotify) && !slices.Contains(c.extra, "vnd.cmu.sessionId") {
		c.needExtra = appendNew(c.needExtra, "vnd.cmu.sessionId")
	}
	if len(c.needExtra) > 0 {
		add("event_extra_params", strings.Join(appendNew(slices.Clone(c.extra), orderedLike(c.needExtra, cyWantExtra)...), " "))
	}
	return out
}

// orderedLike returns items in the order they have in ref.
func orderedLike(items, ref []string) []string {
	var out []string
	for _, r := range ref {
		if slices.Contains(items, r) {
			out = append(out, r)
		}
	}
	for _, x := range items {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
