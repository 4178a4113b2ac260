package mapping

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/parsers/cyrus"
	"github.com/mailevents/mailevents/parsers/dovecot"
	"github.com/mailevents/mailevents/parsers/syslog"
	"github.com/mailevents/mailevents/source"
)

// stateBudget is about what the daemon gives the mapping in its checkpoint.
const stateBudget = 768 << 10

// readRecords parses the lines of the logs that g recognises. Records are
// parsed once and copied for each run, so that every run maps the same
// input (Cyrus.Map fills in rec.Session).
func readRecords(t *testing.T, g parsers.Parser, pattern ...string) map[string][]parsers.Record {
	t.Helper()
	out := make(map[string][]parsers.Record)
	for _, p := range pattern {
		paths, err := filepath.Glob(p)
		if err != nil || len(paths) == 0 {
			t.Fatalf("no logs match %s: %v", p, err)
		}
		for _, path := range paths {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(bytes.NewReader(data))
			for sc.Scan() {
				rec, err := g.Parse(source.Line{Text: bytes.Clone(sc.Bytes())})
				if err == nil {
					out[path] = append(out[path], rec)
				}
			}
			if len(out[path]) == 0 {
				t.Fatalf("%s: no records", path)
			}
		}
	}
	return out
}

// transcript maps recs with m and returns each event's JSON and each
// error's text, in order.
func transcript(t *testing.T, m Mapper, recs []parsers.Record) []string {
	t.Helper()
	var out []string
	for _, r := range recs {
		rec := r
		evs, err := m.Map(nil, &rec)
		if err != nil {
			out = append(out, "error: "+err.Error())
		}
		for i := range evs {
			out = append(out, string(evs[i].AppendJSON(nil)))
		}
	}
	return out
}

// restart saves the state of every mapper in from and loads it into to, as
// the daemon does across a restart.
func restart(t *testing.T, from, to *Registry) {
	t.Helper()
	state, err := from.SaveState(stateBudget)
	if err != nil {
		t.Fatalf("SaveState: %v", err)
	}
	if err := to.LoadState(state); err != nil {
		t.Fatalf("LoadState: %v", err)
	}
}

type roundTripCase struct {
	name    string
	grammar parsers.Parser
	logs    []string
	// newMapper returns a fresh mapper; the tiny bounds make eviction
	// happen within the goldens, so that its order is checked too.
	newMapper func() Mapper
}

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func roundTripCases() []roundTripCase {
	env := syslog.Parser{Now: func() time.Time { return testNow }, Location: time.UTC}
	dcLogs := []string{"../parsers/dovecot/testdata/*.log", "../testdata/dovecot/mail.log"}
	cyLogs := []string{"../parsers/cyrus/testdata/*.log"}
	return []roundTripCase{
		{"dovecot", dovecot.New(env), dcLogs, func() Mapper {
			return NewDovecot(DovecotOptions{ServerHost: "imap.example.org"})
		}},
		{"dovecot tiny bounds", dovecot.New(env), dcLogs, func() Mapper {
			return NewDovecot(DovecotOptions{ServerHost: "imap.example.org", MaxSessions: 2, MaxMessages: 3})
		}},
		{"dovecot plain flags", dovecot.New(env), dcLogs, func() Mapper {
			return NewDovecot(DovecotOptions{PlainFlagsSet: true})
		}},
		{"cyrus", cyrus.New(env), cyLogs, func() Mapper {
			return NewCyrus(CyrusOptions{ServerHost: "imap.example.org"})
		}},
		{"cyrus tiny bounds", cyrus.New(env), cyLogs, func() Mapper {
			return NewCyrus(CyrusOptions{ServerHost: "imap.example.org", MaxSessions: 2, MaxMailboxes: 3})
		}},
	}
}

func registryOf(m Mapper, server string) *Registry {
	r := new(Registry)
	r.Register(server, m)
	return r
}

// TestStateRoundTrip is the property the state exists for: mapping a log
// with a restart anywhere in it (the state saved, a new process loading it)
// gives the events of one process mapping it all.
func TestStateRoundTrip(t *testing.T) {
	for _, tc := range roundTripCases() {
		t.Run(tc.name, func(t *testing.T) {
			server := tc.grammar.Server()
			sensitive := 0 // splits where forgetting the state changes the events
			for path, recs := range readRecords(t, tc.grammar, tc.logs...) {
				want := transcript(t, tc.newMapper(), recs)
				for k := 0; k <= len(recs); k++ {
					before := tc.newMapper()
					got := transcript(t, before, recs[:k])
					after := tc.newMapper()
					restart(t, registryOf(before, server), registryOf(after, server))
					got = append(got, transcript(t, after, recs[k:])...)
					if diff := cmp.Diff(want, got); diff != "" {
						t.Fatalf("%s: restart after record %d changes the events (-whole +restarted):\n%s", path, k, diff)
					}
					amnesic := append(transcript(t, tc.newMapper(), recs[:k]), transcript(t, tc.newMapper(), recs[k:])...)
					if !cmp.Equal(want, amnesic) {
						sensitive++
					}
				}
			}
			if sensitive == 0 {
				t.Error("no restart point where the state matters: the logs do not test it")
			}
		})
	}
}

// TestStateRestartEveryRecord restarts after every record, so that state
// loaded from a blob is itself saved again: nothing may drift across many
// restarts.
func TestStateRestartEveryRecord(t *testing.T) {
	for _, tc := range roundTripCases() {
		t.Run(tc.name, func(t *testing.T) {
			server := tc.grammar.Server()
			for path, recs := range readRecords(t, tc.grammar, tc.logs...) {
				want := transcript(t, tc.newMapper(), recs)
				m := tc.newMapper()
				var got []string
				for i := range recs {
					got = append(got, transcript(t, m, recs[i:i+1])...)
					next := tc.newMapper()
					restart(t, registryOf(m, server), registryOf(next, server))
					m = next
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s: restarting after every record changes the events (-whole +restarted):\n%s", path, diff)
				}
			}
		})
	}
}
