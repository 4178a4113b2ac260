package mapping

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
)

// StateSaver is implemented by the Mappers whose correlation state can
// outlive the process: the daemon saves it with its checkpoint, at a moment when every line mapped
// so far has been acknowledged, and loads it at start, so that events after a
// restart still carry their session's client and flag changes are computed
// against the flags known before it.
//
// SaveState encodes the state in at most budget bytes. What does not fit is
// dropped, oldest first (each implementation says in which order its tables
// give way); an empty state, or one of which nothing fits, is nil.
//
// LoadState replaces the state with what data encodes; empty data is the
// empty state. It is strict: data of another version or mapper, truncated or
// corrupt, is an error wrapping ErrCorruptState, and the state is left as it
// was. A blob holding more entries than the mapper's bounds keeps the newest.
type StateSaver interface {
	SaveState(budget int) ([]byte, error)
	LoadState(data []byte) error
}

// ErrCorruptState marks a state blob that LoadState cannot use. The daemon
// stops on it, as on a corrupt checkpoint: starting with an empty state
// would silently strip client addresses and flag deltas from the events.
var ErrCorruptState = errors.New("corrupt mapping state")

// budgetedSaver is implemented by the savers of this package: complete tells
// the Registry that nothing was dropped, so the budget it did not use can go
// to the others.
type budgetedSaver interface {
	saveState(budget int) (data []byte, complete bool, err error)
}

type namedSaver struct {
	name string
	s    StateSaver
}

