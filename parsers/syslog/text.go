package syslog

import (
	"sync/atomic"
	"time"
)

// Helpers shared by the text envelopes (BSD, ISO, local file, RFC 5424).
// They work on indexes into the line so that nothing is copied until the
// Host and Tag strings are built.

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// digits reads exactly n decimal digits at b[i:].
func digits(b []byte, i, n int) (int, bool) {
	if i < 0 || i+n > len(b) {
		return 0, false
	}
	v := 0
	for _, c := range b[i : i+n] {
		if !isDigit(c) {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// maxPID bounds numeric process ids: real ones fit in 22 bits on Linux, and
// the bound keeps the conversion free of overflow on 32-bit platforms.
const maxPID = 1<<31 - 1

// atoiPID parses a whole field as a decimal process id.
func atoiPID(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 10 {
		return 0, false
	}
	v := 0
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	if v > maxPID {
		return 0, false
	}
	return v, true
}

func skipSpaces(b []byte, i int) int {
	for i < len(b) && b[i] == ' ' {
		i++
	}
	return i
}

// tokenEnd returns the index of the first space at or after i.
func tokenEnd(b []byte, i int) int {
	for i < len(b) && b[i] != ' ' {
		i++
	}
	return i
}

var pow10 = [...]int{1e9, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 1e2, 1e1, 1}

// fraction reads the optional ".f" (1–9 digits) at b[i:] and returns the
// nanoseconds, the digit count (the Envelope's Precision) and the index after
// it. More than nine digits would be below Go's resolution, and a dot
// without digits is a truncated stamp; both are rejected.
func fraction(b []byte, i int) (ns, prec, next int, ok bool) {
	if i >= len(b) || b[i] != '.' {
		return 0, 0, i, true
	}
	i++
	start := i
	for i < len(b) && isDigit(b[i]) {
		if i-start == 9 {
			return 0, 0, 0, false
		}
		ns = ns*10 + int(b[i]-'0')
		i++
	}
	prec = i - start
	if prec == 0 {
		return 0, 0, 0, false
	}
	return ns * pow10[prec], prec, i, true
}

// clock reads "hh:mm:ss" at b[i:].
func clock(b []byte, i int) (h, m, s int, ok bool) {
	if i+8 > len(b) || b[i+2] != ':' || b[i+5] != ':' {
		return 0, 0, 0, false
	}
	h, ok1 := digits(b, i, 2)
	m, ok2 := digits(b, i+3, 2)
	s, ok3 := digits(b, i+6, 2)
	// Second 60 is not accepted: RFC 5424 forbids it and Linux stamps the
	// leap second as a repeated :59, so a 60 here means a broken writer.
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || s > 59 {
		return 0, 0, 0, false
	}
	return h, m, s, true
}

var maxDays = [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// validDate checks the day against the real calendar, so that "Feb 30" is
// rejected instead of silently becoming March 2 in time.Date.
func validDate(year int, month time.Month, day int) bool {
	if month < time.January || month > time.December || day < 1 || day > maxDays[month] {
		return false
	}
	if month == time.February && day == 29 {
		return year%4 == 0 && (year%100 != 0 || year%400 == 0)
	}
	return true
}

// zoneCache holds one *time.Location per UTC offset in minutes. A
// time.FixedZone per line would cost three allocations; offsets repeat on
// every line, so they are built once and shared. Entries are written with
// CompareAndSwap so concurrent parsers agree on one pointer per offset.
const maxOffsetMinutes = 24*60 - 1

var zoneCache [2*maxOffsetMinutes + 1]atomic.Pointer[time.Location]

// fixedZone returns the shared location for an offset of minutes east of
// UTC, which must be within ±23:59. The zone name is empty, as time.Parse
// does, so formatting later prints the numeric offset back.
func fixedZone(minutes int) *time.Location {
	slot := &zoneCache[minutes+maxOffsetMinutes]
	if loc := slot.Load(); loc != nil {
		return loc
	}
	slot.CompareAndSwap(nil, time.FixedZone("", minutes*60))
	return slot.Load()
}

// parseTag reads "tag[pid]:" or "tag:" at b[i:] and returns the end of the
// tag name, the pid (0 when absent) and the start of the message: after
// ": ", or len(b) when the colon ends the line. Tags never contain spaces;
// Cyrus tags contain '/' ("cyrus/imap", "mail1/imapd").
func parseTag(b []byte, i int) (tagEnd, pid, msg int, ok bool) {
	j := i
	for j < len(b) && b[j] != ':' && b[j] != '[' && b[j] != ' ' {
		j++
	}
	if j == i || j == len(b) || b[j] == ' ' {
		return 0, 0, 0, false
	}
	tagEnd = j
	if b[j] == '[' {
		k := j + 1
		for k < len(b) && b[k] != ']' {
			k++
		}
		if k == len(b) {
			return 0, 0, 0, false
		}
		var valid bool
		if pid, valid = atoiPID(b[j+1 : k]); !valid {
			return 0, 0, 0, false
		}
		j = k + 1
		if j == len(b) || b[j] != ':' {
			return 0, 0, 0, false
		}
	}
	// b[j] == ':'
	j++
	switch {
	case j == len(b):
		return tagEnd, pid, j, true
	case b[j] == ' ':
		return tagEnd, pid, j + 1, true
	}
	return 0, 0, 0, false
}

// finishText handles what follows the timestamp of a BSD or ISO line; i is
// the index just after the timestamp. If the next token ends with ':' it is
// a Dovecot process prefix ("pop3-login:", "auth-worker(default):") and the
// line came from Dovecot's own log file, which has no host and no tag; the
// message then starts at that token, unless it is "tag[pid]:", a syslog line
// without a host. Otherwise the token is the host and a tag follows. A
// hostname never ends with ':', so the rule needs no guess. Host and tag are
// only located, not copied: see ParseSpans.
func finishText(env *Envelope, sp *Spans, b []byte, i int, syslogFormat Format) error {
	if i < len(b) && b[i] != ' ' {
		return errorf(reasonTimestamp)
	}
	start := skipSpaces(b, i)
	end := tokenEnd(b, start)
	if start == end {
		return errorf(reasonTag)
	}
	if end-start > 2 && b[end-2] == ']' && b[end-1] == ':' {
		// "tag[pid]:" right after the time: a syslog writer that omits the
		// host (seen with Cyrus: "Feb 20 17:23:32 cyrus/pop3[4297]: ...").
		// A Dovecot process prefix never ends in "]:".
		tagEnd, pid, msg, ok := parseTag(b, start)
		if !ok {
			return errorf(reasonTag)
		}
		env.Format = syslogFormat
		env.PID = pid
		env.Message = b[msg:]
		*sp = Spans{InLine: true, TagStart: start, TagEnd: tagEnd, Message: msg}
		return nil
	}
	if b[end-1] == ':' {
		env.Format = FormatLocalFile
		env.Message = b[start:]
		*sp = Spans{InLine: true, Message: start}
		return nil
	}
	tagStart := skipSpaces(b, end)
	tagEnd, pid, msg, ok := parseTag(b, tagStart)
	if !ok {
		return errorf(reasonTag)
	}
	env.Format = syslogFormat
	env.PID = pid
	env.Message = b[msg:]
	*sp = Spans{InLine: true, HostStart: start, HostEnd: end, TagStart: tagStart, TagEnd: tagEnd, Message: msg}
	return nil
}
