package dovecot_test

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mailevents/mailevents/internal/sharedref"
	"github.com/mailevents/mailevents/mapping"
	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/parsers/dovecot"
	"github.com/mailevents/mailevents/parsers/parsertest"
	"github.com/mailevents/mailevents/source"
)

// corpusGolden names, for every line of every public Dovecot file, what the
// grammar made of it: "record {action}", "ignored", or "{kind} {reason}".
// Refresh it with -update after an intended change and review the diff.
const corpusGolden = "testdata/corpus-outcomes.txt"

// corpusRejects lists the only corpus lines that may be rejected, with
// their kind and why. It is kept by hand, not by -update, so that a
// regression turning a known line into a rejected one fails even after the
// golden file was regenerated.
var corpusRejects = map[string]struct{ kind, why string }{
	"fail2ban-dovecot.log:28": {unknown, "PAM's own line, tagged auth: another program"},
	// Its line 55, the same garbage ending in "(tried to use disallowed
	// …)", is a login_failed.
	"fail2ban-dovecot.log:56": {unknown, "fail2ban's deliberate non-match: no Dovecot message"},
	// sonic.net's site plugin logs under the imap prefix in its own words.
	"sonic-dovecot-grok-tests.log:16": {unknown, "sonic.net mwi-update plugin"},
	"sonic-dovecot-grok-tests.log:17": {unknown, "sonic.net mwi-update plugin"},
	// A site post-login script, tagged dovecot-postlogin: not Dovecot.
	"sonic-dovecot-grok-tests.log:18": {unknown, "dovecot-postlogin script"},
	"sonic-dovecot-grok-tests.log:19": {unknown, "dovecot-postlogin script"},
	"sonic-dovecot-grok-tests.log:20": {unknown, "dovecot-postlogin script"},
	"sonic-dovecot-grok-tests.log:21": {unknown, "dovecot-postlogin script"},
	"sonic-dovecot-grok-tests.log:22": {unknown, "dovecot-postlogin script"},
	// wazuh breaks a Login on purpose ("lip=1.2.3.5 Authentication
	// Failure:"): the shape is Dovecot's, the address is not.
	"wazuh-dovecot.log:7":  {malformed, "wazuh's deliberately broken Login"},
	"wazuh-dovecot.log:19": {malformed, "wazuh's deliberately broken Login, relayed"},
}

// corpusLine is one non-empty line of a public corpus file.
type corpusLine = sharedref.CorpusLine

// corpusLines returns the lines of every public Dovecot file, in file and
// line order, exactly as the files hold them.
func corpusLines(t testing.TB) []corpusLine { return sharedref.CorpusLines(t, "*dovecot*.log") }

func TestCorpus(t *testing.T) {
	g := newTestGrammar()
	var got strings.Builder
	var m *mapping.Dovecot
	rejected := map[string]bool{}
	lines := corpusLines(t)
	for i, l := range lines {
		if i == 0 || l.File != lines[i-1].File {
			// One mapper per file, as one parse run: its state (sessions,
			// flags) must not leak between unrelated logs.
			m = mapping.NewDovecot(mapping.DovecotOptions{})
		}
		res := parseAndMap(t, g, m, l)
		fmt.Fprintf(&got, "%s %s\n", l.ID(), res)
		kind, _, _ := strings.Cut(res, " ")
		if kind == unknown || kind == malformed {
			rejected[l.ID()] = true
			if want, ok := corpusRejects[l.ID()]; !ok || want.kind != kind {
				t.Errorf("%s is rejected (%s) but corpusRejects does not say so: %s", l.ID(), res, l.Text)
			}
		}
	}
	for id, want := range corpusRejects {
		if !rejected[id] {
			t.Errorf("corpusRejects lists %s (%s: %s) but it is no longer rejected: drop it", id, want.kind, want.why)
		}
	}
	if *update {
		if err := os.WriteFile(corpusGolden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(corpusGolden)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(got.String(), "\n")); diff != "" {
		t.Errorf("%s differs (-want +got); if the change is intended, run with -update:\n%s", corpusGolden, diff)
	}
}

// parseAndMap runs one line through the grammar and, for a Record, the
// mapper, and returns the line's outcome as corpus-outcomes.txt spells it.
// A panic anywhere is reported against the line rather than ending the run.
func parseAndMap(t *testing.T, g *dovecot.Grammar, m *mapping.Dovecot, l corpusLine) (res string) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("%s panicked: %v: %s", l.ID(), p, l.Text)
			res = "panic"
		}
	}()
	rec, err := g.Parse(source.Line{Text: []byte(l.Text)})
	kind := outcome(t, err)
	var se *parsers.SyntaxError
	switch {
	case kind == "record":
		checkMapped(t, m, &rec, l.Text)
		return kind + " " + rec.Action
	case errors.As(err, &se):
		return kind + " " + se.Reason
	}
	return kind
}

