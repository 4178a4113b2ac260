// Package mapping turns Records in a server's vocabulary into RFC 5423
// events. It is the only layer that knows both vocabularies. Per-server
// tables live beside this file (dovecot.go, cyrus.go); any state a server
// needs to correlate lines (a session's client address, the last known flags
// of a message) is bounded and explicit.
package mapping

import (
	"errors"
	"fmt"

	"github.com/mailevents/mailevents/event"
	"github.com/mailevents/mailevents/parsers"
)

// Mapper maps the Records of one server. Map appends the events rec evidences
// to dst and returns it; it is deterministic given the same sequence of
// records. Every event it returns must pass event.Validate. A Mapper keeps
// correlation state and is not safe for concurrent use: the pipeline calls it
// from one goroutine.
type Mapper interface {
	Map(dst []event.Event, rec *parsers.Record) ([]event.Event, error)
}

// ErrUnmapped marks a Record whose action has no RFC 5423 counterpart; the
// line is dead-lettered with reason "unmapped".
var ErrUnmapped = errors.New("no RFC 5423 event for this action")

// Registry finds the Mapper of a server.
type Registry struct {
	mappers map[string]Mapper
	// byGrammar overrides mappers for one grammar: a server with two
	// sources (Dovecot's logs and its push-notification stream) has one
	// mapper per vocabulary.
	byGrammar map[string]Mapper
}

// Register sets the Mapper of server.
func (r *Registry) Register(server string, m Mapper) {
	if r.mappers == nil {
		r.mappers = make(map[string]Mapper)
	}
	if _, dup := r.mappers[server]; dup {
		panic(fmt.Sprintf("mapping: server %q registered twice", server))
	}
	r.mappers[server] = m
}

// RegisterGrammar sets the Mapper of the Records of one grammar, which takes
// precedence over the Mapper of the grammar's server.
func (r *Registry) RegisterGrammar(grammar string, m Mapper) {
	if r.byGrammar == nil {
		r.byGrammar = make(map[string]Mapper)
	}
	if _, dup := r.byGrammar[grammar]; dup {
		panic(fmt.Sprintf("mapping: grammar %q registered twice", grammar))
	}
	r.byGrammar[grammar] = m
}

// Map maps rec with its grammar's Mapper, else its server's.
func (r *Registry) Map(dst []event.Event, rec *parsers.Record) ([]event.Event, error) {
	if m, ok := r.byGrammar[rec.Grammar]; ok {
		return m.Map(dst, rec)
	}
	m, ok := r.mappers[rec.Server]
	if !ok {
		return dst, fmt.Errorf("%w: no mapper for server %q", ErrUnmapped, rec.Server)
	}
	return m.Map(dst, rec)
}
