package syslog

import (
	"errors"
	"reflect"
	"testing"
)

// allCases gathers every table row, for seeding the fuzzer.
func allCases() []parseCase {
	var all []parseCase
	for _, cs := range [][]parseCase{bsdCases, localFileCases, isoCases, rfc5424Cases, journalCases, tai64nCases, errorCases} {
		all = append(all, cs...)
	}
	return all
}

// FuzzParse checks the properties every input must have; the table inputs
// and testdata/fuzz/FuzzParse seed it.
func FuzzParse(f *testing.F) {
	for _, tc := range allCases() {
		f.Add([]byte(tc.line))
	}
	p := testParser(testNow)
	f.Fuzz(func(t *testing.T, line []byte) {
		env, err := p.Parse(line)
		checkInvariants(t, line, env, err)

		// Deterministic: the same input gives the same result, and Parse
		// did not modify or keep the line in a way that changes it.
		again, err2 := p.Parse(append([]byte(nil), line...))
		if !reflect.DeepEqual(env, again) || !sameError(err, err2) {
			t.Fatalf("Parse(%q) not deterministic:\n%+v %v\n%+v %v", line, env, err, again, err2)
		}
	})
}

func sameError(a, b error) bool {
	var ea, eb *Error
	if errors.As(a, &ea) != errors.As(b, &eb) {
		return false
	}
	return ea == nil || ea.Reason == eb.Reason
}
