package event

import "strconv"

// Param is a parameter name, spelled as RFC 5423 §5 does, or a vendor extension
// beginning with "vnd.".
type Param string

// The parameters of RFC 5423 §5.
const (
	Admin          Param = "admin"
	BodyStructure  Param = "bodyStructure"
	ClientIP       Param = "clientIP"
	ClientPort     Param = "clientPort"
	DiskQuota      Param = "diskQuota"
	DiskUsed       Param = "diskUsed"
	Envelope       Param = "envelope"
	FlagNames      Param = "flagNames"
	MailboxID      Param = "mailboxID"
	MaxMessages    Param = "maxMessages"
	MessageContent Param = "messageContent"
	MessageSize    Param = "messageSize"
	Messages       Param = "messages"
	Modseq         Param = "modseq"
	OldMailboxID   Param = "oldMailboxID"
	PID            Param = "pid"
	Process        Param = "process"
	ServerDomain   Param = "serverDomain"
	ServerPort     Param = "serverPort"
	ServerFQDN     Param = "serverFQDN"
	Service        Param = "service"
	Tags           Param = "tags"
	Timestamp      Param = "timestamp"
	UIDNext        Param = "uidnext"
	UIDSetParam    Param = "uidset"
	URI            Param = "uri"
	User           Param = "user"
)

// Vendor parameters of this project (RFC 5423 §6 "vnd." names).
const (
	// ID is stable: the same source bytes always give the same id, so an
	// archive can drop the duplicates that at-least-once delivery brings.
	ID Param = "vnd.mailevents.id"
	// Source says where the event was read: {"file":PATH,"offset":N} or
	// {"stream":NAME,"offset":N}.
	Source Param = "vnd.mailevents.source"
	// Server is the kind of message store that wrote the evidence: "dovecot" or "cyrus".
	Server Param = "vnd.mailevents.server"
	// Session is the server's own session id, when the evidence names one.
	Session Param = "vnd.mailevents.session"
)

// RFCParams lists the RFC 5423 §5 parameters in the order of the RFC.
var RFCParams = []Param{
	Admin, BodyStructure, ClientIP, ClientPort, DiskQuota, DiskUsed, Envelope,
	FlagNames, MailboxID, MaxMessages, MessageContent, MessageSize, Messages,
	Modseq, OldMailboxID, PID, Process, ServerDomain, ServerPort, ServerFQDN,
	Service, Tags, Timestamp, UIDNext, UIDSetParam, URI, User,
}

// encodingOrder is the order of keys in the output: Cyrus's mboxevent.c
// parameter table (its serverAddress and clientAddress split into domain/IP
// and port, as its JSON formatter does), the RFC parameters Cyrus does not
// emit placed beside their kin, vendor parameters next, and messageContent
// last.
var encodingOrder = []Param{
	Timestamp, Service, ServerDomain, ServerPort, ClientIP, ClientPort,
	OldMailboxID, MailboxID, URI, Modseq, DiskQuota, DiskUsed, MaxMessages,
	Messages, UIDNext, UIDSetParam, FlagNames, PID, Process, User, Admin,
	MessageSize, ServerFQDN, Envelope, BodyStructure, Tags,
}

// Ranks (indexes in encodingOrder) of the RFC parameters that Validate
// checks by rank; a test checks them against encodingOrder.
const (
	rankTimestamp    = 0
	rankClientIP     = 4
	rankOldMailboxID = 6
	rankMailboxID    = 7
	rankURI          = 8
	rankUIDSet       = 15
	rankFlagNames    = 16
)

// Ranks of parameters that are not in encodingOrder.
const (
	rankVendor  = 1000 // then by name
	rankContent = 2000
	rankUnknown = 3000 // only reachable through a bad name; Validate rejects it
)

