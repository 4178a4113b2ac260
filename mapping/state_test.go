package mapping

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mailevents/mailevents/event"
	"github.com/mailevents/mailevents/parsers"
)

// budgetCase is one stateful mapper for the budget tests. upTo returns a
// mapper holding the same first n tables and empty later ones, to check
// that later tables never take budget from earlier ones.
type budgetCase struct {
	name   string
	spaces int // string tables
	full   StateSaver
	upTo   func(n int) StateSaver
	fresh  func() StateSaver
	dump   func(StateSaver) [][]string
}

func budgetCases() []budgetCase {
	d := NewDovecot(DovecotOptions{})
	fillDovecot(d, 40, 150, 60)
	c := NewCyrus(CyrusOptions{})
	fillCyrus(c, 30, 60, 60)
	return []budgetCase{
		{
			name:   "dovecot",
			spaces: len(dcStateStrings),
			full:   d,
			upTo: func(n int) StateSaver {
				m := NewDovecot(DovecotOptions{})
				tables := []func(){func() { m.sessions = d.sessions }, func() { m.flags = d.flags }, func() { m.pending = d.pending }}
				for _, set := range tables[:n] {
					set()
				}
				return m
			},
			fresh: func() StateSaver { return NewDovecot(DovecotOptions{}) },
			dump:  func(s StateSaver) [][]string { return dumpDovecot(s.(*Dovecot)) },
		},
		{
			name:   "cyrus",
			spaces: len(cyStateStrings),
			full:   c,
			upTo: func(n int) StateSaver {
				m := NewCyrus(CyrusOptions{})
				tables := []func(){func() { m.sessions = c.sessions }, func() { m.pids = c.pids },
					func() { m.uidvalidity = c.uidvalidity }, func() { m.pending = c.pending }}
				for _, set := range tables[:n] {
					set()
				}
				return m
			},
			fresh: func() StateSaver { return NewCyrus(CyrusOptions{}) },
			dump:  func(s StateSaver) [][]string { return dumpCyrus(s.(*Cyrus)) },
		},
	}
}

func loadInto(t *testing.T, m StateSaver, data []byte) StateSaver {
	t.Helper()
	if err := m.LoadState(data); err != nil {
		t.Fatalf("LoadState: %v", err)
	}
	return m
}

// TestSaveStateBudget saves the same state with budgets from nothing to
// enough: the blob never exceeds the budget and uses it exactly (the blob
// fits in its own size and not in a byte less), each table keeps a run of
// its newest entries, and a table gets only what the tables before it left.
func TestSaveStateBudget(t *testing.T) {
	for _, tc := range budgetCases() {
		t.Run(tc.name, func(t *testing.T) {
			all := tc.dump(tc.full)
			fullBlob, err := tc.full.SaveState(1 << 30)
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.dump(loadInto(t, tc.fresh(), fullBlob)); !cmp.Equal(all, got) {
				t.Fatalf("a blob with room for everything loses entries:\n%s", cmp.Diff(all, got))
			}
			truncated := 0
			// Some 400 budgets, a step apart that is no multiple of the
			// entry sizes.
			step := len(fullBlob)/400 | 1
			for budget := 0; budget <= len(fullBlob); budget += step {
				if budget+step > len(fullBlob) {
					budget = len(fullBlob)
				}
				data, err := tc.full.SaveState(budget)
				if err != nil {
					t.Fatal(err)
				}
				if len(data) > budget {
					t.Fatalf("budget %d: %d bytes", budget, len(data))
				}
				if budget == len(fullBlob) && !bytes.Equal(data, fullBlob) {
					t.Fatalf("budget %d, the whole blob's size: %d bytes", budget, len(data))
				}
				if exact, err := tc.full.SaveState(len(data)); err != nil || !bytes.Equal(exact, data) {
					t.Fatalf("budget %d: the %d-byte blob is not kept whole with its own size as budget", budget, len(data))
				}
				if len(data) > 0 {
					if less, err := tc.full.SaveState(len(data) - 1); err != nil || len(less) >= len(data) {
						t.Fatalf("budget %d: %d bytes fit in %d", budget, len(data), len(data)-1)
					}
				}
				got := tc.dump(loadInto(t, tc.fresh(), data))
				for i := range all {
					kept := len(got[i])
					if !slices.Equal(got[i], all[i][len(all[i])-kept:]) {
						t.Fatalf("budget %d, table %d: kept %q, not the newest of %q", budget, i, got[i], all[i])
					}
					if kept < len(all[i]) {
						truncated++
					}
					prefix, err := tc.upTo(i + 1).SaveState(budget)
					if err != nil {
						t.Fatal(err)
					}
					if alone := len(tc.dump(loadInto(t, tc.fresh(), prefix))[i]); alone != kept {
						t.Fatalf("budget %d, table %d: %d entries, but %d without the tables after it", budget, i, kept, alone)
					}
				}
			}
			if truncated == 0 {
				t.Error("no budget truncated anything")
			}
			if data, _ := tc.full.SaveState(stateOverhead(tc.spaces, len(all))); data != nil {
				t.Errorf("a budget with room for no entry gave %d bytes", len(data))
			}
			if _, err := tc.full.SaveState(-1); err == nil {
				t.Error("a negative budget is no error")
			}
		})
	}
}

