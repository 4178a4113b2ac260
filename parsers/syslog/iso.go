package syslog

import "time"

// minYear rejects stamps from before syslog existed. Such years only come
// from garbage or an unset clock's arithmetic, and excluding them keeps
// every accepted Time non-zero and inside the range JSON encoders accept.
const minYear = 1970

// isoStamp is a parsed RFC 3339-like stamp.
type isoStamp struct {
	t     time.Time
	prec  int
	zoned bool
	next  int // index just after the stamp
}

// parseISOStamp reads "YYYY-MM-DD{T| }hh:mm:ss[.f][Z|±hh:mm|±hhmm]" at the
// start of b. The space separator is Dovecot's "%Y-%m-%d %H:%M:%S"
// log_timestamp; RFC 5424 callers pass allowSpace=false. Both offset
// spellings occur: journalctl short-iso printed "+0100" before systemd 252
// and "+01:00" since. Without an offset the Parser's Location is assumed.
func (p *Parser) parseISOStamp(b []byte, allowSpace bool) (isoStamp, bool) {
	year, ok1 := digits(b, 0, 4)
	mon, ok2 := digits(b, 5, 2)
	day, ok3 := digits(b, 8, 2)
	if !ok1 || !ok2 || !ok3 || b[4] != '-' || b[7] != '-' || len(b) < 11 {
		return isoStamp{}, false
	}
	switch b[10] {
	case 'T', 't':
	case ' ':
		if !allowSpace {
			return isoStamp{}, false
		}
	default:
		return isoStamp{}, false
	}
	if year < minYear || !validDate(year, time.Month(mon), day) {
		return isoStamp{}, false
	}
	h, m, s, ok := clock(b, 11)
	if !ok {
		return isoStamp{}, false
	}
	ns, prec, i, ok := fraction(b, 19)
	if !ok {
		return isoStamp{}, false
	}
	loc, zoned := p.location(), false
	if i < len(b) {
		switch c := b[i]; c {
		case 'Z', 'z':
			loc, zoned = time.UTC, true
			i++
		case '+', '-':
			oh, ok1 := digits(b, i+1, 2)
			i += 3
			if i < len(b) && b[i] == ':' {
				i++
			}
			om, ok2 := digits(b, i, 2)
			i += 2
			if !ok1 || !ok2 || oh > 23 || om > 59 {
				return isoStamp{}, false
			}
			off := oh*60 + om
			if c == '-' {
				off = -off
			}
			loc, zoned = fixedZone(off), true
		}
	}
	t := time.Date(year, time.Month(mon), day, h, m, s, ns, loc)
	return isoStamp{t: t, prec: prec, zoned: zoned, next: i}, true
}

// parseISOLine handles rsyslog's RFC 3339 file format and journalctl
// short-iso[-precise] (host and tag follow), and Dovecot's ISO-style
// log_timestamp (a process prefix follows).
func (p *Parser) parseISOLine(b []byte, env *Envelope, sp *Spans) error {
	// Anything that does not open with a year and a dash is not a stamp at
	// all (a bare number, a message-only line), not a broken one.
	if _, ok := digits(b, 0, 4); !ok || len(b) < 5 || b[4] != '-' {
		return errorf(reasonUnknown)
	}
	st, ok := p.parseISOStamp(b, true)
	if !ok {
		return errorf(reasonTimestamp)
	}
	*env = Envelope{Time: st.t, Precision: st.prec, Zoned: st.zoned, Priority: -1}
	return finishText(env, sp, b, st.next, FormatISO)
}
