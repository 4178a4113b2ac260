package doctor

import (
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/mailevents/mailevents/event"
)

// DovecotInput is what CheckDovecot examines.
type DovecotInput struct {
	// Source names where Text came from in the report ("doveconf -n", a
	// file name).
	Source string
	// Text is the output of `doveconf -n`.
	Text string
	// Stderr is what doveconf wrote to stderr: its warnings ("Global
	// setting mail_plugins won't change the setting inside an earlier
	// filter") become findings.
	Stderr string
}

// Defaults of the settings mailevents depends on, where doveconf -n leaves
// them out. The mail_log ones are the plugin's built-in values: Dovecot
// 2.3.19 logs save, delete and expunge with box, uid, msgid and size when
// they are unset, and neither flag_change nor mailbox_create.
const (
	dcDefaultEvents    = "delete undelete expunge save copy mailbox_delete mailbox_rename"
	dcDefaultFields    = "uid box msgid size"
	dcDefaultElements  = "user=<%u> method=%m rip=%r lip=%l mpid=%e %c session=<%{session}>"
	dcDefaultElements4 = "user=<%{user}> method=%{mechanism} rip=%{remote_ip} lip=%{local_ip} mpid=%{mail_pid} %{secured} session=<%{session}>"
	dcDefaultPrefix    = "%s(%u)<%{pid}><%{session}>: "
	dcDefaultPrefix22  = "%s(%u): "
	dcDefaultPrefix4   = "%{service}(%{user})<%{process:pid}><%{session}>: "
)

// What packaging/dovecot/95-mailevents.conf (and its 2.4 twin) sets: the
// values the report proposes.
var (
	dcWantEvents = strings.Fields("save copy delete undelete expunge flag_change mailbox_create mailbox_delete mailbox_rename")
	dcWantFields = strings.Fields("uid box msgid size vsize flags from subject")
)

// dcElement describes a login_log_format_elements element the grammar reads.
type dcElement struct {
	key       string
	vars      []string // the variables that give its value, 2.3 and 2.4 names
	add, add4 string   // the element to add, in 2.3 and 2.4 syntax
	param     string   // what the events lack without it
}

var dcElements = []dcElement{
	{"user", []string{"u", "user", "n", "username", "original_user", "login_user"}, "user=<%u>", "user=<%{user}>", "user"},
	{"rip", []string{"r", "rip", "remote_ip", "real_rip", "real_remote_ip"}, "rip=%r", "rip=%{remote_ip}", "clientIP"},
	{"rport", []string{"b", "rport", "remote_port", "real_rport", "real_remote_port"}, "rport=%b", "rport=%{remote_port}", "clientPort"},
	{"lip", []string{"l", "lip", "local_ip", "real_lip", "real_local_ip"}, "lip=%l", "lip=%{local_ip}", "serverDomain"},
	{"lport", []string{"a", "lport", "local_port", "real_lport", "real_local_port"}, "lport=%a", "lport=%{local_port}", "serverPort"},
	{"session", []string{"session"}, "session=<%{session}>", "session=<%{session}>", "session id"},
}

// dovecotCheck examines one doveconf -n output.
type dovecotCheck struct {
	cfg       *DovecotConfig
	v24       bool
	protocols []string
	findings  findings
	// Lines to propose, gathered while the events are examined.
	needMailLog map[string]bool     // where notify and mail_log must be added: "" (the global mail_plugins) or a protocol's filter
	needPushIn  map[string]bool     // … the push plugins, for the subscriptions
	needEvents  map[string][]string // where → mail_log events to add
	needFields  map[string][]string // where → mail_log fields to add
	needElems   []string            // login_log_format_elements keys to add
	needPrefix  bool
	needPush    bool // the push driver's settings
}

// CheckDovecot tells, for the Dovecot configuration in in.Text, which event
// types mailevents will see in Dovecot's logs and its push stream.
func CheckDovecot(in DovecotInput) (ServerReport, error) {
	cfg, err := ParseDoveconf(in.Text)
	if err != nil {
		return ServerReport{}, err
	}
	d := &dovecotCheck{cfg: cfg, v24: cfg.Is24(), needEvents: map[string][]string{}, needFields: map[string][]string{},
		needMailLog: map[string]bool{}, needPushIn: map[string]bool{}}
	r := ServerReport{Server: "dovecot", Version: cfg.Version, Source: in.Source}
	if cfg.Version == "" {
		syntax := "2.3"
		if d.v24 {
			syntax = "2.4"
		}
		d.findings.add(Info, "", "no version line (the first line of doveconf -n): read as Dovecot %s syntax", syntax)
	}
	for _, l := range strings.Split(in.Stderr, "\n") {
		if l = strings.TrimPrefix(strings.TrimSpace(l), "doveconf: "); l != "" {
			level := Warning
			if strings.Contains(l, "Error:") || strings.Contains(l, "Fatal:") {
				level = Error
			}
			d.findings.add(level, "", "doveconf: %s", l)
		}
	}
	d.protocols = d.enabledProtocols()
	for _, t := range EventTypes() {
		r.Events = append(r.Events, d.event(t).result(t))
	}
	d.general()
	r.Findings = d.findings
	r.Changes = d.changes()
	r.finish()
	return r, nil
}