// TestStateKeepsFIFOOrder checks that a loaded table evicts in the order the
// saved one would have: oldest insertion first, a replaced value keeping
// its age, a deleted key leaving no trace.
func TestStateKeepsFIFOOrder(t *testing.T) {
	uid := func(k dcMsgKey) string { return strconv.Itoa(int(k.uid)) }
	build := func() *Dovecot {
		d := NewDovecot(DovecotOptions{MaxMessages: 4})
		for i := 1; i <= 4; i++ {
			d.flags.put(dcMsgKey{"u", "INBOX", uint32(i)}, `\Seen`)
		}
		d.flags.put(dcMsgKey{"u", "INBOX", 1}, `\Flagged`) // keeps its age
		d.flags.del(dcMsgKey{"u", "INBOX", 3})
		d.flags.put(dcMsgKey{"u", "INBOX", 5}, "")
		return d
	}
	tests := []struct {
		name      string
		loadBound int
		want      []string // uids left after putting 6 and 7, oldest first
	}{
		{"same bound", 4, []string{"4", "5", "6", "7"}},
		{"smaller bound keeps the newest", 2, []string{"6", "7"}},
		{"larger bound evicts nothing", 10, []string{"1", "2", "4", "5", "6", "7"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, err := build().SaveState(1 << 20)
			if err != nil {
				t.Fatal(err)
			}
			d := NewDovecot(DovecotOptions{MaxMessages: tc.loadBound})
			loadInto(t, d, data)
			d.flags.put(dcMsgKey{"u", "INBOX", 6}, "")
			d.flags.put(dcMsgKey{"u", "INBOX", 7}, "")
			var got []string
			for k := range d.flags.forward {
				got = append(got, uid(k))
			}
			if !cmp.Equal(got, tc.want) {
				t.Errorf("uids %v, want %v", got, tc.want)
			}
			if tc.loadBound == 4 {
				// The process that never restarted evicts the same.
				o := build()
				o.flags.put(dcMsgKey{"u", "INBOX", 6}, "")
				o.flags.put(dcMsgKey{"u", "INBOX", 7}, "")
				if diff := cmp.Diff(dumpDovecot(o), dumpDovecot(d)); diff != "" {
					t.Errorf("restarted state differs (-never restarted +restarted):\n%s", diff)
				}
			}
		})
	}
}

