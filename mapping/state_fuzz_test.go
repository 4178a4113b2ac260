package mapping

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fuzzMappers are the stateful mappers, with bounds small enough that blobs
// of the fuzzer's size overflow them.
var fuzzMappers = []struct {
	fresh func() StateSaver
	dump  func(StateSaver) [][]string
}{
	{func() StateSaver { return NewDovecot(DovecotOptions{MaxSessions: 3, MaxMessages: 5}) },
		func(s StateSaver) [][]string { return dumpDovecot(s.(*Dovecot)) }},
	{func() StateSaver { return NewCyrus(CyrusOptions{MaxSessions: 3, MaxMailboxes: 5}) },
		func(s StateSaver) [][]string { return dumpCyrus(s.(*Cyrus)) }},
}

// FuzzLoadState feeds LoadState arbitrary blobs: it never panics, fails only
// with ErrCorruptState, and a state it accepts saves to a blob that loads
// back to the same state. Each input is tried as it is and with a correct
// checksum appended, or the fuzzer would hardly ever get past the checksum.
func FuzzLoadState(f *testing.F) {
	d := NewDovecot(DovecotOptions{})
	fillDovecot(d, 4, 6, 4)
	c := NewCyrus(CyrusOptions{})
	fillCyrus(c, 4, 6, 4)
	for _, m := range []StateSaver{d, c} {
		data, err := m.SaveState(1 << 20)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:len(data)-4])
		small, err := m.SaveState(len(data) / 2)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(small[:len(small)-4])
	}
	f.Add([]byte{})
	f.Add([]byte{stateVersion, stateKindDovecot, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{stateVersion, stateKindCyrus, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 7, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		withCRC := binary.BigEndian.AppendUint32(bytes.Clone(data), crc32.Checksum(data, stateCRC))
		for _, in := range [][]byte{data, withCRC} {
			for _, fm := range fuzzMappers {
				m := fm.fresh()
				if err := m.LoadState(in); err != nil {
					if !errors.Is(err, ErrCorruptState) {
						t.Fatalf("error does not wrap ErrCorruptState: %v", err)
					}
					continue
				}
				saved, err := m.SaveState(1 << 30)
				if err != nil {
					t.Fatalf("SaveState of a loaded state: %v", err)
				}
				again := fm.fresh()
				if err := again.LoadState(saved); err != nil {
					t.Fatalf("a saved state does not load: %v", err)
				}
				if diff := cmp.Diff(fm.dump(m), fm.dump(again)); diff != "" {
					t.Fatalf("state changed by a save and load:\n%s", diff)
				}
				resaved, err := again.SaveState(1 << 30)
				if err != nil || !bytes.Equal(saved, resaved) {
					t.Fatalf("saving the reloaded state gives other bytes (%v)", err)
				}
			}
		}
	})
}
