package main

import (
	"fmt"

	"github.com/mailevents/mailevents/mapping"
	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/parsers/cyrus"
	"github.com/mailevents/mailevents/parsers/cyrusjson"
	"github.com/mailevents/mailevents/parsers/dovecot"
	"github.com/mailevents/mailevents/parsers/dovecotpush"
	"github.com/mailevents/mailevents/parsers/syslog"
)

// grammarSet is what the commands can parse: the grammars, in the order
// auto-detection tries them, and a constructor for fresh mappers (mappers hold
// correlation state, so every run gets its own).
type grammarSet struct {
	parsers    *parsers.Registry
	newMappers func(mapperOptions) *mapping.Registry
}

// mapperOptions are the command-line choices that shape mapping.
type mapperOptions struct {
	// host names the server in IMAP URLs when a line does not (Dovecot's own
	// log files carry no host name).
	host string
	// plainFlagsSet emits FlagsSet for \Seen and \Deleted instead of
	// MessageRead and MessageTrash (RFC 5423 §4.2 makes it configurable).
	plainFlagsSet bool
}

// defaultGrammars registers every grammar and mapper built into the binary,
// explicitly, so that what mailevents can read is visible here.
func defaultGrammars() grammarSet {
	env := syslog.Parser{} // time.Now and the local zone: a log's own time
	reg := new(parsers.Registry)
	// The log grammar first: it reads most lines. dovecot-push reads the
	// JSON lines of packaging/dovecot/mailevents-push.lua. cyrus reads
	// Cyrus IMAP's syslog lines (tags cyrus/imap, imapd, lmtpd, …).
	// cyrus-json reads Cyrus's native event notifications: bare JSON (from
	// source/cyrusnotify) or notifyd's log lines, which cyrus leaves to it.
	reg.Register(dovecot.New(env), dovecotpush.New(), cyrus.New(env), cyrusjson.New(env))
	return grammarSet{
		parsers: reg,
		newMappers: func(o mapperOptions) *mapping.Registry {
			m := new(mapping.Registry)
			m.Register("dovecot", mapping.NewDovecot(mapping.DovecotOptions{ServerHost: o.host, PlainFlagsSet: o.plainFlagsSet}))
			m.RegisterGrammar("dovecot-push", mapping.NewDovecotPush(mapping.DovecotPushOptions{ServerHost: o.host, PlainFlagsSet: o.plainFlagsSet}))
			m.Register("cyrus", mapping.NewCyrus(mapping.CyrusOptions{ServerHost: o.host, PlainFlagsSet: o.plainFlagsSet}))
			m.RegisterGrammar("cyrus-json", mapping.NewCyrusJSON(mapping.CyrusJSONOptions{}))
			return m
		},
	}
}

// forName returns the grammars an input names: a server's ("dovecot" reads
// Dovecot's logs and its push stream), every one ("auto"), or one grammar by
// name ("dovecot-push").
func (g grammarSet) forName(name string) ([]parsers.Parser, error) {
	if ps, err := g.parsers.ForServer(name); err == nil {
		return ps, nil
	}
	if p := g.parsers.Lookup(name); p != nil {
		return []parsers.Parser{p}, nil
	}
	return nil, fmt.Errorf("no grammar or server named %q", name)
}