func TestLoadStateCorrupt(t *testing.T) {
	dcStrings := cat(uv(0), uv(1), str("u"), uv(1), str("INBOX"), uv(1), str(`\Seen`))
	dcNoStrings := uv(0, 0, 0, 0)
	dcFlag := func(uid uint64) []byte { return uv(0, 0, uid, 0) }
	dcValid := cat(dcStrings, uv(0, 1), dcFlag(5), uv(0))
	cyValid := cat(uv(0, 0, 1), str(""), uv(1), str(""), uv(0), uv(0, 0), uv(1, 0, 0, 7), uv(0))
	damaged := blob(stateKindDovecot, dcValid)
	damaged[5] ^= 0x20
	version2 := blob(stateKindDovecot, dcValid)
	version2[0] = 2
	tests := []struct {
		name   string
		cyrus  bool // load into a Cyrus mapper
		data   []byte
		want   string // "" for a valid blob
		loaded int    // entries of a valid blob
	}{
		{name: "valid dovecot", data: blob(stateKindDovecot, dcValid), loaded: 1},
		{name: "valid cyrus", cyrus: true, data: blob(stateKindCyrus, cyValid), loaded: 1},
		{name: "empty is the empty state", data: []byte{}},
		{name: "unknown version", data: version2, want: "unknown version 2 (this build reads 1)"},
		{name: "too short", data: []byte{stateVersion, stateKindDovecot, 0}, want: "truncated: 3 bytes, less than a header and checksum"},
		{name: "cyrus blob", data: blob(stateKindCyrus, cyValid), want: "blob of the cyrus mapper"},
		{name: "dovecot blob", cyrus: true, data: blob(stateKindDovecot, dcValid), want: "blob of the dovecot mapper"},
		{name: "unknown mapper", data: blob('x', dcValid), want: `blob of the unknown ('x') mapper`},
		{name: "damaged", data: damaged, want: "checksum mismatch: truncated or damaged"},
		{name: "cut short", data: blob(stateKindDovecot, dcValid)[:12], want: "checksum mismatch: truncated or damaged"},
		{name: "string count beyond the blob", data: blob(stateKindDovecot, uv(100)), want: "address strings: count 100 exceeds the 0 bytes left"},
		{name: "string cut", data: blob(stateKindDovecot, uv(1, 9), []byte("ab")), want: "address strings: truncated"},
		{name: "varint overflow", data: blob(stateKindDovecot, bytes.Repeat([]byte{0xff}, 10), []byte{1}), want: "address strings: varint overflows 64 bits"},
		{name: "no tables", data: blob(stateKindDovecot, dcNoStrings), want: "sessions: truncated"},
		{name: "missing last table", data: blob(stateKindDovecot, dcNoStrings, uv(0, 0)), want: "pending: truncated"},
		{name: "entry count beyond the blob", data: blob(stateKindDovecot, dcNoStrings, uv(50)), want: "sessions: count 50 exceeds the 0 bytes left"},
		{name: "entry cut", data: blob(stateKindDovecot, dcNoStrings, uv(1), str("S1")), want: "sessions entry 1 of 1: truncated"},
		{name: "string index out of range", data: blob(stateKindDovecot, dcNoStrings, uv(1), str("S1"), uv(7)), want: "sessions entry 1 of 1: address string 7 out of range (0 strings)"},
		{name: "port out of range", data: blob(stateKindDovecot, uv(1), str(""), uv(0, 0, 0, 1), str("S1"), uv(0, 0, 70000, 993, 0, 0, 0)),
			want: "sessions entry 1 of 1: client port 70000 out of range [0, 65535]"},
		{name: "uid zero", data: blob(stateKindDovecot, dcStrings, uv(0, 1), dcFlag(0), uv(0)), want: "flags entry 1 of 1: uid 0 out of range [1, 4294967295]"},
		{name: "duplicate key", data: blob(stateKindDovecot, dcStrings, uv(0, 2), dcFlag(5), dcFlag(5), uv(0)), want: "flags entry 2 of 2: duplicate key"},
		{name: "trailing bytes", data: blob(stateKindDovecot, dcValid, []byte{0, 0}), want: "trailing bytes after the last table: 2"},
		{name: "tls not a boolean", cyrus: true, data: blob(stateKindCyrus, uv(1), str(""), uv(1), str(""), uv(0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0)),
			want: "sessions entry 1 of 1: tls 2 out of range [0, 1]"},
		{name: "uidvalidity zero", cyrus: true, data: blob(stateKindCyrus, uv(0, 0, 1), str(""), uv(1), str(""), uv(0, 0, 0, 1, 0, 0, 0, 0)),
			want: "uidvalidity entry 1 of 1: uidvalidity 0 out of range [1, 4294967295]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m StateSaver
			var dump func() [][]string
			prefix := "corrupt mapping state of the dovecot mapper: "
			if tc.cyrus {
				c := NewCyrus(CyrusOptions{})
				fillCyrus(c, 3, 3, 3)
				m, dump, prefix = c, func() [][]string { return dumpCyrus(c) }, "corrupt mapping state of the cyrus mapper: "
			} else {
				d := NewDovecot(DovecotOptions{})
				fillDovecot(d, 3, 3, 3)
				m, dump = d, func() [][]string { return dumpDovecot(d) }
			}
			before := dump()
			err := m.LoadState(tc.data)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("LoadState: %v", err)
				}
				n := 0
				for _, table := range dump() {
					n += len(table)
				}
				if n != tc.loaded {
					t.Errorf("%d entries loaded, want %d", n, tc.loaded)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !errors.Is(err, ErrCorruptState) || err.Error() != prefix+tc.want {
				t.Errorf("error %q (ErrCorruptState: %v), want %q", err, errors.Is(err, ErrCorruptState), prefix+tc.want)
			}
			if diff := cmp.Diff(before, dump()); diff != "" {
				t.Errorf("a failed load changed the state:\n%s", diff)
			}
		})
	}
}