// enabledProtocols returns the mail protocols that serve sessions; unset
// protocols is read as all three.
func (d *dovecotCheck) enabledProtocols() []string {
	v, ok := d.cfg.Root.Get("protocols")
	if !ok {
		return []string{"imap", "pop3", "lmtp"}
	}
	return strings.Fields(v)
}

func (d *dovecotCheck) enabled(p string) bool { return slices.Contains(d.protocols, p) }

// protos returns those of ps that are enabled, or all of ps when none is
// (the events would then come from none of them, but the settings that
// matter are still theirs). lda is always a candidate: the MTA runs it.
func (d *dovecotCheck) protos(ps ...string) []string {
	var out []string
	for _, p := range ps {
		if p == "lda" || d.enabled(p) {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return ps
	}
	return out
}

// filter returns the `protocol p { }` section, or nil.
func (d *dovecotCheck) filter(p string) *DovecotSection {
	return d.cfg.Root.Section("protocol", p)
}

// plugins returns the mail plugins in force for protocol p, and the
// protocol whose filter set them ("" for the global setting).
func (d *dovecotCheck) plugins(p string) ([]string, string) {
	list := boolList(d.cfg.Root, "mail_plugins", nil)
	where := ""
	if f := d.filter(p); f != nil {
		if _, ok := f.Get("mail_plugins"); ok || f.Section("mail_plugins", "") != nil {
			list = boolList(f, "mail_plugins", list)
			where = p
		}
	}
	return list, where
}

// boolList reads a list setting of s: "a b c" (2.2/2.3, and 2.4's
// replacing form) or 2.4's boolean-list section `name { a = yes }`,
// which adds to (or, with "no", removes from) the inherited list.
func boolList(s *DovecotSection, name string, inherited []string) []string {
	list := slices.Clone(inherited)
	if v, ok := s.Get(name); ok {
		list = strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' })
	}
	if sec := s.Section(name, ""); sec != nil {
		for _, st := range sec.Settings {
			on := st.Value == "yes"
			i := slices.Index(list, st.Key)
			switch {
			case on && i < 0:
				list = append(list, st.Key)
			case !on && i >= 0:
				list = slices.Delete(list, i, i+1)
			}
		}
	}
	return list
}

// pluginSetting looks up a mail_log setting for protocol p: a protocol
// filter overrides the global value. where is the protocol whose filter
// sets it, or "".
func (d *dovecotCheck) pluginSetting(p, key string) (list []string, value string, set bool, where string) {
	if list, value, set = settingIn(d.filter(p), key); set {
		return list, value, true, p
	}
	list, value, set = settingIn(d.cfg.Root, key)
	return list, value, set, ""
}

// settingIn looks up a plugin setting in scope: 2.2/2.3 keep them in
// `plugin { }`, 2.4 among the others, as a string or a boolean list.
func settingIn(scope *DovecotSection, key string) (list []string, value string, set bool) {
	if scope == nil {
		return nil, "", false
	}
	for _, s := range []*DovecotSection{scope.Section("plugin", ""), scope} {
		if s == nil {
			continue
		}
		v, ok := s.Get(key)
		if ok || s.Section(key, "") != nil {
			return boolList(s, key, nil), v, true
		}
	}
	return nil, "", false
}

// coreSetting looks up a setting of Dovecot itself for protocol p.
func (d *dovecotCheck) coreSetting(p, key string) (value string, set bool) {
	if f := d.filter(p); f != nil {
		if v, ok := f.Get(key); ok {
			return v, true
		}
	}
	return d.cfg.Root.Get(key)
}

// mailLog is the mail_log plugin as protocol p runs it.
type mailLog struct {
	loaded, notify bool
	pluginsWhere   string
	events, fields []string
	eventsSet      bool
	eventsWhere    string
	fieldsSet      bool
	fieldsWhere    string
}

func (d *dovecotCheck) mailLog(p string) mailLog {
	plugins, where := d.plugins(p)
	m := mailLog{loaded: slices.Contains(plugins, "mail_log"), notify: slices.Contains(plugins, "notify"), pluginsWhere: where}
	m.events, _, m.eventsSet, m.eventsWhere = d.pluginSetting(p, "mail_log_events")
	if !m.eventsSet {
		m.events = strings.Fields(dcDefaultEvents)
	}
	for i, e := range m.events {
		if e == "append" { // the plugin's 1.x name of save
			m.events[i] = "save"
		}
	}
	m.fields, _, m.fieldsSet, m.fieldsWhere = d.pluginSetting(p, "mail_log_fields")
	if !m.fieldsSet {
		m.fields = strings.Fields(dcDefaultFields)
	}
	return m
}

// session names the sessions of protocol p in a sentence.
func session(p string) string {
	switch p {
	case "imap":
		return "IMAP sessions"
	case "pop3":
		return "POP3 sessions"
	case "lmtp":
		return "LMTP deliveries"
	case "lda":
		return "dovecot-lda deliveries"
	}
	return p + " sessions"
}

// pv is the verdict for one protocol.
type pv struct {
	status   Status
	via      []string
	missing  []string // parameters or parts the events lack
	reasons  []string
	settings []string
}

func seen(via ...string) *pv { return &pv{status: Seen, via: via} }

// fail makes the verdict NotSeen for reason.
func (p *pv) fail(reason string, settings ...string) {
	if p.status != NotSeen {
		p.status, p.missing, p.reasons, p.settings = NotSeen, nil, nil, nil
	}
	p.reasons = appendNew(p.reasons, reason)
	p.settings = appendNew(p.settings, settings...)
}

// lack makes the verdict Partly: the events lack what, for reason.
func (p *pv) lack(what, reason string, settings ...string) {
	if p.status == NotSeen {
		return
	}
	p.status = Partly
	p.missing = appendNew(p.missing, what)
	p.reasons = appendNew(p.reasons, reason)
	p.settings = appendNew(p.settings, settings...)
}

func (p *pv) describe() string {
	switch p.status {
	case NotSeen:
		return strings.Join(mergeLacks(p.reasons), "; ")
	case Partly:
		return "without " + joinAnd(p.missing) + ": " + strings.Join(mergeLacks(p.reasons), "; ")
	}
	return ""
}

// mergeLacks joins "S lacks a" and "S lacks b" into "S lacks a and b".
func mergeLacks(reasons []string) []string {
	var out []string
	items := map[string][]string{}
	for _, r := range reasons {
		s, what, ok := strings.Cut(r, " lacks ")
		if !ok || strings.ContainsAny(what, ",;(") || strings.Contains(what, " and ") {
			out = append(out, r)
			continue
		}
		if _, seen := items[s]; !seen {
			out = append(out, s+" lacks \x00")
		}
		items[s] = append(items[s], what)
	}
	for i, r := range out {
		if s, ok := strings.CutSuffix(r, " lacks \x00"); ok {
			out[i] = s + " lacks " + joinAnd(items[s])
		}
	}
	return out
}

func (p *pv) key() string {
	return string(p.status) + "\x00" + p.describe()
}

// better returns the more complete of two verdicts for the same sessions,
// their evidence joined when both see the event.
func better(a, b *pv) *pv {
	rank := map[Status]int{NotSeen: 0, Partly: 1, Seen: 2}
	if b == nil {
		return a
	}
	switch {
	case rank[b.status] > rank[a.status]:
		return b
	case rank[a.status] > rank[b.status]:
		return a
	}
	if a.status == NotSeen {
		c := *a
		c.reasons = appendNew(slices.Clone(a.reasons), b.reasons...)
		c.settings = appendNew(slices.Clone(a.settings), b.settings...)
		return &c
	}
	c := *a
	c.via = appendNew(slices.Clone(a.via), b.via...)
	return &c
}

func appendNew(list []string, items ...string) []string {
	for _, x := range items {
		if x != "" && !slices.Contains(list, x) {
			list = append(list, x)
		}
	}
	return list
}

// combine turns per-protocol verdicts into the event's.
func combine(protos []string, per map[string]*pv) *verdict {
	v := &verdict{}
	groups := map[string][]string{}
	var order []string
	for _, p := range protos {
		k := per[p].key()
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], p)
	}
	all := map[Status]bool{}
	for _, p := range protos {
		x := per[p]
		all[x.status] = true
		if x.status != NotSeen {
			v.addVia(x.via...)
		}
		v.addSetting(x.settings...)
	}
	switch {
	case len(all) == 1 && all[Seen]:
		v.status = Seen
	case len(all) == 1 && all[NotSeen]:
		v.status = NotSeen
	default:
		v.status = Partly
	}
	for _, k := range order {
		ps := groups[k]
		x := per[ps[0]]
		if x.status == Seen {
			continue
		}
		text := x.describe()
		if len(order) > 1 {
			var names []string
			for _, p := range ps {
				names = append(names, session(p))
			}
			if x.status == NotSeen {
				text = "not from " + joinAnd(names) + ": " + text
			} else {
				text = "from " + joinAnd(names) + " " + text
			}
		}
		v.addDetail(text)
	}
	return v
}

