package doctor

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mailevents/mailevents/event"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// golden compares got with testdata/<name>.golden, or rewrites it with
// -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./doctor -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got; run with -update if intended):\n%s", path, diff)
	}
}

// render renders one server's report as the command prints it.
func render(t *testing.T, r ServerReport) string {
	t.Helper()
	var b strings.Builder
	if err := NewReport(r).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// statuses returns the status of every event type of r.
func statuses(r ServerReport) map[event.Type]Status {
	m := map[event.Type]Status{}
	for _, e := range r.Events {
		m[e.Type] = e.Status
	}
	return m
}

// wantStatuses checks the status of every event type: those in want as
// given, all others def.
func wantStatuses(t *testing.T, r ServerReport, def Status, want map[event.Type]Status) {
	t.Helper()
	got := statuses(r)
	if len(r.Events) != len(EventTypes()) {
		t.Errorf("%d event types reported, want %d", len(r.Events), len(EventTypes()))
	}
	for _, typ := range EventTypes() {
		w, ok := want[typ]
		if !ok {
			w = def
		}
		if got[typ] != w {
			t.Errorf("%s: %s, want %s (%s)", typ, got[typ], w, detail(r, typ))
		}
	}
}

func detail(r ServerReport, t event.Type) string {
	for _, e := range r.Events {
		if e.Type == t {
			return e.Detail
		}
	}
	return "not reported"
}

func eventOf(r ServerReport, t event.Type) EventStatus {
	for _, e := range r.Events {
		if e.Type == t {
			return e
		}
	}
	return EventStatus{}
}

// hasFinding reports whether a finding of that level contains substr.
func hasFinding(r ServerReport, level Level, substr string) bool {
	for _, f := range r.Findings {
		if f.Level == level && strings.Contains(f.Text, substr) {
			return true
		}
	}
	return false
}

// changeLines returns every proposed line, with its section, as
// "section: line" or "line".
func changeLines(r ServerReport) []string {
	var out []string
	for _, c := range r.Changes {
		for _, l := range c.Lines {
			if c.Section != "" {
				l = c.Section + ": " + l
			}
			out = append(out, l)
		}
	}
	return out
}
