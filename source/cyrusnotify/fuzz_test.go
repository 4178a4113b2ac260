package cyrusnotify

import (
	"bufio"
	"bytes"
	"reflect"
	"testing"
	"unicode"
)

// FuzzDatagram: ParseDatagram never panics, is deterministic, and returns
// every datagram as a notification: a malformed one whole (for the dead
// letters), a well-formed one with a message that was in the datagram and
// holds no NUL. The result never aliases the caller's buffer.
func FuzzDatagram(f *testing.F) {
	for _, s := range []string{
		"log\x00EVENT\x00\x00\x00\x000\x00{}\x00",
		"log\x00EVENT\x00\x00\x00\x000\x00{}\x00file\x00",
		"log\x00EVENT\x00\x00\x00\x000\x00",
		"log\x00EVENT\x00\x00\x00\x00-1\x00{}\x00",
		"log\x00EVENT\x00\x00\x00\x005\x00{}\x00",
		"log\x00EVENT\x00\x00\x00\x000\x00{}\x00f\x00extra\x00",
		"mailto\x00MAIL\x00high\x00bob\x00INBOX\x002\x00o1\x00o2\x00hello\x00/tmp/f\x00",
		"log\x00EVENT\x00\x00\x00\x009223372036854775807\x00{}\x00",
		"log\x00EVENT\x00\x00\x00\x00+0\x00{}",
		`log` + "\x00EVENT\x00\x00\x00\x000\x00" + `{"event":"Login","uri":"imap://h","pid":1}` + "\x00",
		"garbage",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		orig := bytes.Clone(in)
		a := ParseDatagram(in)
		b := ParseDatagram(in)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("not deterministic: %+v, then %+v", a, b)
		}
		if a.Malformed {
			if !bytes.Equal(a.Line.Text, orig) {
				t.Fatalf("malformed datagram %q handed over as %q", orig, a.Line.Text)
			}
		} else {
			if bytes.IndexByte(a.Line.Text, 0) >= 0 || !bytes.Contains(orig, a.Line.Text) {
				t.Fatalf("message %q not a field of %q", a.Line.Text, orig)
			}
		}
		for i := range in {
			in[i] ^= 0xff
		}
		if !reflect.DeepEqual(a, b) || (a.Malformed && !bytes.Equal(a.Line.Text, orig)) {
			t.Fatalf("notification aliases the input buffer")
		}
	})
}

// decodeAll decodes a stream as serveConn does, without a socket.
func decodeAll(in []byte) []Notification {
	r := bufio.NewReader(bytes.NewReader(in))
	var out []Notification
	for {
		nt, ok := nextRequest(r)
		if !ok {
			return out
		}
		out = append(out, nt)
		if nt.Malformed {
			return out
		}
	}
}

// FuzzDlist: the stream decoder never panics, is deterministic, and returns
// whatever is not blank as notifications: a stream holding more than
// whitespace yields at least one, and one that stops decoding ends in a
// Malformed notification holding the undecodable request's bytes as read
// (a prefix of the stream's rest).
func FuzzDlist(f *testing.F) {
	req := dlistRequest(`{"event":"Login","uri":"imap://h","pid":1}`)
	for _, s := range []string{
		req,
		req + req,
		req + "\r\n" + req,
		"HELLO world\r\n",
		"NOTIFY %(METHOD log CLASS EVENT MESSAGE \"a \\\"quoted\\\" one\")\r\n",
		"NOTIFY %(METHOD log CLASS EVENT MESSAGE NIL)\r\n",
		"NOTIFY %(OPTIONS (a (b (c))) MESSAGE {3}\r\nabc)\n",
		"NOTIFY %(MESSAGE {99999999999}\r\n",
		"NOTIFY (MESSAGE x)\r\n",
		"NOTIFY %(MESSAGE x)",
		req[:len(req)/2],
		"",
		" \r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		a := decodeAll(in)
		b := decodeAll(in)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("not deterministic: %+v, then %+v", a, b)
		}
		blank := len(bytes.TrimFunc(in, func(r rune) bool { return r < unicode.MaxASCII && unicode.IsSpace(r) })) == 0
		if !blank && len(a) == 0 {
			t.Fatalf("%q: no notification, the bytes were dropped", in)
		}
		for i, n := range a {
			if n.Malformed != (i == len(a)-1 && n.Malformed) {
				t.Fatalf("%q: malformed notification %d is not the last", in, i)
			}
			if n.Malformed && !bytes.Contains(in, n.Line.Text) {
				t.Fatalf("%q: malformed notification holds %q, not the bytes read", in, n.Line.Text)
			}
		}
	})
}
