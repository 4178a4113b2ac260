package parsers

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mailevents/mailevents/source"
)

// Registry holds the grammars a command may use, in the order auto-detection
// tries them. Registration is explicit (main registers each grammar) rather
// than an init() side effect, so what a binary can parse is visible in one
// place.
type Registry struct {
	parsers []Parser
}

// Register adds grammars; a second grammar with an existing name is a
// programming error.
func (r *Registry) Register(ps ...Parser) {
	for _, p := range ps {
		if r.Lookup(p.Name()) != nil {
			panic(fmt.Sprintf("parsers: grammar %q registered twice", p.Name()))
		}
		r.parsers = append(r.parsers, p)
	}
}

// Lookup returns the grammar with the given name, or nil.
func (r *Registry) Lookup(name string) Parser {
	for _, p := range r.parsers {
		if p.Name() == name {
			return p
		}
	}
	return nil
}

// Servers lists the servers of the registered grammars, without repeats.
func (r *Registry) Servers() []string {
	var out []string
	for _, p := range r.parsers {
		if !slices.Contains(out, p.Server()) {
			out = append(out, p.Server())
		}
	}
	return out
}

// ForServer returns the grammars for server ("auto" or "" for all of them).
func (r *Registry) ForServer(server string) ([]Parser, error) {
	if server == "" || server == "auto" {
		return slices.Clone(r.parsers), nil
	}
	var out []Parser
	for _, p := range r.parsers {
		if p.Server() == server {
			out = append(out, p)
		}
	}
	if out == nil {
		return nil, fmt.Errorf("no grammar for server %q (known: %s)", server, strings.Join(r.Servers(), ", "))
	}
	return out, nil
}

// Detector tries grammars in turn on each line and remembers which one last
// succeeded, so that on a log of one server each line is parsed once. It is
// not safe for concurrent use: make one per input.
type Detector struct {
	parsers []Parser
	last    int
}

// NewDetector returns a Detector over the given grammars.
func NewDetector(ps []Parser) *Detector {
	return &Detector{parsers: ps}
}

// ReasonNoGrammar is the reject reason of a line no grammar recognised.
const ReasonNoGrammar = "no grammar recognises the line"

// Parse runs the grammars on line. It returns the grammar that decided (nil
// when none recognised the line) and that grammar's outcome. A Malformed
// error from a grammar is final: that grammar knows the line's shape.
func (d *Detector) Parse(line source.Line) (Parser, Record, error) {
	if len(d.parsers) == 0 {
		return nil, Record{}, Unrecognised(ReasonNoGrammar)
	}
	for n := range d.parsers {
		i := (d.last + n) % len(d.parsers)
		p := d.parsers[i]
		rec, err := p.Parse(line)
		if isUnknown(err) {
			continue
		}
		d.last = i
		return p, rec, err
	}
	return nil, Record{}, Unrecognised(ReasonNoGrammar)
}

// isUnknown reports whether err is an Unknown SyntaxError. Grammars return
// the *SyntaxError itself, so a type assertion decides without errors.As,
// whose target would escape to the heap on every line (nil, the common
// case, included: hence the first test).
func isUnknown(err error) bool {
	if err == nil {
		return false
	}
	if se, ok := err.(*SyntaxError); ok {
		return se.Kind == Unknown
	}
	var se *SyntaxError
	return errors.As(err, &se) && se.Kind == Unknown
}
