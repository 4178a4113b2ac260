package syslog

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mailevents/mailevents/internal/sharedref"
)

// corpusExpect says what Parse must make of every line of one corpus file.
// Line numbers are 1-based and count every line of the file.
type corpusExpect struct {
	format Format         // for every line not listed in lines
	lines  map[int]Format // exceptions
	reason string         // Reason expected where the format is FormatUnknown
}

// corpusExpectations lists every file of shared/corpus/public that the
// test reads. FormatUnknown means Parse must fail with the given reason.
var corpusExpectations = map[string]corpusExpect{
	"crowdsec-dovecot-scenarios-synthetic.log": {format: FormatBSD},
	"crowdsec-dovecot.log": {format: FormatBSD, lines: map[int]Format{
		14: FormatISO, 15: FormatISO, // rsyslog RFC 3339 high precision
	}},
	// Message-only samples: no envelope at all.
	"eltrai-dovecot-grok-tests.log": {format: FormatUnknown, reason: reasonUnknown},
	// Line 4, "Feb 20 17:23:32 cyrus/pop3[4297]: ...", has no host.
	"fail2ban-cyrus-imap.log":  {format: FormatBSD},
	"fail2ban-cyrus-sieve.log": {format: FormatBSD},
	"fail2ban-dovecot.log": {format: FormatBSD, lines: map[int]Format{
		1: FormatTAI64N, 2: FormatTAI64N, 3: FormatTAI64N, 4: FormatTAI64N,
		14: FormatLocalFile, // "2013-08-11 03:56:40 auth-worker(default): ..."
		19: FormatLocalFile, 23: FormatLocalFile, 24: FormatLocalFile,
		31: FormatLocalFile, 32: FormatLocalFile, 33: FormatLocalFile, 34: FormatLocalFile,
		39: FormatLocalFile, 53: FormatLocalFile, 54: FormatLocalFile,
	}},
	"github-dovecot-core-pr156.log": {format: FormatBSD},
	"maillog2mysql-dovecot.log":     {format: FormatBSD},
	"pastebin-dovecot-misc.log": {format: FormatBSD, reason: reasonUnknown, lines: map[int]Format{
		1: FormatLocalFile, 2: FormatLocalFile, 3: FormatLocalFile,
		8: FormatUnknown, // "deliver(user@domain.tld): ..." is message-only
	}},
	"sonic-dovecot-grok-tests.log": {format: FormatBSD},
	"wazuh-dovecot.log": {format: FormatBSD, reason: reasonUnknown, lines: map[int]Format{
		// "Jun 23 15:04:05 Info: imap-login: ..." style: Dovecot's own file.
		7: FormatLocalFile, 9: FormatLocalFile, 10: FormatLocalFile, 11: FormatLocalFile,
		14: FormatLocalFile, 15: FormatLocalFile,
		// "dovecot: Jun 23 15:04:05 Info: ..." is no envelope we know.
		19: FormatUnknown, 21: FormatUnknown, 22: FormatUnknown, 23: FormatUnknown,
		27: FormatUnknown, 28: FormatUnknown,
	}},
	// Cyrus native event notifications: valid JSON objects starting with
	// '{', so they take the journal path and fail for lack of MESSAGE.
	"cyrus-docs-event-notifications.jsonl": {format: FormatUnknown, reason: reasonJournalJSON},
}

// corpusFiles returns every *.log file and the listed .jsonl file.
func corpusFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil {
		t.Fatal(err)
	}
	jsonl, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return append(files, jsonl...)
}

func readLines(t testing.TB, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return lines
}

func TestCorpus(t *testing.T) {
	dir := sharedref.Corpus(t)
	seen := map[string]bool{}
	for _, path := range corpusFiles(t, dir) {
		name := filepath.Base(path)
		want, listed := corpusExpectations[name]
		seen[name] = listed
		t.Run(name, func(t *testing.T) {
			p := testParser(testNow)
			for n, line := range readLines(t, path) {
				n++
				env, err := p.Parse(line)
				checkInvariants(t, line, env, err)
				if !listed {
					continue // a new sample: only the invariants are known
				}
				wantFormat := want.format
				if f, ok := want.lines[n]; ok {
					wantFormat = f
				}
				if wantFormat == FormatUnknown {
					var pe *Error
					if !errors.As(err, &pe) || pe.Reason != want.reason {
						t.Errorf("line %d: got (%v, %v), want error %q\n%s", n, env.Format, err, want.reason, line)
					}
					continue
				}
				if err != nil || env.Format != wantFormat {
					t.Errorf("line %d: got (%v, %v), want %v\n%s", n, env.Format, err, wantFormat, line)
				}
			}
		})
	}
	for name := range corpusExpectations {
		if !seen[name] {
			t.Errorf("expected corpus file %s is missing from %s", name, dir)
		}
	}
	for name, listed := range seen {
		if !listed {
			t.Logf("corpus file %s has no expectations; only invariants were checked", name)
		}
	}
}