// foreignSaver is a StateSaver from outside the package.
type foreignSaver struct{ data []byte }

func (f *foreignSaver) Map(dst []event.Event, _ *parsers.Record) ([]event.Event, error) {
	return dst, nil
}
func (f *foreignSaver) SaveState(int) ([]byte, error) { return f.data, nil }
func (f *foreignSaver) LoadState(data []byte) error   { f.data = data; return nil }

func TestRegistryStateNames(t *testing.T) {
	d, c := NewDovecot(DovecotOptions{}), NewCyrus(CyrusOptions{})
	tests := []struct {
		name     string
		register func(r *Registry)
		want     []string
		err      string
	}{
		{name: "as the daemon registers", register: func(r *Registry) {
			r.Register("dovecot", d)
			r.RegisterGrammar("dovecot-push", NewDovecotPush(DovecotPushOptions{}))
			r.Register("cyrus", c)
			r.RegisterGrammar("cyrus-json", NewCyrusJSON(CyrusJSONOptions{}))
		}, want: []string{"cyrus", "dovecot"}},
		{name: "one mapper under two names is saved once", register: func(r *Registry) {
			r.Register("dovecot", d)
			r.Register("dovecot2", d)
			r.RegisterGrammar("dovecot-x", d)
		}, want: []string{"dovecot"}},
		{name: "grammar only", register: func(r *Registry) { r.RegisterGrammar("g", d) }, want: []string{"grammar.g"}},
		{name: "no state", register: func(r *Registry) { r.RegisterGrammar("cyrus-json", NewCyrusJSON(CyrusJSONOptions{})) }, want: []string{}},
		{name: "names collide", register: func(r *Registry) {
			r.Register("grammar.g", d)
			r.RegisterGrammar("g", c)
		}, err: `mapping: two mappers would save their state as "grammar.g"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := new(Registry)
			tc.register(r)
			got, err := r.StateNames()
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !cmp.Equal(got, tc.want) {
				t.Errorf("StateNames = %q, %v; want %q", got, err, tc.want)
			}
			state, err := r.SaveState(1 << 20)
			if err != nil || len(state) != len(tc.want) {
				t.Errorf("SaveState = %d blobs, %v; want %d", len(state), err, len(tc.want))
			}
		})
	}
}

// TestRegistrySaveStateSharesBudget gives the budget a mapper leaves unused
// to the other, and keeps names and data within the budget.
func TestRegistrySaveStateSharesBudget(t *testing.T) {
	d, c := NewDovecot(DovecotOptions{}), NewCyrus(CyrusOptions{})
	fillDovecot(d, 100, 1000, 100)
	dcFull, err := d.SaveState(1 << 30)
	if err != nil {
		t.Fatal(err)
	}
	r := new(Registry)
	r.Register("dovecot", d)
	r.Register("cyrus", c)
	// Room for Dovecot's whole state, far more than half the budget.
	budget := len(dcFull) + len("dovecot") + len("cyrus")
	state, err := r.SaveState(budget)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := state["cyrus"]; !ok || got != nil {
		t.Errorf("empty Cyrus state: %v (present %v), want a nil entry", got, ok)
	}
	if !bytes.Equal(state["dovecot"], dcFull) {
		t.Errorf("Dovecot got %d bytes of its %d with the budget Cyrus left", len(state["dovecot"]), len(dcFull))
	}

	fillCyrus(c, 100, 1000, 100)
	for _, budget := range []int{0, 10, 100, 5000, 20000, 60000} {
		state, err := r.SaveState(budget)
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for name, data := range state {
			if len(data) > 0 { // a checkpoint store keeps no empty blob
				total += len(name) + len(data)
			}
		}
		if total > budget {
			t.Errorf("budget %d: %d bytes with the names", budget, total)
		}
		if budget >= 20000 && (len(state["dovecot"]) == 0 || len(state["cyrus"]) == 0) {
			t.Errorf("budget %d: a mapper got nothing: %d and %d bytes", budget, len(state["dovecot"]), len(state["cyrus"]))
		}
	}
	if _, err := r.SaveState(-1); err == nil {
		t.Error("a negative budget is no error")
	}
}

func TestRegistryLoadState(t *testing.T) {
	src := NewDovecot(DovecotOptions{})
	fillDovecot(src, 5, 5, 5)
	dcBlob, err := src.SaveState(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		state     map[string][]byte
		dcEntries int // entries in the Dovecot mapper after the load
		err       string
	}{
		{name: "loads its own", state: map[string][]byte{"dovecot": dcBlob}, dcEntries: 15},
		{name: "others' names are ignored", state: map[string][]byte{"dovecot": dcBlob, "gone": {1}, "dedup": {2}}, dcEntries: 15},
		{name: "a missing name is the empty state", state: map[string][]byte{}, dcEntries: 0},
		{name: "corrupt", state: map[string][]byte{"dovecot": dcBlob[:len(dcBlob)-1]}, dcEntries: 3,
			err: `state "dovecot": corrupt mapping state of the dovecot mapper: checksum mismatch: truncated or damaged`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDovecot(DovecotOptions{})
			fillDovecot(d, 1, 1, 1)
			f := &foreignSaver{data: []byte("old")}
			r := new(Registry)
			r.Register("dovecot", d)
			r.Register("zz", f)
			err := r.LoadState(tc.state)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, table := range dumpDovecot(d) {
				n += len(table)
			}
			if n != tc.dcEntries {
				t.Errorf("%d entries, want %d", n, tc.dcEntries)
			}
			if tc.err == "" && !bytes.Equal(f.data, tc.state["zz"]) {
				t.Errorf("foreign saver loaded %q", f.data)
			}
		})
	}
}

func TestRegistryForeignSaverOverBudget(t *testing.T) {
	r := new(Registry)
	r.Register("x", &foreignSaver{data: []byte(strings.Repeat("a", 100))})
	if _, err := r.SaveState(50); err == nil || !strings.Contains(err.Error(), "over its budget") {
		t.Errorf("error %v, want one about the budget", err)
	}
	state, err := r.SaveState(200)
	if err != nil || len(state["x"]) != 100 {
		t.Errorf("SaveState = %d bytes, %v", len(state["x"]), err)
	}
}

func TestStateSizes(t *testing.T) {
	r := new(Registry)
	d := NewDovecot(DovecotOptions{ServerHost: "mail"})
	r.Register("dovecot", d)
	r.Register("cyrus", NewCyrus(CyrusOptions{ServerHost: "mail"}))
	d.sessions.put("s1", dcSession{clientIP: "192.0.2.1"})
	got := r.StateSizes()
	if got["dovecot.sessions"] != 1 || got["dovecot.flags"] != 0 || got["cyrus.sessions"] != 0 || len(got) != 7 {
		t.Fatalf("StateSizes = %v", got)
	}
}