// event examines one event type.
func (d *dovecotCheck) event(t event.Type) *verdict {
	switch t {
	case event.Login, event.LoginFailed:
		return d.login(t)
	case event.Logout:
		return d.logout()
	case event.MessageNew:
		return d.perProtocol(d.protos("lmtp", "lda"), func(p string) *pv {
			return better(d.delivery(p), d.push(p, t))
		})
	case event.QuotaExceed:
		return d.quotaExceed()
	case event.QuotaWithin, event.QuotaChange:
		return &verdict{status: NotApplicable, detail: []string{"Dovecot logs no quota changes, and its push stream has none"}}
	case event.MailboxSubscribe, event.MailboxUnSubscribe:
		return d.perProtocol(d.protos("imap"), func(p string) *pv {
			if x := d.push(p, t); x != nil {
				return x
			}
			x := &pv{}
			how := "install packaging/dovecot/96-mailevents-push.conf"
			if d.v24 {
				how = "packaging/dovecot/96-mailevents-push.conf is for 2.3"
			}
			x.fail("Dovecot does not log (un)subscriptions: only its push_notification plugin reports them, to packaging/dovecot/mailevents-push.lua ("+how+")",
				"mail_plugins", "push_notification_driver")
			d.needPush = true
			_, where := d.plugins(p)
			d.needPushIn[where] = true
			return x
		})
	}
	// The mail_log events of mail processes.
	protos := d.protos("imap")
	if t == event.MessageExpunge || t == event.MessageExpire {
		protos = d.protos("imap", "pop3")
	}
	return d.perProtocol(protos, func(p string) *pv {
		return better(d.mailLogEvent(p, t), d.push(p, t))
	})
}