// savers lists the registered StateSavers, each once, named after its first
// registration in sorted order: the server ("dovecot"), or "grammar.<name>"
// for a mapper registered for grammars only. The names depend only on the
// registrations, so they are stable across restarts of the same
// configuration. The daemon keeps the blobs in its checkpoint under its own
// prefix ("mapping.dovecot").
func (r *Registry) savers() ([]namedSaver, error) {
	var out []namedSaver
	add := func(name string, m Mapper) error {
		s, ok := m.(StateSaver)
		if !ok {
			return nil
		}
		for _, o := range out {
			if sameSaver(o.s, s) {
				return nil
			}
		}
		for _, o := range out {
			if o.name == name {
				return fmt.Errorf("mapping: two mappers would save their state as %q", name)
			}
		}
		out = append(out, namedSaver{name, s})
		return nil
	}
	for _, server := range slices.Sorted(maps.Keys(r.mappers)) {
		if err := add(server, r.mappers[server]); err != nil {
			return nil, err
		}
	}
	for _, g := range slices.Sorted(maps.Keys(r.byGrammar)) {
		if err := add("grammar."+g, r.byGrammar[g]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// sameSaver reports whether a and b are one registration. == panics on two
// values of the same uncomparable type; such values are taken as distinct,
// which at worst saves one state twice.
func sameSaver(a, b StateSaver) bool {
	return reflect.ValueOf(a).Comparable() && a == b
}

// StateNames returns the names SaveState uses, sorted.
func (r *Registry) StateNames() ([]string, error) {
	savers, err := r.savers()
	if err != nil {
		return nil, err
	}
	names := make([]string, len(savers))
	for i, s := range savers {
		names[i] = s.name
	}
	slices.Sort(names)
	return names, nil
}

// SaveState encodes the state of every registered StateSaver. The result has
// an entry for each of StateNames, nil for an empty state (which a checkpoint
// store deletes), and the names and data of its non-empty blobs together stay
// within budget (a prefix the caller adds to the names is its own to count).
//
// The budget is shared so that the one server a host actually runs is not
// held to half of it by an idle mapper of the other. Each saver is first
// offered the whole budget, which is enough when at most one of them has
// much to save; when the blobs do not fit together, each is offered an equal
// part, and what the savers that fit whole leave unused goes to the others.
func (r *Registry) SaveState(budget int) (map[string][]byte, error) {
	if budget < 0 {
		return nil, fmt.Errorf("mapping: negative state budget %d", budget)
	}
	savers, err := r.savers()
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(savers))
	left := budget
	for _, s := range savers {
		left -= len(s.name)
	}
	left = max(left, 0)
	if len(savers) > 1 {
		results, err := saveAll(savers, left)
		if err != nil {
			return nil, err
		}
		total := 0
		for _, res := range results {
			total += len(res.data)
		}
		if total <= left {
			for i, s := range savers {
				out[s.name] = results[i].data
			}
			return out, nil
		}
	}
	pending := savers
	for len(pending) > 0 {
		results, err := saveAll(pending, left/len(pending))
		if err != nil {
			return nil, err
		}
		completes := 0
		for _, res := range results {
			if res.complete {
				completes++
			}
		}
		if completes == 0 || completes == len(pending) {
			// Nobody left budget to share, or nobody needs more.
			for i, s := range pending {
				out[s.name] = results[i].data
			}
			break
		}
		var next []namedSaver
		for i, s := range pending {
			if results[i].complete {
				out[s.name] = results[i].data
				left -= len(results[i].data)
			} else {
				next = append(next, s)
			}
		}
		pending = next
	}
	return out, nil
}

type saveResult struct {
	data     []byte
	complete bool
}

// saveAll saves each of savers within budget.
func saveAll(savers []namedSaver, budget int) ([]saveResult, error) {
	results := make([]saveResult, len(savers))
	for i, s := range savers {
		data, complete, err := saveWithin(s.s, budget)
		if err != nil {
			return nil, fmt.Errorf("state %q: %w", s.name, err)
		}
		results[i] = saveResult{data, complete}
	}
	return results, nil
}

// saveWithin saves s in at most budget bytes; a saver from outside this
// package cannot say whether it dropped anything, so it never gives budget
// back.
func saveWithin(s StateSaver, budget int) ([]byte, bool, error) {
	if b, ok := s.(budgetedSaver); ok {
		return b.saveState(budget)
	}
	data, err := s.SaveState(budget)
	if err != nil {
		return nil, false, err
	}
	if len(data) > budget {
		return nil, false, fmt.Errorf("mapping: %T saved %d bytes, over its budget of %d", s, len(data), budget)
	}
	return data, false, nil
}

// LoadState loads into every registered StateSaver the blob saved under its
// name; a missing name is an empty state. Names that no saver uses (another
// component's state, or that of a mapper no longer registered) are ignored:
// dropping correlation state costs a few incomplete events, where refusing to
// start would cost the positions too.
//
// An error names the blob and what is wrong with it; the savers before it
// have been loaded, those after it keep their state.
func (r *Registry) LoadState(state map[string][]byte) error {
	savers, err := r.savers()
	if err != nil {
		return err
	}
	for _, s := range savers {
		if err := s.s.LoadState(state[s.name]); err != nil {
			return fmt.Errorf("state %q: %w", s.name, err)
		}
	}
	return nil
}

// sizer is a mapper that can say how full its correlation tables are.
type sizer interface {
	stateSizes() map[string]int
}

// StateSizes returns the number of entries of each correlation table, named
// "<mapper>.<table>" (e.g. "dovecot.sessions"), for the daemon's metrics.
func (r *Registry) StateSizes() map[string]int {
	savers, err := r.savers()
	if err != nil {
		return nil
	}
	out := map[string]int{}
	for _, s := range savers {
		if z, ok := s.s.(sizer); ok {
			for table, n := range z.stateSizes() {
				out[s.name+"."+table] = n
			}
		}
	}
	return out
}

func (d *Dovecot) stateSizes() map[string]int {
	return map[string]int{"sessions": d.sessions.len(), "flags": d.flags.len(), "pending": d.pending.len()}
}

func (c *Cyrus) stateSizes() map[string]int {
	return map[string]int{"sessions": c.sessions.len(), "pids": c.pids.len(), "uidvalidity": c.uidvalidity.len(), "pending": c.pending.len()}
}
