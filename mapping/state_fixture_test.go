package mapping

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
)

// Realistic state for the budget tests and benchmarks: a few thousand users
// with the mailboxes and flag lists of real servers, Dovecot's 16-character
// session ids, Cyrus's longer ones, Message-IDs of some 40 bytes.

var (
	fxBoxes = []string{"INBOX", "INBOX", "INBOX", "INBOX", "Sent", "Archive", "Trash", "Junk", "Lists/dovecot"}
	fxFlags = []string{"", `\Seen`, `\Seen`, `\Seen`, `\Answered \Seen`, `\Flagged \Seen`, `$Forwarded \Seen`, `\Deleted \Seen`}
)

type fixture struct {
	rnd *rand.Rand
	n   int
}

func newFixture() *fixture { return &fixture{rnd: rand.New(rand.NewPCG(1, 2))} }

func (f *fixture) user() string { return fmt.Sprintf("user%04d@example.org", f.rnd.IntN(3000)) }

func (f *fixture) id(n int) string {
	b := make([]byte, n*3/4)
	for i := range b {
		b[i] = byte(f.rnd.Uint32())
	}
	return base64.StdEncoding.EncodeToString(b)
}

func (f *fixture) ip() string { return fmt.Sprintf("198.51.%d.%d", f.rnd.IntN(40), f.rnd.IntN(250)+1) }

func (f *fixture) msgid() string {
	f.n++
	return fmt.Sprintf("<%d.%s@mail.example.net>", 1700000000+f.n, f.id(12))
}

// fillDovecot puts sessions, messages and deliveries into d's tables, as
// many as asked (its bounds may keep fewer).
func fillDovecot(d *Dovecot, sessions, messages, deliveries int) {
	f := newFixture()
	for range sessions {
		d.sessions.put(f.id(16), dcSession{clientIP: f.ip(), serverDomain: "192.0.2.1",
			clientPort: int64(1024 + f.rnd.IntN(64000)), serverPort: 993, method: "PLAIN"})
	}
	for i := range messages {
		d.flags.put(dcMsgKey{user: f.user(), box: fxBoxes[f.rnd.IntN(len(fxBoxes))], uid: uint32(1000 + i)},
			fxFlags[f.rnd.IntN(len(fxFlags))])
	}
	for range deliveries {
		d.pending.put(dcDeliveryKey{user: f.user(), session: f.id(24), box: "INBOX"},
			dcPendingDelivery{fromMailLog: f.rnd.IntN(2) == 0, msgid: f.msgid()})
	}
}

// fillCyrus puts sessions (each with its process), mailboxes and pending
// pairs into c's tables.
func fillCyrus(c *Cyrus, sessions, mailboxes, pending int) {
	f := newFixture()
	for i := range sessions {
		id := fmt.Sprintf("mx1-%d-%d-1-%d", 20000+i, 1700000000+i, f.rnd.Uint64())
		c.sessions.put(id, cySession{user: f.user(), service: "imap", clientIP: f.ip(),
			clientHost: "client.example.net", mech: "PLAIN", tls: f.rnd.IntN(2) == 0})
		c.pids.put(cyPIDKey{host: "mx1", pid: 20000 + i}, id)
	}
	for i := range mailboxes {
		c.uidvalidity.put(cyBoxKey{host: "mx1", box: fmt.Sprintf("user.u%04d.Folder%d", i%3000, i/3000)},
			uint32(1700000000+f.rnd.IntN(1e6)))
	}
	for i := range pending {
		c.pending.put(cyPendingKey{host: "mx1", pid: 30000 + i%500, kind: "deliver",
			box: fmt.Sprintf("user.u%04d", f.rnd.IntN(3000)), extra: f.msgid()}, f.rnd.IntN(2) == 0)
	}
}

// dumpTable lists a table oldest first.
func dumpTable[K comparable, V any](b *dcBounded[K, V]) []string {
	var out []string
	for k, v := range b.forward {
		out = append(out, fmt.Sprintf("%+v=%+v", k, v))
	}
	return out
}

func dumpDovecot(d *Dovecot) [][]string {
	return [][]string{dumpTable(d.sessions), dumpTable(d.flags), dumpTable(d.pending)}
}

func dumpCyrus(c *Cyrus) [][]string {
	return [][]string{dumpTable(c.sessions), dumpTable(c.pids), dumpTable(c.uidvalidity), dumpTable(c.pending)}
}

// blob assembles a state blob around body, with a correct checksum, so
// that a test reaches the check it means to.
func blob(kind byte, body ...[]byte) []byte {
	b := []byte{stateVersion, kind}
	for _, p := range body {
		b = append(b, p...)
	}
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, stateCRC))
}

func uv(vs ...uint64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.AppendUvarint(b, v)
	}
	return b
}

func str(s string) []byte { return append(uv(uint64(len(s))), s...) }

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}