func (d *dovecotCheck) perProtocol(protos []string, f func(p string) *pv) *verdict {
	per := map[string]*pv{}
	for _, p := range protos {
		per[p] = f(p)
	}
	return combine(protos, per)
}

// where describes the scope of a setting for reasons.
func where(p string) string {
	if p == "" {
		return ""
	}
	return " in protocol " + p + " { }"
}

// requireMailLog checks that mail_log runs in protocol p, failing x when
// it does not.
func (d *dovecotCheck) requireMailLog(p string, m mailLog, x *pv) {
	switch {
	case !m.loaded && m.pluginsWhere != "":
		x.fail("mail_log is not loaded"+where(p)+", whose own mail_plugins replaces the global one", "mail_plugins")
		d.needMailLog[p] = true
		if global, _ := d.plugins(""); !slices.Contains(global, "mail_log") {
			d.needMailLog[""] = true
		}
	case !m.loaded:
		x.fail("the mail_log plugin is not loaded (mail_plugins)", "mail_plugins")
		d.needMailLog[""] = true
	case !m.notify:
		x.fail("mail_log is loaded without notify"+where(m.pluginsWhere)+", which it needs", "mail_plugins")
		d.needMailLog[m.pluginsWhere] = true
	}
}

// hasEvent reports whether mail_log logs ev, and records it as a line to
// add when it does not.
func (d *dovecotCheck) hasEvent(m mailLog, ev string) bool {
	if slices.Contains(m.events, ev) {
		return true
	}
	d.needEvents[m.eventsWhere] = appendNew(d.needEvents[m.eventsWhere], ev)
	return false
}

// hasField is hasEvent for a field.
func (d *dovecotCheck) hasField(m mailLog, f string) bool {
	if slices.Contains(m.fields, f) {
		return true
	}
	d.needFields[m.fieldsWhere] = appendNew(d.needFields[m.fieldsWhere], f)
	return false
}

// messageFields checks the fields every mail_log message line needs: the
// mailbox (2.4 names it in the line's "Mailbox X: " prefix) and the UID.
func (d *dovecotCheck) messageFields(m mailLog, x *pv, uidRequired bool) {
	if !d.v24 && !d.hasField(m, "box") {
		x.fail("mail_log_fields lacks box, so mail_log lines do not name the mailbox", "mail_log_fields")
	}
	if !d.hasField(m, "uid") {
		if uidRequired {
			x.fail("mail_log_fields lacks uid, so mail_log lines do not name the message", "mail_log_fields")
		} else {
			x.lack("UID", "mail_log_fields lacks uid", "mail_log_fields")
		}
	}
}

// mailLogEvent examines the mail_log evidence of t in protocol p. The
// settings are checked even when mail_log is not loaded, so that the lines
// proposed make the event complete in one go.
func (d *dovecotCheck) mailLogEvent(p string, t event.Type) *pv {
	x := seen("mail_log")
	m := d.mailLog(p)
	d.requireMailLog(p, m, x)
	switch t {
	case event.MessageAppend:
		save, cp := d.hasEvent(m, "save"), d.hasEvent(m, "copy")
		switch {
		case !save && !cp:
			x.fail("mail_log_events lacks save and copy", "mail_log_events")
		case !save:
			x.lack("APPEND", "mail_log_events lacks save", "mail_log_events")
		case !cp:
			x.lack("COPY and MOVE", "mail_log_events lacks copy", "mail_log_events")
		}
		d.messageFields(m, x, false)
		d.sizeFields(m, x)
	case event.MessageExpunge, event.MessageExpire:
		if !d.hasEvent(m, "expunge") {
			x.fail("mail_log_events lacks expunge (which also logs autoexpunge)", "mail_log_events")
		}
		d.messageFields(m, x, true)
	case event.MessageTrash:
		// mail_log logs a change of \Deleted as delete/undelete, never
		// as flag_change.
		if !d.hasEvent(m, "delete") {
			x.fail("mail_log_events lacks delete", "mail_log_events")
		}
		d.messageFields(m, x, true)
	case event.MessageRead, event.FlagsSet:
		d.flagChange(m, x)
		d.messageFields(m, x, true)
	case event.FlagsClear:
		undelete := d.hasEvent(m, "undelete")
		probe := seen()
		d.flagChange(m, probe)
		switch {
		case probe.status != Seen && !undelete:
			x.fail(strings.Join(append(probe.reasons, "mail_log_events lacks undelete"), "; "), "mail_log_events", "mail_log_fields")
		case probe.status != Seen:
			x.lack("flags other than \\Deleted", strings.Join(probe.reasons, "; "), probe.settings...)
		case !undelete:
			x.lack("\\Deleted", "mail_log_events lacks undelete", "mail_log_events")
		}
		d.messageFields(m, x, true)
	case event.MailboxCreate, event.MailboxDelete, event.MailboxRename:
		ev := map[event.Type]string{event.MailboxCreate: "mailbox_create", event.MailboxDelete: "mailbox_delete", event.MailboxRename: "mailbox_rename"}[t]
		if !d.hasEvent(m, ev) {
			x.fail("mail_log_events lacks "+ev, "mail_log_events")
		}
	}
	return x
}

