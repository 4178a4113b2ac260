package dovecot_test

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/mailevents/mailevents/internal/sharedref"

	"github.com/mailevents/mailevents/mapping"
	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/source"
)

// messageOnly lists the corpus files that hold bare messages (the grok
// suites strip the envelope); the test wraps them in a syslog envelope.
var messageOnly = map[string]bool{"eltrai-dovecot-grok-tests.log": true}

type counts struct{ Records, Ignored, Unknown, Malformed int }

// corpusWant pins how every public Dovecot line is classified. The unknown
// lines are foreign (dovecot-postlogin, a PAM line tagged "auth"), lines
// without a parsable envelope ("dovecot: Jun 23 …", a bare message), a
// site plugin (mwi-update) and fail2ban's deliberate non-match; the one
// malformed line is wazuh's deliberately broken Login.
var corpusWant = map[string]counts{
	"crowdsec-dovecot-scenarios-synthetic.log": {Records: 20},
	"crowdsec-dovecot.log":                     {Records: 12, Ignored: 15},
	"eltrai-dovecot-grok-tests.log":            {Records: 15, Ignored: 15},
	"fail2ban-dovecot.log":                     {Records: 24, Ignored: 41, Unknown: 2},
	"github-dovecot-core-pr156.log":            {Records: 2},
	"maillog2mysql-dovecot.log":                {Records: 5, Ignored: 1},
	"pastebin-dovecot-misc.log":                {Records: 7, Unknown: 1},
	"sonic-dovecot-grok-tests.log":             {Records: 14, Ignored: 9, Unknown: 7},
	"wazuh-dovecot.log":                        {Records: 12, Ignored: 17, Unknown: 6, Malformed: 1},
}

// corpusLines returns the lines of every public Dovecot file, envelopes
// added where the file has none.
func corpusLines(t testing.TB) map[string][]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(sharedref.Corpus(t), "*dovecot*.log"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no *dovecot*.log in the corpus: %v", err)
	}
	out := map[string][]string{}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			line := sc.Text()
			if line == "" {
				continue
			}
			if messageOnly[filepath.Base(f)] {
				line = sys(line)
			}
			out[filepath.Base(f)] = append(out[filepath.Base(f)], line)
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestCorpus(t *testing.T) {
	g := newTestGrammar()
	lines := corpusLines(t)
	for name, ls := range lines {
		t.Run(name, func(t *testing.T) {
			want, ok := corpusWant[name]
			if !ok {
				t.Fatalf("no expectation for corpus file %s: add one to corpusWant", name)
			}
			var got counts
			m := mapping.NewDovecot(mapping.DovecotOptions{})
			for _, line := range ls {
				rec, err := g.Parse(source.Line{Text: []byte(line)})
				switch outcome(t, err) {
				case "record":
					got.Records++
					checkMapped(t, m, &rec, line)
				case ignored:
					got.Ignored++
				case unknown:
					got.Unknown++
				case malformed:
					got.Malformed++
				}
			}
			if got != want {
				t.Errorf("counts %+v, want %+v", got, want)
			}
		})
	}
	for name := range corpusWant {
		if _, ok := lines[name]; !ok {
			t.Errorf("expected corpus file %s is missing", name)
		}
	}
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
	for _, ls := range corpusLines(f) {
		for _, l := range ls {
			f.Add(l)
		}
	}
	for _, tc := range lineCases {
		f.Add(tc.line)
	}
	g := newTestGrammar()
	f.Fuzz(func(t *testing.T, line string) {
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
