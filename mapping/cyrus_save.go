package mapping

import (
	"fmt"
	"math"
)

// cyStateTables is the number of tables in a Cyrus state blob.
const cyStateTables = 4

// The string tables of a Cyrus state blob.
const (
	cyStrSession = iota // session ids, which the process table names again
	cyStrLogin          // users, services, client addresses and names, mechanisms
	cyStrHost
	cyStrMailbox
	cyStrKind // of a pending pair
)

var cyStateStrings = []string{"session", "login", "host", "mailbox", "kind"}

// SaveState implements StateSaver. The blob holds, in this order, the
// sessions (id, user, service, client address and host, mechanism, TLS),
// the session each process serves (host, PID, session id), the UIDVALIDITY
// of each mailbox (host, internal name, value) and the pending line pairs
// (host, PID, kind, mailbox, extra, which line came first), each oldest
// first.
//
// When budget is short the tables are filled in that order, each with its
// newest entries, so what goes first is the oldest pending pairs, then
// UIDVALIDITYs, then processes, then sessions. Sessions and the processes
// that lead to them come first because a lost one strips the user and client
// from every later event of the session and turns its end into no Logout at
// all; a lost UIDVALIDITY only leaves it out of URLs; a pending pair waits
// for a twin logged in the same instant, so only the newest few can matter
// at a restart. Within a table the oldest go first, as the table's own FIFO
// bound would drop them.
func (c *Cyrus) SaveState(budget int) ([]byte, error) {
	data, _, err := c.saveState(budget)
	return data, err
}

func (c *Cyrus) saveState(budget int) ([]byte, bool, error) {
	if budget < 0 {
		return nil, false, fmt.Errorf("cyrus mapper: negative state budget %d", budget)
	}
	e := newStateEnc(budget, len(cyStateStrings), cyStateTables, c.sessions.len()+c.pids.len()+c.uidvalidity.len()+c.pending.len())
	saveTable(e, c.sessions, func(e *stateEnc, id string, s cySession) {
		e.ref(cyStrSession, id)
		e.ref(cyStrLogin, s.user)
		e.ref(cyStrLogin, s.service)
		e.ref(cyStrLogin, s.clientIP)
		e.ref(cyStrLogin, s.clientHost)
		e.ref(cyStrLogin, s.mech)
		e.uvarint(cyBool(s.tls))
	})
	saveTable(e, c.pids, func(e *stateEnc, k cyPIDKey, session string) {
		e.ref(cyStrHost, k.host)
		e.varint(int64(k.pid))
		e.ref(cyStrSession, session)
	})
	saveTable(e, c.uidvalidity, func(e *stateEnc, k cyBoxKey, v uint32) {
		e.ref(cyStrHost, k.host)
		e.ref(cyStrMailbox, k.box)
		e.uvarint(uint64(v))
	})
	saveTable(e, c.pending, func(e *stateEnc, k cyPendingKey, audit bool) {
		e.ref(cyStrHost, k.host)
		e.varint(int64(k.pid))
		e.ref(cyStrKind, k.kind)
		e.ref(cyStrMailbox, k.box)
		e.inlineBit(k.extra, audit)
	})
	return e.finish(stateKindCyrus), e.complete, nil
}

func cyBool(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// LoadState implements StateSaver.
func (c *Cyrus) LoadState(data []byte) error {
	sessions := newDCBounded[string, cySession](c.opts.MaxSessions)
	pids := newDCBounded[cyPIDKey, string](c.opts.MaxSessions)
	uidvalidity := newDCBounded[cyBoxKey, uint32](c.opts.MaxMailboxes)
	pending := newDCBounded[cyPendingKey, bool](c.opts.MaxMailboxes)
	if len(data) > 0 {
		r, err := openState(data, stateKindCyrus, cyStateStrings)
		if err != nil {
			return fmt.Errorf("%w of the cyrus mapper: %w", ErrCorruptState, err)
		}
		loadTable(r, "sessions", sessions, func(r *stateDec) (string, cySession) {
			id := r.ref(cyStrSession)
			s := cySession{user: r.ref(cyStrLogin), service: r.ref(cyStrLogin), clientIP: r.ref(cyStrLogin),
				clientHost: r.ref(cyStrLogin), mech: r.ref(cyStrLogin)}
			s.tls = r.uint("tls", 0, 1) == 1
			return id, s
		})
		loadTable(r, "processes", pids, func(r *stateDec) (cyPIDKey, string) {
			k := cyPIDKey{host: r.ref(cyStrHost), pid: r.pid()}
			return k, r.ref(cyStrSession)
		})
		loadTable(r, "uidvalidity", uidvalidity, func(r *stateDec) (cyBoxKey, uint32) {
			k := cyBoxKey{host: r.ref(cyStrHost), box: r.ref(cyStrMailbox)}
			return k, uint32(r.uint("uidvalidity", 1, math.MaxUint32))
		})
		loadTable(r, "pending", pending, func(r *stateDec) (cyPendingKey, bool) {
			k := cyPendingKey{host: r.ref(cyStrHost), pid: r.pid(), kind: r.ref(cyStrKind), box: r.ref(cyStrMailbox)}
			var audit bool
			k.extra, audit = r.inlineBit()
			return k, audit
		})
		if err := r.close(); err != nil {
			return fmt.Errorf("%w of the cyrus mapper: %w", ErrCorruptState, err)
		}
	}
	c.sessions, c.pids, c.uidvalidity, c.pending = sessions, pids, uidvalidity, pending
	return nil
}

// pid reads a process id, which must fit an int where it is loaded.
func (d *stateDec) pid() int {
	v := d.varint()
	if d.err == nil && int64(int(v)) != v {
		d.fail(fmt.Errorf("pid %d out of range", v))
		return 0
	}
	return int(v)
}