// flagChange checks what flag_change lines need: the event, and the flags
// field without which the line says nothing of the flags.
func (d *dovecotCheck) flagChange(m mailLog, x *pv) {
	var missing []string
	if !d.hasEvent(m, "flag_change") {
		missing = append(missing, "mail_log_events lacks flag_change")
	}
	if !d.hasField(m, "flags") {
		missing = append(missing, "mail_log_fields lacks flags (a flag_change line without them is not understood)")
	}
	if len(missing) > 0 {
		x.fail(strings.Join(missing, " and "), "mail_log_events", "mail_log_fields")
	}
}

// sizeFields checks the size of new messages: vsize is RFC822.SIZE, size
// the size on disk, which serves when vsize is missing.
func (d *dovecotCheck) sizeFields(m mailLog, x *pv) {
	if !slices.Contains(m.fields, "vsize") && !slices.Contains(m.fields, "size") {
		d.hasField(m, "vsize")
		x.lack("messageSize", "mail_log_fields lacks vsize", "mail_log_fields")
	}
}

// delivery examines MessageNew from LMTP or LDA p: mail_log's save, else
// the delivery line itself ("msgid=…: saved mail to INBOX").
func (d *dovecotCheck) delivery(p string) *pv {
	x := seen("mail_log")
	m := d.mailLog(p)
	d.requireMailLog(p, m, x)
	if !d.hasEvent(m, "save") {
		x.fail("mail_log_events lacks save", "mail_log_events")
	}
	d.messageFields(m, x, false)
	d.sizeFields(m, x)
	if x.status != NotSeen {
		return x
	}
	y := seen("delivery log")
	if !d.deliveryLogUsable(p) {
		y.fail("deliver_log_format does not start with msgid=, the form mailevents reads", "deliver_log_format")
		return better(x, y)
	}
	for _, what := range []string{"UID", "messageSize", "flagNames"} {
		y.lack(what, "", x.settings...)
	}
	y.reasons = x.reasons
	return y
}

// deliveryLogUsable reports whether LDA/LMTP's delivery lines keep the
// form "msgid=…: saved mail to …" that the grammar reads.
func (d *dovecotCheck) deliveryLogUsable(p string) bool {
	v, ok := d.coreSetting(p, "deliver_log_format")
	return !ok || strings.HasPrefix(strings.TrimSpace(v), "msgid=")
}

// quotaExceed: a delivery refused for quota logs "save failed …: Quota
// exceeded"; without the quota plugin no delivery ever is.
func (d *dovecotCheck) quotaExceed() *verdict {
	var protos []string
	for _, p := range d.protos("lmtp", "lda") {
		if plugins, _ := d.plugins(p); slices.Contains(plugins, "quota") {
			protos = append(protos, p)
		}
	}
	if len(protos) == 0 {
		return &verdict{status: NotApplicable, detail: []string{"no quota plugin in LMTP or dovecot-lda: no delivery is ever over quota"}}
	}
	v := d.perProtocol(protos, func(p string) *pv {
		x := seen("delivery log")
		if !d.deliveryLogUsable(p) {
			x.fail("deliver_log_format does not start with msgid=, the form mailevents reads", "deliver_log_format")
		}
		return x
	})
	if v.status == Seen {
		v.addDetail("without diskQuota and diskUsed: the line gives no numbers")
	}
	return v
}

// loginElements returns login_log_format_elements as protocol p's login
// process uses them.
func (d *dovecotCheck) loginElements(p string) (string, bool) {
	v, set := d.coreSetting(p, "login_log_format_elements")
	switch {
	case set:
		return v, true
	case d.v24:
		return dcDefaultElements4, false
	}
	return dcDefaultElements, false
}

// login examines Login and LoginFailed: the login processes' lines, whose
// elements come from login_log_format_elements.
func (d *dovecotCheck) login(t event.Type) *verdict {
	return d.perProtocol(d.protos("imap", "pop3"), func(p string) *pv {
		x := seen("login log")
		elems, _ := d.loginElements(p)
		for _, e := range dcElements {
			if e.key == "session" {
				continue // what it ties together is the Logout's business
			}
			if !hasElement(elems, e) {
				x.lack(e.param, "login_log_format_elements lacks "+d.elementText(e), "login_log_format_elements")
				d.needElems = appendNew(d.needElems, e.key)
			}
		}
		return x
	})
}

func (d *dovecotCheck) elementText(e dcElement) string {
	if d.v24 {
		return e.add4
	}
	return e.add
}

func elementByKey(key string) dcElement {
	for _, e := range dcElements {
		if e.key == key {
			return e
		}
	}
	panic("doctor: unknown login element " + key)
}

// hasElement reports whether the format has e's key with one of its
// variables as value.
func hasElement(format string, e dcElement) bool {
	for _, el := range strings.Fields(format) {
		k, v, ok := strings.Cut(el, "=")
		if ok && k == e.key && usesVar(v, e.vars) {
			return true
		}
	}
	return false
}

