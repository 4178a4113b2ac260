package event_test

import (
	"bytes"
	"testing"

	"github.com/mailevents/mailevents/event"
)

// FuzzDecode checks that decoding and encoding agree: whatever Decode
// accepts, AppendJSON writes in a form that decodes to the same event and
// re-encodes to the same bytes (the canonical form is a fixed point, which
// the hash chain over events relies on).
func FuzzDecode(f *testing.F) {
	for _, ty := range event.RFCTypes {
		e := sample(ty)
		f.Add(e.AppendJSON(nil))
	}
	f.Add([]byte(`{"event":"vnd.x","vnd.y":[1,{"a":"\u00e9\ud83d\ude42"}],"user":"a\u0000b"}`))
	f.Add([]byte(`{"event":"Login","user":"\xff"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := event.Decode(data)
		if err != nil {
			return
		}
		once := e.AppendJSON(nil)
		back, err := event.Decode(once)
		if err != nil {
			t.Fatalf("our own encoding does not decode: %v\n%s", err, once)
		}
		if !back.Equal(&e) {
			t.Fatalf("decode(encode(e)) != e\n%s\n%s", once, back.AppendJSON(nil))
		}
		if twice := back.AppendJSON(nil); !bytes.Equal(once, twice) {
			t.Fatalf("encoding is not a fixed point:\n%s\n%s", once, twice)
		}
		_ = e.Validate() // must not panic on anything Decode accepts
	})
}
