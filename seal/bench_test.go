package seal

import (
	"testing"

	"github.com/mailevents/mailevents/event"
)

// A Dovecot Logout as the pipeline makes it: one of the larger events.
const benchLine = `{"event":"Logout","timestamp":"2026-03-02T00:00:01.123456+01:00","service":"imap","serverDomain":"192.0.2.1","serverPort":993,"clientIP":"198.51.100.7","clientPort":50123,"uri":"imap://mail.example.org","pid":20001,"user":"alice@example.org","vnd.mailevents.bodyBytes":5120,"vnd.mailevents.bodyCount":3,"vnd.mailevents.bytesIn":1542,"vnd.mailevents.bytesOut":20731,"vnd.mailevents.deleted":1,"vnd.mailevents.disconnect":"graceful","vnd.mailevents.expunged":1,"vnd.mailevents.hdrBytes":880,"vnd.mailevents.hdrCount":4,"vnd.mailevents.id":"7dd7ebc40092d70f15ce00a355745a75","vnd.mailevents.method":"PLAIN","vnd.mailevents.reason":"Logged out","vnd.mailevents.server":"dovecot","vnd.mailevents.session":"N7MXlE+iUvFaBAGj","vnd.mailevents.source":{"file":"/var/log/mail.log","offset":2489},"vnd.mailevents.trashed":0}`

func benchEvent(b *testing.B) event.Event {
	e, err := event.Decode([]byte(benchLine))
	if err != nil {
		b.Fatal(err)
	}
	return e
}

// BenchmarkEncode is the unsealed cost: the event encoder alone.
func BenchmarkEncode(b *testing.B) {
	e := benchEvent(b)
	buf := make([]byte, 0, 4096)
	for b.Loop() {
		buf = e.AppendJSON(buf[:0])
	}
}

// BenchmarkAppendStamped is the sealed cost of an event, hashing included.
func BenchmarkAppendStamped(b *testing.B) {
	e := benchEvent(b)
	s := newTestStream(b, "mail.example.org/archive")
	buf := make([]byte, 0, 4096)
	for b.Loop() {
		buf = s.AppendStamped(buf[:0], &e)
	}
}

// BenchmarkStamp is the definition's path: the parameters set, the
// canonical bytes made from them, hashed at once.
func BenchmarkStamp(b *testing.B) {
	e := benchEvent(b)
	s := newTestStream(b, "mail.example.org/archive")
	buf := make([]byte, 0, 4096)
	for b.Loop() {
		s.Stamp(&e)
		buf = e.AppendJSON(buf[:0])
	}
}