// dcVarRE matches a variable: %x, %Lx and the like, %{name} with 2.3
// modifiers or 2.4 filters (%{name | filter}, %{process:pid}).
var dcVarRE = regexp.MustCompile(`%(?:[-0-9.]*[LUNXR]?)?(?:\{([a-z_]+)[^}]*\}|([a-zA-Z$]))`)

// usesVar reports whether s expands one of the variables names.
func usesVar(s string, names []string) bool {
	s = strings.ReplaceAll(s, "%%", "") // a literal %
	for _, m := range dcVarRE.FindAllStringSubmatch(s, -1) {
		name := m[1]
		if name == "" {
			name = m[2]
		}
		if slices.Contains(names, name) {
			return true
		}
	}
	return false
}

// dcPrefixRE is the start of a mail process line the grammar reads:
// "{service}({user})".
var dcPrefixRE = regexp.MustCompile(`^(%s|%\{service[^}]*\})\(%[^)]*\)`)

// prefix checks mail_log_prefix, the prefix of every mail process line:
// the grammar needs "{service}({user})", and the session id ties the lines
// to their Login.
func (d *dovecotCheck) prefix(p string) (hasSession, readable bool, value string) {
	v, set := d.coreSetting(p, "mail_log_prefix")
	if !set {
		switch {
		case d.v24:
			v = dcDefaultPrefix4
		case d.cfg.is22():
			v = dcDefaultPrefix22
		default:
			v = dcDefaultPrefix
		}
	}
	return usesVar(v, []string{"session"}), dcPrefixRE.MatchString(v), v
}

func (d *dovecotCheck) logout() *verdict {
	return d.perProtocol(d.protos("imap", "pop3"), func(p string) *pv {
		x := seen("mail process log")
		hasSession, readable, _ := d.prefix(p)
		if !readable {
			x.fail("mail_log_prefix is not in the form {service}({user}) that mailevents reads", "mail_log_prefix")
			d.needPrefix = true
		}
		if !hasSession {
			x.lack("the client's address", "mail_log_prefix lacks %{session}, which ties the line to its Login", "mail_log_prefix")
			d.needPrefix = true
		}
		elems, _ := d.loginElements(p)
		if e := elementByKey("session"); !hasElement(elems, e) {
			x.lack("the client's address", "login_log_format_elements lacks "+d.elementText(e)+", which ties the Login to the session", "login_log_format_elements")
			d.needElems = appendNew(d.needElems, "session")
		}
		return x
	})
}

// pushScript returns the Lua script the push_notification driver runs for
// protocol p, if any: 2.3's push_notification_driver = lua:file=…, or a
// *.lua value of a push_notification setting or section.
func (d *dovecotCheck) pushScript(p string) string {
	var visit func(s *DovecotSection) string
	visit = func(s *DovecotSection) string {
		if s == nil {
			return ""
		}
		for _, st := range s.Settings {
			if !strings.Contains(st.Key, "push_notification") && s.Kind != "push_notification" {
				continue
			}
			if _, f, ok := strings.Cut(st.Value, "file="); ok {
				return strings.Fields(f + " ")[0]
			}
			if strings.HasSuffix(st.Value, ".lua") {
				return st.Value
			}
		}
		for _, c := range s.Sections {
			if c.Kind == "plugin" || c.Kind == "push_notification" {
				if script := visit(c); script != "" {
					return script
				}
			}
		}
		return ""
	}
	if script := visit(d.filter(p)); script != "" {
		return script
	}
	return visit(d.cfg.Root)
}

// pushPluginsMissing returns the plugins push_notification_lua needs that
// protocol p does not load.
func (d *dovecotCheck) pushPluginsMissing(p string) []string {
	plugins, _ := d.plugins(p)
	var missing []string
	for _, need := range []string{"notify", "mail_lua", "push_notification"} {
		if !slices.Contains(plugins, need) {
			missing = append(missing, need)
		}
	}
	return missing
}

// push examines what packaging/dovecot/mailevents-push.lua reports of t in
// protocol p; nil when it reports no such event there.
func (d *dovecotCheck) push(p string, t event.Type) *pv {
	switch t {
	case event.MessageNew, event.MessageAppend, event.MessageExpunge, event.MessageRead, event.MessageTrash,
		event.FlagsSet, event.FlagsClear, event.MailboxCreate, event.MailboxDelete, event.MailboxRename,
		event.MailboxSubscribe, event.MailboxUnSubscribe:
	default:
		return nil
	}
	plugins, _ := d.plugins(p)
	if !slices.Contains(plugins, "push_notification_lua") || len(d.pushPluginsMissing(p)) > 0 ||
		path.Base(d.pushScript(p)) != "mailevents-push.lua" {
		return nil
	}
	return seen("push script")
}