// checkMapped maps a Record and validates every event; only ErrUnmapped
// may come back as an error.
func checkMapped(t testing.TB, m *mapping.Dovecot, rec *parsers.Record, line string) {
	t.Helper()
	evs, err := m.Map(nil, rec)
	if err != nil && !errors.Is(err, mapping.ErrUnmapped) {
		t.Errorf("Map(%q): %v", line, err)
	}
	for _, e := range evs {
		if err := e.Validate(); err != nil {
			t.Errorf("Map(%q) gave an invalid event: %v", line, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, l := range corpusLines(f) {
		f.Add(l.Text)
	}
	for _, tc := range lineCases {
		f.Add(tc.line)
	}
	for _, tc := range bareLineCases {
		f.Add(tc.line)
	}
	g := newTestGrammar()
	newMappers := func() *mapping.Registry {
		m := new(mapping.Registry)
		m.Register("dovecot", mapping.NewDovecot(mapping.DovecotOptions{}))
		return m
	}
	f.Fuzz(func(t *testing.T, line string) {
		// Through the whole pipeline: deterministic output that passes
		// the schema, and no event the RFC forbids.
		parsertest.CheckInvariants(t, []parsers.Parser{g}, newMappers, line)
		rec, err := g.Parse(source.Line{Text: []byte(line)})
		kind := outcome(t, err)
		rec2, err2 := g.Parse(source.Line{Text: []byte(line)})
		if !reflect.DeepEqual(rec, rec2) || !reflect.DeepEqual(err, err2) {
			t.Fatalf("Parse is not deterministic: %v / %v", err, err2)
		}
		if kind != "record" {
			return
		}
		evs, err := mapping.NewDovecot(mapping.DovecotOptions{}).Map(nil, &rec)
		if err != nil && !errors.Is(err, mapping.ErrUnmapped) {
			t.Fatalf("Map: %v", err)
		}
		for _, e := range evs {
			if err := e.Validate(); err != nil {
				t.Fatalf("invalid event from %q: %v", line, err)
			}
		}
	})
}

// benchLines is a realistic mix: mostly mail_log and login/logout, some
// auth noise.
var benchLines = []string{
	"Jan 15 08:00:00 mail dovecot: imap-login: Login: user=<user@example.org>, method=PLAIN, rip=192.0.2.43, lip=192.0.2.1, mpid=1448158, TLS, session=<N7MXlE+iUvFaBAGj>",
	"Jan 15 08:00:01 mail dovecot: imap(user@example.org)<1448158><N7MXlE+iUvFaBAGj>: save: box=Sent, uid=4711, msgid=<a1@example.org>, size=2048, vsize=2100, flags=(\\Seen)",
	"Jan 15 08:00:02 mail dovecot: imap(user@example.org)<1448158><N7MXlE+iUvFaBAGj>: flag_change: box=INBOX, uid=5999, msgid=<5@t>, size=6168, from=Twitter <c@x.com>, flags=(\\Seen NonJunk)",
	"Jan 15 08:00:03 mail dovecot: imap(user@example.org)<1448158><N7MXlE+iUvFaBAGj>: expunge: box=INBOX, uid=258224, msgid=<msg1d@example.org>, size=12345",
	"Jan 15 08:00:04 mail dovecot: lmtp(user@example.org)<1424580><6u4HADnlhV7EvBUAnSVX2A>: msgid=<NM61F22CF1C007D32A6PFO_P@example.org>: saved mail to INBOX",
	"Jan 15 08:00:05 mail dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<user@example.org>, method=PLAIN, rip=192.0.2.9, lip=192.0.2.1, TLS, session=<Ae4t/ECiVMoAAAAA>",
	"Jan 15 08:00:06 mail dovecot: auth-worker(24544): pam(toto,1.1.1.1): unknown user",
	"Jan 15 08:00:07 mail dovecot: imap(user@example.org)<1448158><N7MXlE+iUvFaBAGj>: Disconnected: Logged out in=34 out=534 deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0",
}

func BenchmarkParse(b *testing.B) {
	g := newTestGrammar()
	lines := make([]source.Line, len(benchLines))
	for i, l := range benchLines {
		lines[i] = source.Line{Text: []byte(l)}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_, _ = g.Parse(lines[i%len(lines)])
	}
}
