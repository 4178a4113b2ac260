package mapping

import (
	"github.com/mailevents/mailevents/event"
	"github.com/mailevents/mailevents/parsers"
)

// cyParams are the parameters of one Cyrus event, gathered first and set by
// emit in output order (see dcParams for why that order matters).
type cyParams struct {
	// sess is the session's login; the zero cySession when none is known.
	sess cySession
	// user is the event's user: the mailbox's owner for mailbox and message
	// events, the login name for session events.
	user string
	// admin is the session's user when it acts on another user's mailbox
	// (RFC 5423 §5 "admin").
	admin string

	oldMailboxID, mailboxID, uri, uidset event.Value // zero Value: absent
	flags                                string
	modseq, size                         int64 // 0: absent
	diskQuota, maxMessages               int64
	hasQuota                             bool

	msgid, reason string
	hasTLS        bool
}

func (c *Cyrus) emit(t event.Type, rec *parsers.Record, p *cyParams) event.Event {
	e := event.New(t)
	if !rec.Time.IsZero() {
		e.SetTimestamp(rec.Time, rec.Precision)
	}
	dcSet(&e, event.Service, cyService(rec.Process))
	dcSet(&e, event.ClientIP, p.sess.clientIP)
	dcSetValue(&e, event.OldMailboxID, p.oldMailboxID)
	dcSetValue(&e, event.MailboxID, p.mailboxID)
	dcSetValue(&e, event.URI, p.uri)
	if p.modseq > 0 {
		e.SetInt(event.Modseq, p.modseq)
	}
	if p.hasQuota {
		e.SetInt(event.DiskQuota, p.diskQuota)
		e.SetInt(event.MaxMessages, p.maxMessages)
	}
	dcSetValue(&e, event.UIDSetParam, p.uidset)
	dcSet(&e, event.FlagNames, p.flags)
	if rec.PID > 0 {
		e.SetInt(event.PID, int64(rec.PID))
	}
	dcSet(&e, event.User, p.user)
	dcSet(&e, event.Admin, p.admin)
	if p.size > 0 {
		e.SetInt(event.MessageSize, p.size)
	}
	// Vendor parameters, by name.
	dcSet(&e, cyClientHost, p.sess.clientHost)
	dcSet(&e, dcMethod, p.sess.mech)
	dcSet(&e, dcMsgID, p.msgid)
	dcSet(&e, dcReason, p.reason)
	dcSet(&e, event.Session, rec.Session)
	if p.hasTLS {
		e.Set(dcTLS, event.Bool(p.sess.tls))
	}
	return e
}