// general adds the findings about the configuration as a whole.
func (d *dovecotCheck) general() {
	anyMailLog := false
	for _, p := range d.protos("imap", "pop3", "lmtp", "lda") {
		m := d.mailLog(p)
		if !m.loaded {
			continue
		}
		anyMailLog = true
		if !m.notify {
			d.findings.add(Error, "mail_plugins", "mail_log is loaded%s without notify: Dovecot's mail processes fail with \"Plugin notify must be loaded also\"", where(m.pluginsWhere))
		}
		for _, f := range []struct{ field, effect string }{
			{"uid", "message events name no UID, and expunges and flag changes none at all"},
			{"box", "mail_log lines do not name the mailbox: no message events from them"},
			{"msgid", "events carry no vnd.mailevents.msgid"},
			{"vsize", "messageSize is the size on disk (size=), not the RFC822.SIZE RFC 5423 means"},
			{"flags", "no FlagsSet, FlagsClear or MessageRead from flag_change, and no flagNames on new messages"},
		} {
			if f.field == "box" && d.v24 {
				continue // 2.4 names the mailbox in the line's prefix
			}
			if f.field == "vsize" && !slices.Contains(m.fields, "size") {
				f.effect = "events carry no messageSize"
			}
			if !slices.Contains(m.fields, f.field) {
				d.findings.add(Warning, "mail_log_fields", "mail_log_fields lacks %s%s: %s", f.field, where(m.fieldsWhere), f.effect)
			}
		}
		if _, v, ok, _ := d.pluginSetting(p, "mail_log_cached_only"); ok && v == "yes" {
			d.findings.add(Warning, "mail_log_cached_only", "mail_log_cached_only = yes: fields that are not in Dovecot's cache (flags, sizes) may be missing from every line but save")
		}
	}
	if !anyMailLog {
		d.findings.add(Warning, "mail_plugins", "the mail_log plugin is not loaded: Dovecot logs no message or mailbox changes, only logins, logouts and deliveries")
	}

	for _, p := range d.protos("imap", "pop3", "lmtp") {
		hasSession, readable, v := d.prefix(p)
		if !readable {
			d.findings.add(Error, "mail_log_prefix", "mail_log_prefix = %q does not start with {service}({user}): mailevents will not recognise the lines of mail processes", v)
			d.needPrefix = true
		}
		if !hasSession {
			d.findings.add(Warning, "mail_log_prefix", "mail_log_prefix = %q has no %%{session}: the events of a session carry no client address, port or login method", v)
		}
	}
	if v, ok := d.cfg.Root.Get("login_log_format"); ok && v != "%$: %s" && v != "%{message}: %{elements}" {
		d.findings.add(Warning, "login_log_format", "login_log_format = %q: mailevents reads login lines in the default form, {message}: {elements}", v)
	}

	for _, p := range d.protos("imap", "lmtp") {
		plugins, _ := d.plugins(p)
		if !slices.Contains(plugins, "push_notification_lua") {
			continue
		}
		if missing := d.pushPluginsMissing(p); len(missing) > 0 {
			d.findings.add(Error, "mail_plugins", "push_notification_lua is loaded%s without %s: mail processes fail to load it (see packaging/dovecot/96-mailevents-push.conf)", where(p), joinAnd(missing))
		}
		switch script := d.pushScript(p); {
		case script == "":
			d.findings.add(Warning, "push_notification_driver", "push_notification_lua is loaded but no push_notification_driver = lua:file=… names its script")
		case path.Base(script) != "mailevents-push.lua":
			d.findings.add(Info, "push_notification_driver", "the push driver runs %s: mailevents reads only the JSON lines of packaging/dovecot/mailevents-push.lua", script)
		default:
			if d.v24 {
				d.findings.add(Info, "push_notification_driver", "packaging/dovecot/96-mailevents-push.conf is for Dovecot 2.3: the push script's configuration on 2.4 is untested")
			}
			if m := d.mailLog(p); m.loaded {
				d.findings.add(Info, "", "mail_log and mailevents-push.lua both report message and mailbox changes, each as an event of its own: have mailevents read one of them for those (parsers/dovecot/README.md)")
			}
		}
	}

	watched := []string{"mail_plugins", "mail_log_events", "mail_log_fields", "login_log_format_elements", "mail_log_prefix"}
	var visit func(s *DovecotSection, path string)
	visit = func(s *DovecotSection, path string) {
		for _, c := range s.Sections {
			switch c.Kind {
			case "local", "remote", "local_name":
				for _, st := range c.Settings {
					if slices.Contains(watched, st.Key) {
						d.findings.add(Info, st.Key, "%s is also set inside %s%s { }, which this report does not evaluate", st.Key, path, c.Label())
					}
				}
				visit(c, path+c.Label()+" { ")
			case "protocol":
				visit(c, path+c.Label()+" { ")
			}
		}
	}
	visit(d.cfg.Root, "")
}

