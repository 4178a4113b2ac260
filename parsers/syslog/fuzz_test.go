package syslog

import (
	"bytes"
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

		// ParseSpans locates what Parse copies, and agrees on the rest.
		var senv Envelope
		var sp Spans
		serr := p.ParseSpans(line, &senv, &sp)
		if sp.InLine {
			if senv.Host != "" || senv.Tag != "" || !bytes.Equal(senv.Message, line[sp.Message:]) {
				t.Fatalf("ParseSpans(%q): %+v does not match %+v", line, senv, sp)
			}
			senv.Host = string(line[sp.HostStart:sp.HostEnd])
			senv.Tag = string(line[sp.TagStart:sp.TagEnd])
		}
		if !reflect.DeepEqual(env, senv) || !sameError(err, serr) {
			t.Fatalf("ParseSpans(%q) differs from Parse:\n%+v %v\n%+v %v", line, senv, serr, env, err)
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
