package seal

import "github.com/mailevents/mailevents/event"

// The members every event may have besides vendor parameters, in the order
// RFC 8785 sorts them (by UTF-16 code units, which for these ASCII names is
// byte order); a test checks the order.
var slotKeys = [...]string{
	`"admin":`,
	`"bodyStructure":`,
	`"clientIP":`,
	`"clientPort":`,
	`"diskQuota":`,
	`"diskUsed":`,
	`"envelope":`,
	`"event":`,
	`"flagNames":`,
	`"mailboxID":`,
	`"maxMessages":`,
	`"messageContent":`,
	`"messageSize":`,
	`"messages":`,
	`"modseq":`,
	`"oldMailboxID":`,
	`"pid":`,
	`"process":`,
	`"serverDomain":`,
	`"serverFQDN":`,
	`"serverPort":`,
	`"service":`,
	`"tags":`,
	`"timestamp":`,
	`"uidnext":`,
	`"uidset":`,
	`"uri":`,
	`"user":`,
}

const numSlots = len(slotKeys)

// eventSlot is the place of the "event" member.
const eventSlot = 7

// slotOf is a switch rather than a map lookup: it runs for every parameter
// of every sealed event.
func slotOf(p event.Param) (int, bool) {
	switch p {
	case event.Admin:
		return 0, true
	case event.BodyStructure:
		return 1, true
	case event.ClientIP:
		return 2, true
	case event.ClientPort:
		return 3, true
	case event.DiskQuota:
		return 4, true
	case event.DiskUsed:
		return 5, true
	case event.Envelope:
		return 6, true
	case event.FlagNames:
		return 8, true
	case event.MailboxID:
		return 9, true
	case event.MaxMessages:
		return 10, true
	case event.MessageContent:
		return 11, true
	case event.MessageSize:
		return 12, true
	case event.Messages:
		return 13, true
	case event.Modseq:
		return 14, true
	case event.OldMailboxID:
		return 15, true
	case event.PID:
		return 16, true
	case event.Process:
		return 17, true
	case event.ServerDomain:
		return 18, true
	case event.ServerFQDN:
		return 19, true
	case event.ServerPort:
		return 20, true
	case event.Service:
		return 21, true
	case event.Tags:
		return 22, true
	case event.Timestamp:
		return 23, true
	case event.UIDNext:
		return 24, true
	case event.UIDSetParam:
		return 25, true
	case event.URI:
		return 26, true
	case event.User:
		return 27, true
	}
	return 0, false
}
