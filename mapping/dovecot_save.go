package mapping

import (
	"fmt"
	"math"
)

// dcStateTables is the number of tables in a Dovecot state blob.
const dcStateTables = 3

// The string tables of a Dovecot state blob.
const (
	dcStrAddress = iota // client and server addresses, login methods
	dcStrUser
	dcStrMailbox
	dcStrFlags
)

var dcStateStrings = []string{"address", "user", "mailbox", "flags"}

// SaveState implements StateSaver. The blob holds, in this order, the
// sessions (id, client and server address and port, method), the flags of
// each message (user, mailbox, UID, flags) and the pending deliveries (user,
// session, mailbox, which line came first, Message-ID), each oldest first.
//
// When budget is short the tables are filled in that order, each with its
// newest entries, so what goes first is the oldest pending deliveries, then
// flags, then sessions. Sessions come first because a lost one strips the
// client address from every later event of a session that may last hours;
// a lost flag state costs one FlagsSet marked unknown-before, for that
// message only; a pending delivery waits for a twin logged in the same
// instant, so only the newest few can matter at a restart. Within a table
// the oldest go first, as the table's own FIFO bound would drop them.
func (d *Dovecot) SaveState(budget int) ([]byte, error) {
	data, _, err := d.saveState(budget)
	return data, err
}

func (d *Dovecot) saveState(budget int) ([]byte, bool, error) {
	if budget < 0 {
		return nil, false, fmt.Errorf("dovecot mapper: negative state budget %d", budget)
	}
	e := newStateEnc(budget, len(dcStateStrings), dcStateTables, d.sessions.len()+d.flags.len()+d.pending.len())
	saveTable(e, d.sessions, func(e *stateEnc, id string, s dcSession) {
		e.inline(id)
		e.ref(dcStrAddress, s.clientIP)
		e.ref(dcStrAddress, s.serverDomain)
		e.uvarint(uint64(s.clientPort))
		e.uvarint(uint64(s.serverPort))
		e.ref(dcStrAddress, s.method)
	})
	saveTable(e, d.flags, func(e *stateEnc, k dcMsgKey, flags string) {
		e.ref(dcStrUser, k.user)
		e.ref(dcStrMailbox, k.box)
		e.uvarint(uint64(k.uid))
		e.ref(dcStrFlags, flags)
	})
	saveTable(e, d.pending, func(e *stateEnc, k dcDeliveryKey, p dcPendingDelivery) {
		e.ref(dcStrUser, k.user)
		e.inline(k.session)
		e.ref(dcStrMailbox, k.box)
		e.inlineBit(p.msgid, p.fromMailLog)
	})
	return e.finish(stateKindDovecot), e.complete, nil
}

// LoadState implements StateSaver.
func (d *Dovecot) LoadState(data []byte) error {
	sessions := newDCBounded[string, dcSession](d.opts.MaxSessions)
	flags := newDCBounded[dcMsgKey, string](d.opts.MaxMessages)
	pending := newDCBounded[dcDeliveryKey, dcPendingDelivery](d.opts.MaxMessages)
	if len(data) > 0 {
		r, err := openState(data, stateKindDovecot, dcStateStrings)
		if err != nil {
			return fmt.Errorf("%w of the dovecot mapper: %w", ErrCorruptState, err)
		}
		loadTable(r, "sessions", sessions, func(r *stateDec) (string, dcSession) {
			id := r.inline()
			s := dcSession{clientIP: r.ref(dcStrAddress), serverDomain: r.ref(dcStrAddress)}
			s.clientPort = int64(r.uint("client port", 0, math.MaxUint16))
			s.serverPort = int64(r.uint("server port", 0, math.MaxUint16))
			s.method = r.ref(dcStrAddress)
			return id, s
		})
		loadTable(r, "flags", flags, func(r *stateDec) (dcMsgKey, string) {
			k := dcMsgKey{user: r.ref(dcStrUser), box: r.ref(dcStrMailbox)}
			k.uid = uint32(r.uint("uid", 1, math.MaxUint32))
			return k, r.ref(dcStrFlags)
		})
		loadTable(r, "pending", pending, func(r *stateDec) (dcDeliveryKey, dcPendingDelivery) {
			k := dcDeliveryKey{user: r.ref(dcStrUser), session: r.inline(), box: r.ref(dcStrMailbox)}
			var p dcPendingDelivery
			p.msgid, p.fromMailLog = r.inlineBit()
			return k, p
		})
		if err := r.close(); err != nil {
			return fmt.Errorf("%w of the dovecot mapper: %w", ErrCorruptState, err)
		}
	}
	d.sessions, d.flags, d.pending = sessions, flags, pending
	return nil
}
