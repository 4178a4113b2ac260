// Package parsers defines what a grammar is: a pure function from one log line
// to a Record in the server's own vocabulary, with exactly three outcomes.
// Grammars live in sub-packages (parsers/dovecot, parsers/cyrus); the shared
// syslog envelope is parsers/syslog.
package parsers

import (
	"errors"
	"fmt"
	"time"

	"github.com/mailevents/mailevents/source"
)

// Parser is one grammar.
//
// Parse is pure and safe to call from many goroutines: no I/O, no global
// state, the clock injected at construction. It has exactly three outcomes:
//   - a Record and a nil error: the line was recognised;
//   - ErrIgnored: a known line that carries no event (counted, not rejected);
//   - a *SyntaxError: counted and dead-lettered with its source and offset.
//
// No other error is allowed; the pipeline treats any other as a bug and
// dead-letters the line with kind "internal".
type Parser interface {
	// Name identifies the grammar in statistics and --explain output,
	// e.g. "dovecot" or "cyrus-json".
	Name() string
	// Server is the message store the grammar reads: "dovecot" or "cyrus".
	Server() string
	Parse(line source.Line) (Record, error)
}

// ErrIgnored marks a line the grammar knows and that evidences no event
// (an auth-worker debug line, a Dovecot master process start, ...).
var ErrIgnored = errors.New("known line without an event")

// Kind classifies a rejected line.
type Kind uint8

// Kinds of syntax errors.
const (
	// Unknown: the grammar does not recognise the line at all; with
	// auto-detection the next grammar is tried.
	Unknown Kind = iota + 1
	// Malformed: the grammar recognises the line's shape but a part of it is
	// wrong (a bad number, a missing field), so no other grammar is tried.
	Malformed
)

func (k Kind) String() string {
	switch k {
	case Unknown:
		return "unknown"
	case Malformed:
		return "malformed"
	}
	return "invalid"
}

// SyntaxError says why a line was not recognised. Reason is a short, stable
// phrase: it is a metrics label and the key of --stats counts, so it must not
// carry values from the line (those belong in Detail).
type SyntaxError struct {
	Kind   Kind
	Reason string
	Detail string
}

func (e *SyntaxError) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("%s line: %s", e.Kind, e.Reason)
	}
	return fmt.Sprintf("%s line: %s: %s", e.Kind, e.Reason, e.Detail)
}

// Unrecognised returns an Unknown SyntaxError.
func Unrecognised(reason string) *SyntaxError {
	return &SyntaxError{Kind: Unknown, Reason: reason}
}

// Malformation returns a Malformed SyntaxError.
func Malformation(reason, detail string) *SyntaxError {
	return &SyntaxError{Kind: Malformed, Reason: reason, Detail: detail}
}

// Record is what a grammar recognised in one line, in the server's own
// vocabulary; mapping turns it into RFC 5423 events.
type Record struct {
	Server  string // "dovecot" or "cyrus"
	Grammar string // the Parser's Name
	// Action is the server's word for what happened, e.g. "login", "save",
	// "flag_change", "auditlog.append".
	Action    string
	Time      time.Time // zero when the line had no time
	Precision int       // fractional-second digits of Time in the source
	Host      string    // the host that logged the line, "" when unknown
	Process   string    // the server process or service, e.g. "imap", "lmtp", "imap-login"
	PID       int       // 0 when unknown
	User      string
	Session   string
	Fields    []Field // further facts, in the order the line gave them
	Pos       source.Position
}

// Field is one named fact of a Record.
type Field struct {
	Key, Value string
}

// Get returns the value of the first field named key.
func (r *Record) Get(key string) (string, bool) {
	for _, f := range r.Fields {
		if f.Key == key {
			return f.Value, true
		}
	}
	return "", false
}

// Add appends a field. The first call makes room for a typical line's
// fields at once, so a record costs one allocation rather than several.
func (r *Record) Add(key, value string) {
	if r.Fields == nil {
		r.Fields = make([]Field, 0, 10)
	}
	r.Fields = append(r.Fields, Field{Key: key, Value: value})
}
