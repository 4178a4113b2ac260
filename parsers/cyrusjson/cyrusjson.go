// Package cyrusjson is the grammar of Cyrus IMAP's native event
// notifications (imap/mboxevent.c): one JSON object per event, as Cyrus
// sends it to notifysocket (read by source/cyrusnotify) or as notifyd's
// "log" method writes it to syslog. The objects already use RFC 5423's names;
// mapping/cyrusjson.go normalises them to the output format.
package cyrusjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/mailevents/mailevents/event"
	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/parsers/syslog"
	"github.com/mailevents/mailevents/source"
)

// Name and Server of the grammar.
const (
	Name   = "cyrus-json"
	Server = "cyrus"
)

// Cyrus's event types beyond RFC 5423's, as mboxevent.c spells them.
const (
	ActionMessageCopy = "vnd.cmu.MessageCopy"
	ActionMessageMove = "vnd.cmu.MessageMove"
)

// ignoredEvents are Cyrus events with no RFC 5423 counterpart: the grammar
// knows them and reports ErrIgnored, so they are counted, not dead-lettered.
var ignoredEvents = map[string]bool{
	"AclChange": true, "MailboxModseq": true, "CalendarAlarm": true,
	"CalendarEventNew": true, "ApplePushService": true, "ApplePushServiceDAV": true,
	"MessagesUnscheduled": true,
}

// Reasons of the syntax errors (metrics labels: no values from the line).
const (
	reasonNotCyrus  = "not a Cyrus event notification"
	reasonOwnOutput = "mailevents output, not a Cyrus notification"
	reasonJSON      = "invalid JSON"
	reasonDuplicate = "duplicate key"
	reasonType      = "invalid parameter type"
	reasonBadTime   = "invalid timestamp"
	reasonLogForm   = "invalid notifyd log line"
)

// Grammar parses Cyrus event notifications. It has no state.
type Grammar struct {
	// Envelope strips the syslog envelope of notifyd's log lines.
	Envelope syslog.Parser
}

// New returns the grammar; env strips the envelope of notifyd log lines.
func New(env syslog.Parser) *Grammar { return &Grammar{Envelope: env} }

// Name implements parsers.Parser.
func (*Grammar) Name() string { return Name }

// Server implements parsers.Parser.
func (*Grammar) Server() string { return Server }

// Parse implements parsers.Parser.
func (g *Grammar) Parse(line source.Line) (parsers.Record, error) {
	text := bytes.TrimSpace(line.Text)
	if len(text) > 0 && text[0] == '{' {
		return parseObject(line, text, syslog.Envelope{})
	}
	env, err := g.Envelope.Parse(line.Text)
	if err != nil || (env.Tag != "notifyd" && !strings.HasSuffix(env.Tag, "/notifyd")) {
		return parsers.Record{}, parsers.Unrecognised(reasonNotCyrus)
	}
	obj, ok := logMessage(env.Message)
	if !ok {
		// notifyd's own lines ("do_notify using method …") and prose
		// notifications are the Cyrus log grammar's business.
		return parsers.Record{}, parsers.Unrecognised(reasonNotCyrus)
	}
	rec, err := parseObject(line, obj, env)
	var se *parsers.SyntaxError
	if errors.As(err, &se) && se.Kind == parsers.Unknown && se.Reason == reasonNotCyrus {
		// A notifyd line that quotes JSON is known, whatever the JSON.
		return rec, parsers.Malformation(reasonLogForm, "quoted message is not an event")
	}
	return rec, err
}

// logMessage finds the JSON in notify_log()'s
// `{class}, {priority}, {user}, {mailbox}, {options} "{message}"`. The
// message is quoted but not escaped, so it runs from the first `"{` after
// the four separators to the last `"`.
func logMessage(msg []byte) ([]byte, bool) {
	rest := msg
	for range 4 {
		i := bytes.Index(rest, []byte(", "))
		if i < 0 {
			return nil, false
		}
		rest = rest[i+2:]
	}
	start := bytes.Index(rest, []byte(`"{`))
	end := bytes.LastIndexByte(rest, '"')
	if start < 0 || end <= start+1 {
		return nil, false
	}
	return rest[start+1 : end], true
}

