package mapping

import (
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/mailevents/mailevents/event"
)

func TestBoundedFIFO(t *testing.T) {
	b := newDCBounded[string, int](3)
	for i, k := range []string{"a", "b", "c"} {
		b.put(k, i)
	}
	b.put("a", 10) // a replacement keeps a's age
	b.put("d", 3)  // evicts a, the oldest
	if _, ok := b.get("a"); ok {
		t.Error("a survived eviction")
	}
	for _, k := range []string{"b", "c", "d"} {
		if _, ok := b.get(k); !ok {
			t.Errorf("%s evicted too early", k)
		}
	}
	// A deleted and re-added key is young again: its stale queue entry
	// must not evict it.
	b.del("b")
	b.put("b", 5)
	b.put("e", 6) // evicts c
	if _, ok := b.get("b"); !ok {
		t.Error("re-added b evicted through its stale entry")
	}
	if _, ok := b.get("c"); ok {
		t.Error("c should have been evicted")
	}
	// Churn keeps the queue proportional to the map.
	for i := range 10000 {
		k := strconv.Itoa(i)
		b.put(k, i)
		b.del(k)
	}
	if b.len() > 3 || len(b.order)-b.head > 2*3+16 {
		t.Errorf("state grew: map %d, queue %d", b.len(), len(b.order)-b.head)
	}
}

func TestDovecotSessionEviction(t *testing.T) {
	m := NewDovecot(DovecotOptions{MaxSessions: 2})
	login := func(s, ip string) {
		rec := dcRecord(t, "Feb 20 09:00:00 mx1 dovecot: imap-login: Login: user=<u>, method=PLAIN, rip="+ip+", lip=192.0.2.1, mpid=1, session=<"+s+">")
		if _, err := m.Map(nil, &rec); err != nil {
			t.Fatal(err)
		}
	}
	clientOf := func(s string) string {
		rec := dcRecord(t, "Feb 20 09:00:01 mx1 dovecot: imap(u)<1><"+s+">: expunge: box=INBOX, uid=1")
		evs, err := m.Map(nil, &rec)
		if err != nil || len(evs) != 1 {
			t.Fatalf("Map: %v %v", evs, err)
		}
		return evs[0].GetString(event.ClientIP)
	}
	login("A", "192.0.2.10")
	login("B", "192.0.2.11")
	login("C", "192.0.2.12") // evicts A
	if got := clientOf("A"); got != "" {
		t.Errorf("evicted session A still correlated: %q", got)
	}
	if got := clientOf("C"); got != "192.0.2.12" {
		t.Errorf("session C: clientIP %q", got)
	}
	// LMTP-style per-recipient ids belong to the base session.
	if got := clientOf("B:R2"); got != "192.0.2.11" {
		t.Errorf("session B:R2: clientIP %q", got)
	}
}

func TestDovecotFlagStateEviction(t *testing.T) {
	m := NewDovecot(DovecotOptions{MaxMessages: 2})
	change := func(uid int, flags string) []event.Event {
		rec := dcRecord(t, "Feb 20 09:00:01 mx1 dovecot: imap(u)<1><S>: flag_change: box=INBOX, uid="+strconv.Itoa(uid)+", flags=("+flags+")")
		evs, err := m.Map(nil, &rec)
		if err != nil {
			t.Fatal(err)
		}
		return evs
	}
	change(1, `\Seen`)
	change(2, `\Seen`)
	change(3, `\Seen`) // evicts uid 1
	evs := change(1, `\Seen \Flagged`)
	if len(evs) != 1 || evs[0].GetString(dcFlagsState) != DovecotFlagsStateUnknownBefore {
		t.Errorf("after eviction want one unknown-before FlagsSet, got %v", evs)
	}
	evs = change(3, `\Seen \Answered`)
	if len(evs) != 1 || evs[0].Type != event.FlagsSet || evs[0].GetString(event.FlagNames) != `\Answered` {
		t.Errorf("known state: want FlagsSet \\Answered, got %v", evs)
	}
}

func TestInternerSharesOneCopy(t *testing.T) {
	in := newInterner(2)
	line := "user=alice box=INBOX"
	alice := in.get(line[5:10])
	if alice != "alice" || unsafe.StringData(alice) == unsafe.StringData(line[5:]) {
		t.Fatalf("get(%q) = %q, sharing the line's bytes: it must be a copy", line[5:10], alice)
	}
	if again := in.get(strings.Clone("alice")); unsafe.StringData(again) != unsafe.StringData(alice) {
		t.Error("a second get of an equal string made another copy")
	}
	in.get("INBOX")
	in.get("Sent") // over max: starts afresh
	if got := in.get("alice"); got != "alice" {
		t.Errorf("after a reset, get(alice) = %q", got)
	}
	if len(in.m) > 2 {
		t.Errorf("interner holds %d strings, max 2", len(in.m))
	}
	if in.get("") != "" {
		t.Error(`get("") is not ""`)
	}
}