// paramRank is a switch rather than a map: comparing a few strings beats
// hashing one. (Set and Get use rankOf's table, which is faster still.)
func paramRank(p Param) (int, bool) {
	switch p {
	case Timestamp:
		return 0, true
	case Service:
		return 1, true
	case ServerDomain:
		return 2, true
	case ServerPort:
		return 3, true
	case ClientIP:
		return 4, true
	case ClientPort:
		return 5, true
	case OldMailboxID:
		return 6, true
	case MailboxID:
		return 7, true
	case URI:
		return 8, true
	case Modseq:
		return 9, true
	case DiskQuota:
		return 10, true
	case DiskUsed:
		return 11, true
	case MaxMessages:
		return 12, true
	case Messages:
		return 13, true
	case UIDNext:
		return 14, true
	case UIDSetParam:
		return 15, true
	case FlagNames:
		return 16, true
	case PID:
		return 17, true
	case Process:
		return 18, true
	case User:
		return 19, true
	case Admin:
		return 20, true
	case MessageSize:
		return 21, true
	case ServerFQDN:
		return 22, true
	case Envelope:
		return 23, true
	case BodyStructure:
		return 24, true
	case Tags:
		return 25, true
	case MessageContent:
		return rankContent, true
	}
	return 0, false
}

func rankOf(p Param) int {
	// Set and Get call this for every parameter: one probe of a perfect
	// hash table and one string comparison beat paramRank's switch.
	if n := len(p); n > 0 {
		if k := &rankTable[rankHash(p)]; k.name == p {
			return k.rank
		}
	}
	if isVendorName(string(p)) {
		return rankVendor
	}
	return rankUnknown
}

// rankHash hashes a non-empty name by its length and first and last bytes,
// without collisions among the names of rankTable (init checks).
func rankHash(p Param) int {
	n := len(p)
	return (n*40 + int(p[0])*10 + int(p[n-1])*9) & (rankTableSize - 1)
}

const rankTableSize = 64 // a power of two

type rankedName struct {
	name Param
	rank int
}

// rankTable holds the RFC parameters and this project's vendor parameters,
// each at its rankHash.
var rankTable = func() (t [rankTableSize]rankedName) {
	add := func(p Param, rank int) {
		k := &t[rankHash(p)]
		if k.name != "" {
			panic("event: rankHash collides for " + string(p) + " and " + string(k.name))
		}
		*k = rankedName{p, rank}
	}
	for r, p := range encodingOrder {
		add(p, r)
	}
	add(MessageContent, rankContent)
	for _, p := range []Param{ID, Source, Server, Session} {
		add(p, rankVendor)
	}
	return t
}()

// IsRFC reports whether p is one of the RFC 5423 §5 parameters.
func (p Param) IsRFC() bool {
	_, ok := paramRank(p)
	return ok
}

// IsVendor reports whether p is a well-formed vendor parameter name.
func (p Param) IsVendor() bool { return isVendorName(string(p)) }

// IsNumeric reports whether the RFC encodes p as a number. The output carries
// these as JSON numbers, as Cyrus does.
func (p Param) IsNumeric() bool {
	switch p {
	case ClientPort, DiskQuota, DiskUsed, MaxMessages, MessageSize, Messages,
		Modseq, PID, ServerPort, UIDNext:
		return true
	}
	return false
}

// SourceFile returns the vnd.mailevents.source value of a record read from a
// file at a byte offset.
func SourceFile(path string, offset int64) Value { return sourceValue("file", path, offset) }

// SourceStream returns the vnd.mailevents.source value of a record read from
// a named stream (stdin, a socket) at a byte offset.
func SourceStream(name string, offset int64) Value { return sourceValue("stream", name, offset) }

// sourceValue builds the JSON object directly: it is made once per event on
// the hot path, and its form is fixed, so json.Compact would only cost time.
func sourceValue(kind, name string, offset int64) Value {
	var buf [160]byte // most paths fit: then the string is the one allocation
	b := buf[:0]
	b = append(b, `{"`...)
	b = append(b, kind...)
	b = append(b, `":`...)
	b = appendJSONString(b, name)
	b = append(b, `,"offset":`...)
	b = strconv.AppendInt(b, offset, 10)
	b = append(b, '}')
	return Value{kind: KindJSON, str: string(b)}
}
