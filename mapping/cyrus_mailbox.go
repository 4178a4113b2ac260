package mapping

import (
	"strconv"

	"github.com/mailevents/mailevents/event"
	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/parsers/cyrus"
)

// mailbox maps auditlog create/delete/rename and the prose "Deleted
// mailbox" and "Rename:" lines. Cyrus 3.6 writes "Deleted mailbox X" and
// "auditlog: delete … X" for one DELETE: that is one MailboxDelete, as are
// "Rename:" and "auditlog: rename" where both appear.
func (c *Cyrus) mailbox(dst []event.Event, rec *parsers.Record) ([]event.Event, error) {
	audit := rec.Action == cyrus.ActionCreate || rec.Action == cyrus.ActionDelete || rec.Action == cyrus.ActionRename
	switch rec.Action {
	case cyrus.ActionCreate:
		m, internal, err := cyMailbox(rec, "mailbox")
		if err != nil {
			return dst, err
		}
		if v, _ := rec.Get("uidvalidity"); v != "" {
			if n, err := strconv.ParseUint(v, 10, 32); err == nil && n > 0 {
				c.uidvalidity.put(cyBoxKey{rec.Host, internal}, uint32(n))
			}
		}
		return append(dst, c.boxEvent(event.MailboxCreate, rec, m, internal)), nil
	case cyrus.ActionDelete, cyrus.ActionMailboxDeleted:
		m, internal, err := cyMailbox(rec, "mailbox")
		if err != nil {
			return dst, err
		}
		return c.deleted(dst, rec, m, internal, audit), nil
	}
	oldM, oldName, err := cyMailbox(rec, "oldmailbox")
	if err != nil {
		return dst, err
	}
	newM, newName, err := cyMailbox(rec, "newmailbox")
	if err != nil {
		return dst, err
	}
	if newM.Deleted {
		// delete_mode: delayed renames the mailbox to DELETED.…: to its
		// owner it is gone.
		return c.deleted(dst, rec, oldM, oldName, audit), nil
	}
	if c.seenPair(cyPendingKey{host: rec.Host, pid: rec.PID, kind: "rename", box: oldName, extra: newName}, audit) {
		return dst, nil
	}
	p, user := c.boxParams(rec, newM)
	oldURL := c.boxURL(rec, user, oldM, oldName, 0)
	oldURL.User = oldM.Owner
	if oldURL.User == "" {
		oldURL.User = user
	}
	p.oldMailboxID = event.URLValue(oldURL)
	// A rename keeps the mailbox's UIDVALIDITY (Cyrus moves its index).
	k := cyBoxKey{rec.Host, oldName}
	if v, ok := c.uidvalidity.get(k); ok {
		c.uidvalidity.del(k)
		c.uidvalidity.put(cyBoxKey{rec.Host, newName}, v)
	}
	p.mailboxID = event.URLValue(c.boxURL(rec, user, newM, newName, 0))
	p.uri = p.mailboxID
	return append(dst, c.emit(event.MailboxRename, rec, &p)), nil
}

// deleted emits one MailboxDelete for the pair of lines a delete writes.
func (c *Cyrus) deleted(dst []event.Event, rec *parsers.Record, m cyrus.Mailbox, internal string, audit bool) []event.Event {
	if c.seenPair(cyPendingKey{host: rec.Host, pid: rec.PID, kind: "delete", box: internal}, audit) {
		return dst
	}
	e := c.boxEvent(event.MailboxDelete, rec, m, internal)
	c.uidvalidity.del(cyBoxKey{rec.Host, internal})
	return append(dst, e)
}

func (c *Cyrus) boxEvent(t event.Type, rec *parsers.Record, m cyrus.Mailbox, internal string) event.Event {
	p, user := c.boxParams(rec, m)
	p.mailboxID = event.URLValue(c.boxURL(rec, user, m, internal, 0))
	p.uri = p.mailboxID
	return c.emit(t, rec, &p)
}

// quota maps auditlog setquota/newquota/rmquota: QuotaChange with the new
// limits (-1: none, as Cyrus's own notifications say).
func (c *Cyrus) quota(dst []event.Event, rec *parsers.Record) ([]event.Event, error) {
	m, internal, err := cyMailbox(rec, "root")
	if err != nil {
		return dst, err
	}
	p, user := c.boxParams(rec, m)
	p.hasQuota = true
	p.diskQuota, p.maxMessages = -1, -1
	kind, _ := rec.Get("quota")
	found := kind == "rmquota"
	for _, f := range rec.Fields {
		var dstp *int64
		switch f.Key {
		case "newSTORAGE", "quota.STORAGE":
			dstp = &p.diskQuota
		case "newMESSAGE", "quota.MESSAGE":
			dstp = &p.maxMessages
		default:
			continue
		}
		n, err := strconv.ParseInt(f.Value, 10, 64)
		if err != nil || n < -1 {
			return dst, cyUnmapped("quota %s=%q", f.Key, f.Value)
		}
		if kind != "rmquota" {
			*dstp = n
		}
		found = true
	}
	if !found {
		return dst, cyUnmapped("%s without STORAGE or MESSAGE", kind)
	}
	p.uri = event.URLValue(c.boxURL(rec, user, m, internal, 0))
	return append(dst, c.emit(event.QuotaChange, rec, &p)), nil
}
