package mapping

import (
	"testing"
)

// TestStateEntrySize measures the bytes per entry of each table on the
// realistic fixture, with room for everything, and bounds them so that a
// change to the encoding that bloats it shows.
func TestStateEntrySize(t *testing.T) {
	tests := []struct {
		name string
		n    int // entries, as many as a full default table where strings repeat
		fill func(n int) StateSaver
		max  float64 // bytes per entry
	}{
		{"dovecot sessions", 10000, func(n int) StateSaver { d := NewDovecot(DovecotOptions{}); fillDovecot(d, n, 0, 0); return d }, 40},
		{"dovecot flags", 100000, func(n int) StateSaver { d := NewDovecot(DovecotOptions{}); fillDovecot(d, 0, n, 0); return d }, 9},
		{"dovecot pending", 10000, func(n int) StateSaver { d := NewDovecot(DovecotOptions{}); fillDovecot(d, 0, 0, n); return d }, 90},
		{"cyrus sessions and processes", 10000, func(n int) StateSaver { c := NewCyrus(CyrusOptions{}); fillCyrus(c, n, 0, 0); return c }, 90},
		{"cyrus uidvalidity", 100000, func(n int) StateSaver { c := NewCyrus(CyrusOptions{}); fillCyrus(c, 0, n, 0); return c }, 34},
		{"cyrus pending", 10000, func(n int) StateSaver { c := NewCyrus(CyrusOptions{}); fillCyrus(c, 0, 0, n); return c }, 64},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, err := tc.fill(tc.n).SaveState(1 << 30)
			if err != nil {
				t.Fatal(err)
			}
			per := float64(len(data)) / float64(tc.n)
			t.Logf("%d entries: %d bytes, %.1f per entry", tc.n, len(data), per)
			if per > tc.max {
				t.Errorf("%.1f bytes per entry, more than %.0f", per, tc.max)
			}
		})
	}
}

// BenchmarkSaveState saves full default-size tables: within the daemon's
// budget (what each checkpoint costs) and whole (how large they are).
func BenchmarkSaveState(b *testing.B) {
	d := NewDovecot(DovecotOptions{})
	fillDovecot(d, 10000, 100000, 100000)
	c := NewCyrus(CyrusOptions{})
	fillCyrus(c, 10000, 100000, 100000)
	dcKept := func(data []byte) []float64 {
		m := NewDovecot(DovecotOptions{})
		if err := m.LoadState(data); err != nil {
			b.Fatal(err)
		}
		return []float64{float64(m.sessions.len()), float64(m.flags.len()), float64(m.pending.len())}
	}
	cyKept := func(data []byte) []float64 {
		m := NewCyrus(CyrusOptions{})
		if err := m.LoadState(data); err != nil {
			b.Fatal(err)
		}
		return []float64{float64(m.sessions.len()), float64(m.pids.len()), float64(m.uidvalidity.len()), float64(m.pending.len())}
	}
	for _, bc := range []struct {
		name   string
		m      StateSaver
		budget int
		kept   func([]byte) []float64
		tables []string
	}{
		{"dovecot/768KiB", d, 768 << 10, dcKept, []string{"sessions", "flags", "pending"}},
		{"dovecot/whole", d, 1 << 30, dcKept, []string{"sessions", "flags", "pending"}},
		{"cyrus/768KiB", c, 768 << 10, cyKept, []string{"sessions", "pids", "uidvalidity", "pending"}},
		{"cyrus/whole", c, 1 << 30, cyKept, []string{"sessions", "pids", "uidvalidity", "pending"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var data []byte
			for b.Loop() {
				var err error
				if data, err = bc.m.SaveState(bc.budget); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(data)), "blob-bytes")
			// How much of each table the blob keeps.
			for i, n := range bc.kept(data) {
				b.ReportMetric(n, bc.tables[i])
			}
		})
	}
}

func BenchmarkLoadState(b *testing.B) {
	d := NewDovecot(DovecotOptions{})
	fillDovecot(d, 10000, 100000, 100000)
	data, err := d.SaveState(768 << 10)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := NewDovecot(DovecotOptions{}).LoadState(data); err != nil {
			b.Fatal(err)
		}
	}
}
