package main

import (
	"fmt"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// imapStep carries the main IMAP session through the scenario.
type imapStep struct {
	*scenario
	c *imapclient.Client
	s session
}

// appendMsg APPENDs m to box (enc is its URL encoding) and expects one
// MessageAppend naming the flags and keywords given, never \Recent.
func (st imapStep) appendMsg(box, enc string, m msg, flags []imap.Flag, date time.Time, wantFlags string) imap.UID {
	st.t.Helper()
	cmd := st.c.Append(box, int64(len(m.body)), &imap.AppendOptions{Flags: flags, Time: date})
	_, err := cmd.Write(m.body)
	st.ok("APPEND write", err)
	st.ok("APPEND close", cmd.Close())
	data, err := cmd.Wait()
	st.ok("APPEND "+box, err)
	w := st.msgEvent("MessageAppend", enc, data.UID, m)
	w.Flags = wantFlags
	st.expect(w)
	return data.UID
}

// msgEvent is an event about message uid of alice's mailbox enc.
func (st imapStep) msgEvent(typ, enc string, uid imap.UID, m msg) wantEvent {
	w := st.ev(st.s, typ)
	w.URI, w.UIDSet = st.msgURI("alice", enc, uid), fmt.Sprint(uid)
	w.MessageSize, w.MsgID = m.size(), m.id
	return w
}

// flagged is msgEvent with flagNames.
func (st imapStep) flagged(typ, enc string, uid imap.UID, m msg, flags string) wantEvent {
	w := st.msgEvent(typ, enc, uid, m)
	w.Flags = flags
	return w
}

func (st imapStep) store(uid imap.UID, op imap.StoreFlagsOp, flags ...imap.Flag) {
	st.t.Helper()
	st.ok(fmt.Sprintf("STORE %d %v", uid, flags),
		st.c.Store(imap.UIDSetNum(uid), &imap.StoreFlags{Op: op, Silent: true, Flags: flags}, nil).Close())
}

// mailboxEvent is MailboxCreate or MailboxDelete of alice's mailbox enc.
func (st imapStep) mailboxEvent(typ, enc string) wantEvent {
	w := st.ev(st.s, typ)
	w.URI, w.MailboxID = st.boxURI("alice", enc), st.boxURI("alice", enc)
	return w
}

func (st imapStep) create(box, enc string) {
	st.t.Helper()
	st.ok("CREATE "+box, st.c.Create(box, nil).Wait())
	st.expect(st.mailboxEvent("MailboxCreate", enc))
}

func (st imapStep) rename(from, fromEnc, to, toEnc string) {
	st.t.Helper()
	st.ok("RENAME "+from, st.c.Rename(from, to, nil).Wait())
	w := st.mailboxEvent("MailboxRename", toEnc)
	w.OldMailboxID = st.boxURI("alice", fromEnc)
	st.expect(w)
	st.gone = append(st.gone, from)
}

// oneUID is the single UID of a COPYUID/MOVE answer.
func (st imapStep) oneUID(set imap.NumSet) imap.UID {
	st.t.Helper()
	uids, ok := set.(imap.UIDSet)
	if n, _ := uids.Nums(); !ok || len(n) != 1 {
		st.t.Fatalf("want one destination UID, got %v", set)
	}
	n, _ := uids.Nums()
	return n[0]
}

// imap is alice's main session (every mailbox and message operation), a
// session dropped without LOGOUT, a failed login and autoexpunge.
func (sc *scenario) imap() {
	t := sc.t
	c, s := sc.imapLogin("main")
	st := imapStep{scenario: sc, c: c, s: s}

	sel, err := c.Select("INBOX", nil).Wait()
	st.ok("SELECT INBOX", err)
	if sel.NumMessages != 1 {
		t.Fatalf("INBOX has %d messages, want the LMTP delivery", sel.NumMessages)
	}
	fetched, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
	st.ok("FETCH", err)
	if len(fetched) != 1 || fetched[0].UID != 1 {
		t.Fatalf("FETCH 1: %+v, want UID 1", fetched)
	}
	sc.fillSize("MessageNew", "alice", fetched[0].RFC822Size)

	// Dovecot creates the missing parent "Archive" as a directory only: one
	// MailboxCreate.
	st.create("Archive/2024", "Archive/2024")
	for _, b := range oddBoxes {
		st.create(b.name, b.enc)
	}

	// Autoexpunge goes by the save date; the old INTERNALDATE only makes it
	// realistic.
	trashSaved := time.Now()
	mt := newMsg(0, "Old trash")
	uidT := st.appendMsg("Trash", "Trash", mt, []imap.Flag{imap.FlagSeen}, time.Now().AddDate(0, -2, 0), `\Seen`)
	m1, m2, m3, m4, m5 := newMsg(1, "Flags and keyword"), newMsg(2, "To be moved"), newMsg(3, "To be expunged"),
		newMsg(4, "To be UID expunged"), newMsg(5, "To be expunged by CLOSE")
	uid1 := st.appendMsg("INBOX", "INBOX", m1, []imap.Flag{imap.FlagSeen, imap.FlagFlagged, "project-x"}, time.Time{}, `\Flagged \Seen project-x`)
	uid2 := st.appendMsg("INBOX", "INBOX", m2, nil, time.Time{}, "")
	uid3 := st.appendMsg("INBOX", "INBOX", m3, nil, time.Time{}, "")
	uid4 := st.appendMsg("INBOX", "INBOX", m4, nil, time.Time{}, "")
	uid5 := st.appendMsg("INBOX", "INBOX", m5, nil, time.Time{}, "")
	m6 := newMsg(6, "Draft")
	st.appendMsg("Entwürfe", "Entw%C3%BCrfe", m6, []imap.Flag{imap.FlagDraft}, time.Time{}, `\Draft`)

	// Dovecot logs a flag_change for the system flags and another for the
	// keywords: \Seen newly set is MessageRead, the keyword a FlagsSet.
	st.store(uid2, imap.StoreFlagsAdd, imap.FlagSeen, "project-x")
	st.expect(st.msgEvent("MessageRead", "INBOX", uid2, m2), st.flagged("FlagsSet", "INBOX", uid2, m2, "project-x"))
	st.store(uid1, imap.StoreFlagsDel, imap.FlagSeen, "project-x")
	st.expect(st.flagged("FlagsClear", "INBOX", uid1, m1, `\Seen`), st.flagged("FlagsClear", "INBOX", uid1, m1, "project-x"))

	cp, err := c.Copy(imap.UIDSetNum(uid1), "Archive/2024").Wait()
	st.ok("COPY", err)
	w := st.flagged("MessageAppend", "Archive/2024", st.oneUID(cp.DestUIDs), m1, `\Flagged`)
	w.OldMailboxID = st.boxURI("alice", "INBOX")
	st.expect(w)
	mv, err := c.Move(imap.UIDSetNum(uid2), "My Folder").Wait()
	st.ok("MOVE", err)
	w = st.flagged("MessageAppend", "My%20Folder", st.oneUID(mv.DestUIDs), m2, `\Seen project-x`)
	w.OldMailboxID = st.boxURI("alice", "INBOX")
	st.expect(w, st.msgEvent("MessageExpunge", "INBOX", uid2, m2))

	st.store(uid3, imap.StoreFlagsAdd, imap.FlagDeleted)
	st.ok("EXPUNGE", c.Expunge().Close())
	st.expect(st.msgEvent("MessageTrash", "INBOX", uid3, m3), st.msgEvent("MessageExpunge", "INBOX", uid3, m3))
	st.store(uid4, imap.StoreFlagsAdd, imap.FlagDeleted)
	st.ok("UID EXPUNGE", c.UIDExpunge(imap.UIDSetNum(uid4)).Close())
	st.expect(st.msgEvent("MessageTrash", "INBOX", uid4, m4), st.msgEvent("MessageExpunge", "INBOX", uid4, m4))
	st.store(uid5, imap.StoreFlagsAdd, imap.FlagDeleted)
	st.store(uid5, imap.StoreFlagsDel, imap.FlagDeleted)
	st.store(uid5, imap.StoreFlagsAdd, imap.FlagDeleted)
	st.ok("CLOSE", c.UnselectAndExpunge().Wait())
	st.expect(st.msgEvent("MessageTrash", "INBOX", uid5, m5), st.flagged("FlagsClear", "INBOX", uid5, m5, `\Deleted`),
		st.msgEvent("MessageTrash", "INBOX", uid5, m5), st.msgEvent("MessageExpunge", "INBOX", uid5, m5))

	st.rename("Archive/2024", "Archive/2024", "Archive/2023", "Archive/2023")
	st.rename("a;b", "a%3Bb", renamedOdd, renamedOddEnc)
	st.create("Scratch", "Scratch")
	st.ok("DELETE Scratch", c.Delete("Scratch").Wait())
	st.expect(st.mailboxEvent("MailboxDelete", "Scratch"))
	// Deleting a mailbox expunges its messages first.
	st.ok("DELETE Archive/2023", c.Delete("Archive/2023").Wait())
	st.expect(st.msgEvent("MessageExpunge", "Archive/2023", st.oneUID(cp.DestUIDs), m1), st.mailboxEvent("MailboxDelete", "Archive/2023"))
	st.gone = append(st.gone, "Scratch", "Archive/2023")

	// What IMAP itself says each remaining mailbox's UIDVALIDITY is.
	sc.uidvalidity = map[string]uint32{}
	for _, b := range []string{"INBOX", "Trash", "My Folder", "Entwürfe", "100%", renamedOdd} {
		data, err := c.Status(b, &imap.StatusOptions{UIDValidity: true}).Wait()
		st.ok("STATUS "+b, err)
		sc.uidvalidity[b] = data.UIDValidity
	}

	// A session that ends without LOGOUT, opened before the failed login:
	// after a failure Dovecot delays further logins from the address.
	drop, ds := sc.imapLogin("drop")
	_, err = drop.Select("INBOX", nil).Wait()
	st.ok("SELECT (drop)", err)

	bad, badPort := sc.dialIMAP()
	if err := bad.Login("alice", "wrong").Wait(); err == nil {
		t.Fatal("LOGIN with a wrong password succeeded")
	}
	st.ok("LOGOUT after failed LOGIN", bad.Logout().Wait())
	sc.srv.WaitForLog(t, fmt.Sprintf("rport=%d,", badPort), e2eWait)
	failed := sc.ev(session{label: "failed", service: "imap", user: "alice", clientPort: badPort, serverPort: s.serverPort}, "vnd.mailevents.LoginFailed")
	failed.URI = sc.loginURI()
	sc.expect(failed)

	// The Trash mail must be older than Options.Autoexpunge (whole seconds,
	// plus one for rounding) when the session ends: a deadline computed
	// from the save time, not a blind sleep.
	time.Sleep(time.Until(trashSaved.Add(2100 * time.Millisecond)))
	st.ok("LOGOUT", c.Logout().Wait())
	sc.srv.WaitForLog(t, "Disconnected: Logged out in=", e2eWait)
	logout := sc.ev(s, "Logout")
	logout.URI, logout.Disconnect = sc.loginURI(), "graceful"
	sc.expect(st.msgEvent("MessageExpire", "Trash", uidT, mt), logout)

	st.ok("drop connection", drop.Close())
	sc.srv.WaitForLog(t, "Disconnected: Connection closed", e2eWait)
	logout = sc.ev(ds, "Logout")
	logout.URI, logout.Disconnect = sc.loginURI(), "abort"
	sc.expect(logout)
}