// parseObject reads one notification. Every key of the object becomes a
// Field whose Value is the key's raw JSON text, in the object's order, so
// the mapper sees exactly what Cyrus sent.
func parseObject(line source.Line, text []byte, env syslog.Envelope) (parsers.Record, error) {
	if !bytes.Contains(text, []byte(`"event"`)) {
		return parsers.Record{}, parsers.Unrecognised(reasonNotCyrus)
	}
	rec := parsers.Record{Server: Server, Grammar: Name, Host: env.Host, Pos: line.Position}
	if !env.Time.IsZero() {
		rec.Time, rec.Precision = env.Time, env.Precision
	}
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return parsers.Record{}, parsers.Unrecognised(reasonNotCyrus)
	}
	seen := make(map[string]bool, 16)
	cyrusKeys, ownKey := false, false
	var typeErr string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return parsers.Record{}, malformedJSON(text, err)
		}
		key := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return parsers.Record{}, malformedJSON(text, err)
		}
		if seen[key] {
			return parsers.Record{}, parsers.Malformation(reasonDuplicate, key)
		}
		seen[key] = true
		switch {
		case key == "uri" || key == "pid" || key == "service" || strings.HasPrefix(key, "vnd.cmu."):
			cyrusKeys = true
		case key == string(event.ID):
			ownKey = true
		}
		if msg := checkValue(key, raw); msg != "" && typeErr == "" {
			typeErr = key + ": " + msg
		}
		rec.Add(key, string(raw))
	}
	if _, err := dec.Token(); err != nil {
		return parsers.Record{}, malformedJSON(text, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return parsers.Record{}, parsers.Malformation(reasonJSON, "data after the object")
	}
	name, _ := rec.Get("event")
	var action string
	if json.Unmarshal([]byte(name), &action) != nil {
		return parsers.Record{}, parsers.Unrecognised(reasonNotCyrus)
	}
	switch {
	case ownKey:
		return parsers.Record{}, parsers.Unrecognised(reasonOwnOutput)
	case ignoredEvents[action] || strings.HasPrefix(action, "ApplePushService"):
		return parsers.Record{}, parsers.ErrIgnored
	case !cyrusKeys || !isCyrusEvent(action):
		return parsers.Record{}, parsers.Unrecognised(reasonNotCyrus)
	case typeErr != "":
		return parsers.Record{}, parsers.Malformation(reasonType, typeErr)
	}
	rec.Action = action
	rec.Process = StringField(&rec, "service")
	rec.User = StringField(&rec, "user")
	rec.Session = StringField(&rec, "vnd.cmu.sessionId")
	if h := StringField(&rec, "serverFQDN"); h != "" {
		rec.Host = h
	}
	if pid, err := strconv.Atoi(numberField(&rec, "pid")); err == nil {
		rec.PID = pid
	}
	if ts := StringField(&rec, "timestamp"); ts != "" {
		t, digits, ok := parseTimestamp(ts)
		if !ok {
			return parsers.Record{}, parsers.Malformation(reasonBadTime, ts)
		}
		rec.Time, rec.Precision = t, digits
	}
	return rec, nil
}

// isCyrusEvent reports the event types mboxevent.c sends: RFC 5423's and
// its vnd.cmu. ones (a future one is recognised, and left unmapped by the
// mapper, rather than reported as an unknown line).
func isCyrusEvent(action string) bool {
	return event.Type(action).IsRFC() || strings.HasPrefix(action, "vnd.cmu.")
}

func malformedJSON(text []byte, err error) error {
	if !json.Valid(text) {
		return parsers.Malformation(reasonJSON, err.Error())
	}
	return parsers.Malformation(reasonJSON, "not an object")
}

// checkValue returns what is wrong with the JSON type of one value, or "".
// RFC parameters must have the RFC's type; mailboxID and messageContent may
// be anything because Cyrus 3 sends a mailbox unique id and Kolab's builds a
// JSON object there (the mapper moves those under vnd.cmu.).
func checkValue(key string, raw json.RawMessage) string {
	p := event.Param(key)
	if key == "event" {
		if raw[0] != '"' {
			return "not a string"
		}
		return ""
	}
	if !p.IsRFC() || p == event.MailboxID || p == event.MessageContent {
		return ""
	}
	if p.IsNumeric() {
		if raw[0] == '"' {
			return "not a number" // json.Number would take a quoted one
		}
		var n json.Number
		if json.Unmarshal(raw, &n) != nil {
			return "not a number"
		}
		if _, err := n.Int64(); err != nil {
			return "not an integer"
		}
		return ""
	}
	if raw[0] != '"' {
		return "not a string"
	}
	return ""
}

// StringField returns the string value of key, "" when absent or not a string.
func StringField(rec *parsers.Record, key string) string {
	raw, ok := rec.Get(key)
	if !ok || raw == "" || raw[0] != '"' {
		return ""
	}
	var s string
	if json.Unmarshal([]byte(raw), &s) != nil {
		return ""
	}
	return s
}

// numberField returns the raw text of a numeric value, "" otherwise.
func numberField(rec *parsers.Record, key string) string {
	raw, _ := rec.Get(key)
	if raw == "" || raw[0] == '"' {
		return ""
	}
	return raw
}

// parseTimestamp reads Cyrus's "2015-02-23T14:55:20.562+01:00" (or "…Z")
// and counts the fractional digits, so that the output keeps the precision.
func parseTimestamp(s string) (time.Time, int, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, 0, false
	}
	digits := 0
	if i := strings.IndexByte(s, '.'); i >= 0 {
		for j := i + 1; j < len(s) && s[j] >= '0' && s[j] <= '9'; j++ {
			digits++
		}
	}
	return t, min(digits, 9), true
}