// changes turns what the events need into configuration lines.
func (d *dovecotCheck) changes() []Change {
	var out []Change
	out = append(out, d.pluginChanges()...)
	for _, s := range []struct {
		setting string
		need    map[string][]string
		want    []string
	}{{"mail_log_events", d.needEvents, dcWantEvents}, {"mail_log_fields", d.needFields, dcWantFields}} {
		wheres := make([]string, 0, len(s.need))
		for w := range s.need {
			wheres = append(wheres, w)
		}
		slices.Sort(wheres)
		for _, w := range wheres {
			scope := d.cfg.Root
			if w != "" {
				scope = d.filter(w)
			}
			list, cur, set := settingIn(scope, s.setting)
			value := s.want
			if set {
				value = appendNew(slices.Clone(list), s.need[w]...)
			}
			line := s.setting + " = " + strings.Join(value, " ")
			c := Change{Setting: s.setting, Lines: []string{line}}
			switch {
			case w != "" && !d.v24:
				c.Section, c.Lines = "protocol "+w, []string{"plugin {", "  " + line, "}"}
			case w != "":
				c.Section = "protocol " + w
			case !d.v24:
				c.Section = "plugin"
			}
			if set {
				c.Current = s.setting + " = " + cur
				if cur == "" {
					c.Current = s.setting + " { " + strings.Join(list, " = yes ") + " = yes }"
				}
			}
			out = append(out, c)
		}
	}
	if len(d.needElems) > 0 {
		cur, set := d.loginElements("")
		fields := strings.Fields(cur)
		for _, e := range dcElements {
			if !slices.Contains(d.needElems, e.key) {
				continue
			}
			// An element of the same key with a value that is no such
			// variable gives way.
			fields = slices.DeleteFunc(fields, func(f string) bool { return strings.HasPrefix(f, e.key+"=") })
			// The ports go after their addresses, as in the packaged file.
			i := len(fields)
			for j, f := range fields {
				if e.key == "rport" && strings.HasPrefix(f, "rip=") || e.key == "lport" && strings.HasPrefix(f, "lip=") {
					i = j + 1
				}
			}
			fields = slices.Insert(fields, i, d.elementText(e))
		}
		c := Change{Setting: "login_log_format_elements", Lines: []string{"login_log_format_elements = " + strings.Join(fields, " ")}}
		if set {
			c.Current = "login_log_format_elements = " + cur
		}
		out = append(out, c)
	}
	if d.needPrefix {
		want := dcDefaultPrefix
		if d.v24 {
			want = dcDefaultPrefix4
		}
		c := Change{Setting: "mail_log_prefix", Lines: []string{`mail_log_prefix = "` + want + `"`}}
		if cur, ok := d.cfg.Root.Get("mail_log_prefix"); ok {
			c.Current = `mail_log_prefix = "` + cur + `"`
		}
		out = append(out, c)
	}
	if d.needPush && !d.v24 {
		out = append(out, Change{Setting: "push_notification_driver", Note: pushNote, Section: "plugin", Lines: []string{
			"push_notification_driver = lua:file=/etc/dovecot/mailevents-push.lua",
			"mailevents_push_file = /var/log/dovecot/mailevents.jsonl"}})
	}
	return out
}

// pushNote marks the lines of packaging/dovecot/96-mailevents-push.conf.
const pushNote = "for MailboxSubscribe and MailboxUnSubscribe: packaging/dovecot/96-mailevents-push.conf (and mailevents-push.lua as /etc/dovecot/mailevents-push.lua)"

// pluginChanges returns the mail_plugins lines: notify and mail_log, and
// the push plugins, globally and in the protocol filters that set their own
// list.
func (d *dovecotCheck) pluginChanges() []Change {
	wheres := map[string]bool{}
	for w := range d.needMailLog {
		wheres[w] = true
	}
	for w := range d.needPushIn {
		wheres[w] = true
	}
	order := make([]string, 0, len(wheres))
	for w := range wheres {
		order = append(order, w)
	}
	slices.Sort(order) // "" (global) first
	var out []Change
	for _, w := range order {
		var cur []string
		section, current := "", ""
		if w != "" {
			section = "protocol " + w
			v, _ := d.filter(w).Get("mail_plugins")
			cur = strings.Fields(v)
			current = "protocol " + w + " { mail_plugins = " + strings.Join(cur, " ") + " }"
		}
		if d.needMailLog[w] {
			c := Change{Setting: "mail_plugins", Section: section, Lines: d.pluginLines(w, cur, "notify", "mail_log")}
			if w != "" && !d.v24 {
				c.Current = current
				cur = appendNew(cur, "notify", "mail_log")
				current = ""
			}
			out = append(out, c)
		}
		if d.needPushIn[w] {
			c := Change{Setting: "mail_plugins", Section: section, Note: pushNote,
				Lines: d.pluginLines(w, cur, "notify", "mail_lua", "push_notification", "push_notification_lua")}
			if w != "" && !d.v24 {
				c.Current = current
			}
			out = append(out, c)
		}
	}
	return out
}

// pluginLines returns the lines that add plugins to a mail_plugins: 2.3's
// "$mail_plugins …" globally, the filter's own list in full inside a
// filter (there $mail_plugins is what the filter had when it was read), or
// 2.4's boolean list.
func (d *dovecotCheck) pluginLines(where string, cur []string, plugins ...string) []string {
	if d.v24 {
		lines := []string{"mail_plugins {"}
		for _, p := range plugins {
			lines = append(lines, "  "+p+" = yes")
		}
		return append(lines, "}")
	}
	list := slices.Clone(cur)
	if where == "" {
		list = []string{"$mail_plugins"}
	}
	for _, p := range plugins {
		if !slices.Contains(cur, p) {
			list = append(list, p)
		}
	}
	return []string{"mail_plugins = " + strings.Join(list, " ")}
}
