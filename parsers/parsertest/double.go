// Package parsertest holds what grammar tests share: a test double grammar
// and mapper that exercise the machinery without a real server's grammar, and
// the golden-file runner.
package parsertest

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mailevents/mailevents/event"
	"github.com/mailevents/mailevents/mapping"
	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/parsers/syslog"
	"github.com/mailevents/mailevents/source"
)

// Double is a test double grammar. It reads any syslog envelope whose tag is
// "mailtest", followed by "ACTION key=value ...". It stands in for a Dovecot
// grammar (Server "dovecot") so its events pass the output schema.
//
// Actions: login, save, expunge, flags (mapped); noise (ignored); weird
// (recognised but unmapped); recent (maps to an event that fails Validate).
// A uid that is not a number is a Malformed line.
type Double struct {
	Envelope syslog.Parser
}

// Name implements parsers.Parser.
func (*Double) Name() string { return "test-double" }

// Server implements parsers.Parser.
func (*Double) Server() string { return "dovecot" }

// Parse implements parsers.Parser.
func (d *Double) Parse(line source.Line) (parsers.Record, error) {
	env, err := d.Envelope.Parse(line.Text)
	if err != nil || env.Tag != "mailtest" {
		return parsers.Record{}, parsers.Unrecognised("not a mailtest line")
	}
	action, rest, _ := bytes.Cut(env.Message, []byte(" "))
	rec := parsers.Record{
		Server: "dovecot", Grammar: d.Name(), Action: string(action),
		Time: env.Time, Precision: env.Precision, Host: env.Host, PID: env.PID, Pos: line.Position,
	}
	switch rec.Action {
	case "noise":
		return parsers.Record{}, parsers.ErrIgnored
	case "login", "save", "expunge", "flags", "weird", "recent":
	default:
		return parsers.Record{}, parsers.Unrecognised("unknown mailtest action")
	}
	for kv := range strings.FieldsSeq(string(rest)) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return parsers.Record{}, parsers.Malformation("field without '='", kv)
		}
		switch k {
		case "user":
			rec.User = v
		case "session":
			rec.Session = v
		case "uid":
			if _, err := strconv.ParseUint(v, 10, 32); err != nil {
				return parsers.Record{}, parsers.Malformation("bad uid", v)
			}
			rec.Add(k, v)
		default:
			rec.Add(k, v)
		}
	}
	return rec, nil
}

// DoubleMapper maps the Double's records. It keeps one piece of state, as
// real mappers do: the client address of each session's login, added to the
// session's later events.
type DoubleMapper struct {
	clients map[string][2]string
}

// Map implements mapping.Mapper.
func (m *DoubleMapper) Map(dst []event.Event, rec *parsers.Record) ([]event.Event, error) {
	if m.clients == nil {
		m.clients = map[string][2]string{}
	}
	host := rec.Host
	if host == "" {
		host = "localhost"
	}
	get := func(k string) string { v, _ := rec.Get(k); return v }
	uid := func() uint32 { n, _ := strconv.ParseUint(get("uid"), 10, 32); return uint32(n) }
	box := event.URL{User: rec.User, Host: host, Mailbox: get("box")}

	var e event.Event
	switch rec.Action {
	case "login":
		e = event.New(event.Login)
		e.SetURL(event.URI, event.URL{Host: host})
		e.SetString(event.ClientIP, get("rip"))
		m.clients[rec.Session] = [2]string{get("rip"), get("service")}
	case "save":
		e = event.New(event.MessageAppend)
		if get("service") == "lmtp" {
			e.Type = event.MessageNew
		}
		msg := box
		msg.UID = uid()
		e.SetURL(event.URI, msg)
		if n, err := strconv.ParseInt(get("size"), 10, 64); err == nil {
			e.SetInt(event.MessageSize, n)
		}
	case "expunge", "flags", "recent":
		e = event.New(event.MessageExpunge)
		e.SetURL(event.URI, box)
		e.SetUIDSet(event.NewUIDSet(uid()))
		if rec.Action != "expunge" {
			e.Type = event.FlagsSet
			e.SetString(event.FlagNames, get("set"))
		}
	default:
		return dst, fmt.Errorf("%w: action %q", mapping.ErrUnmapped, rec.Action)
	}
	if c, ok := m.clients[rec.Session]; ok && rec.Action != "login" {
		e.SetString(event.ClientIP, c[0])
	}
	if svc := get("service"); svc != "" {
		e.SetString(event.Service, svc)
	}
	if !rec.Time.IsZero() {
		e.SetTimestamp(rec.Time, rec.Precision)
	}
	e.SetString(event.User, rec.User)
	e.SetString(event.Session, rec.Session)
	if rec.PID > 0 {
		e.SetInt(event.PID, int64(rec.PID))
	}
	return append(dst, e), nil
}

// DoubleGrammar returns the test double and a fresh mapper registry for it,
// with the clock fixed so that BSD timestamps get a known year.
func DoubleGrammar(now time.Time) (parsers.Parser, func() *mapping.Registry) {
	d := &Double{Envelope: syslog.Parser{Now: func() time.Time { return now }, Location: now.Location()}}
	return d, func() *mapping.Registry {
		r := new(mapping.Registry)
		r.Register("dovecot", &DoubleMapper{})
		return r
	}
}
