package syslog

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Paris must resolve on machines without zoneinfo

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// paris is the assumed zone in tests: it has DST, so a wrong zone lookup
// shows up as a one-hour difference in summer or winter stamps.
var paris = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err)
	}
	return loc
}()

// testNow is the default clock: mid-March, so that stamps from April to
// December fall into the previous year and January to March into this one.
var testNow = time.Date(2026, time.March, 15, 12, 0, 0, 0, paris)

func testParser(now time.Time) *Parser {
	if now.IsZero() {
		now = testNow
	}
	return &Parser{Now: func() time.Time { return now }, Location: paris}
}

// utcOffset returns a zone like the one the parser builds for a stated
// offset; hours may be negative.
func utcOffset(hours, minutes int) *time.Location {
	sign := 1
	if hours < 0 {
		sign, hours = -1, -hours
	}
	return time.FixedZone("", sign*(hours*3600+minutes*60))
}

// sameTime compares instant, wall clock, offset and zone name: time.Time's
// own Equal ignores the zone, but the spec requires the stated offset to
// survive and the assumed Location to be the Parser's.
func sameTime(a, b time.Time) bool {
	const layout = "2006-01-02T15:04:05.999999999 -07:00 MST"
	return a.Equal(b) && a.Format(layout) == b.Format(layout) &&
		a.Location().String() == b.Location().String()
}

var envelopeOpts = cmp.Options{cmp.Comparer(sameTime), cmpopts.EquateEmpty()}

// parseCase is one row of the table tests. Exactly one of want and err is
// meaningful: err is the expected Reason of the *Error.
type parseCase struct {
	name string
	line string
	now  time.Time // zero: testNow
	want Envelope
	err  string
}

func runCases(t *testing.T, cases []parseCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			line := []byte(tc.line)
			got, err := testParser(tc.now).Parse(line)
			checkInvariants(t, line, got, err)
			if tc.err != "" {
				var pe *Error
				if !errors.As(err, &pe) || pe.Reason != tc.err {
					t.Fatalf("Parse(%q) error = %v, want reason %q", tc.line, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q) unexpected error: %v", tc.line, err)
			}
			if diff := cmp.Diff(tc.want, got, envelopeOpts); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tc.line, diff)
			}
		})
	}
}

// isTextFormat reports the formats whose Message must alias the line.
func isTextFormat(f Format) bool {
	return f != FormatJournalJSON && f != FormatUnknown
}

// checkInvariants holds for every input, and is shared by the table tests,
// the corpus test and the fuzzer.
func checkInvariants(t *testing.T, line []byte, env Envelope, err error) {
	t.Helper()
	if err != nil {
		var pe *Error
		if !errors.As(err, &pe) {
			t.Fatalf("Parse(%q) error %T is not *Error: %v", line, err, err)
		}
		if pe.Reason == "" {
			t.Fatalf("Parse(%q) error has empty Reason", line)
		}
		if !reflect.DeepEqual(env, Envelope{}) {
			t.Fatalf("Parse(%q) failed but returned a non-zero Envelope %+v", line, env)
		}
		return
	}
	if env.Format == FormatUnknown {
		t.Fatalf("Parse(%q) succeeded with FormatUnknown", line)
	}
	if (env.Precision == -1) != env.Time.IsZero() {
		t.Fatalf("Parse(%q): Precision %d with Time %v", line, env.Precision, env.Time)
	}
	if env.Precision < -1 || env.Precision > 9 {
		t.Fatalf("Parse(%q): Precision %d out of range", line, env.Precision)
	}
	if env.Priority < -1 || env.Priority > maxPRI {
		t.Fatalf("Parse(%q): Priority %d out of range", line, env.Priority)
	}
	if env.PID < 0 {
		t.Fatalf("Parse(%q): negative PID %d", line, env.PID)
	}
	if !env.Time.IsZero() && !env.Zoned && env.Time.Location() != paris {
		t.Fatalf("Parse(%q): unzoned Time in %v, want the Parser's Location", line, env.Time.Location())
	}
	if isTextFormat(env.Format) && !bytes.HasSuffix(line, env.Message) {
		t.Fatalf("Parse(%q): Message %q is not a suffix of the line", line, env.Message)
	}
	if isTextFormat(env.Format) && len(env.Message) > 0 && &line[len(line)-1] != &env.Message[len(env.Message)-1] {
		t.Fatalf("Parse(%q): Message was copied, want a sub-slice of the line", line)
	}
	if env.Cursor != "" && env.Format != FormatJournalJSON {
		t.Fatalf("Parse(%q): Cursor set for %v", line, env.Format)
	}
}
