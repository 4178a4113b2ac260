package syslog

import "time"

// rollbackSlack is how far in the future a year-less stamp may be before it
// is taken to belong to the previous year. A day covers clock skew between
// hosts and zone mix-ups without misplacing a December line read in
// January.
const rollbackSlack = 24 * time.Hour

// month maps the English abbreviation to its number. Writers use the C
// locale for syslog stamps, so other spellings are not a month.
func month(b []byte) time.Month {
	switch string(b) {
	case "Jan":
		return time.January
	case "Feb":
		return time.February
	case "Mar":
		return time.March
	case "Apr":
		return time.April
	case "May":
		return time.May
	case "Jun":
		return time.June
	case "Jul":
		return time.July
	case "Aug":
		return time.August
	case "Sep":
		return time.September
	case "Oct":
		return time.October
	case "Nov":
		return time.November
	case "Dec":
		return time.December
	}
	return 0
}

// parseBSDLine handles "Mmm d hh:mm:ss" stamps: RFC 3164 syslog (host and
// tag follow) and Dovecot's default log_timestamp (a process prefix
// follows). The day may be space-padded, zero-padded or bare.
func (p *Parser) parseBSDLine(b []byte, env *Envelope, sp *Spans) error {
	if len(b) < 4 || b[3] != ' ' {
		return errorf(reasonUnknown)
	}
	mon := month(b[:3])
	if mon == 0 {
		return errorf(reasonUnknown)
	}
	i := skipSpaces(b, 4)
	day, ok := digits(b, i, 2)
	if ok {
		i += 2
	} else if day, ok = digits(b, i, 1); ok {
		i++
	} else {
		return errorf(reasonTimestamp)
	}
	if i >= len(b) || b[i] != ' ' {
		return errorf(reasonTimestamp)
	}
	i = skipSpaces(b, i)
	h, m, s, ok := clock(b, i)
	if !ok {
		return errorf(reasonTimestamp)
	}
	// Dovecot's log_timestamp may add %{usecs}, and syslog-ng's frac-digits
	// does the same to BSD stamps, so a fraction is accepted here too.
	ns, prec, i, ok := fraction(b, i+8)
	if !ok || day < 1 || day > maxDays[mon] {
		return errorf(reasonTimestamp)
	}
	t, ok := p.inferYear(mon, day, h, m, s, ns)
	if !ok {
		return errorf(reasonTimestamp)
	}
	*env = Envelope{Time: t, Precision: prec, Priority: -1}
	return finishText(env, sp, b, i, FormatBSD)
}

// inferYear supplies the year a BSD stamp lacks: the year of the injected
// clock, or the one before when that would put the line more than a day in
// the future (a December line read in January). Nothing in the line is
// trusted for the year, so the result depends only on the clock, which
// tests and replays fix through Parser.Now. It fails for Feb 29 when the
// inferred year is not a leap year.
func (p *Parser) inferYear(mon time.Month, day, h, m, s, ns int) (time.Time, bool) {
	loc := p.location()
	now := p.now().In(loc)
	year := now.Year()
	t := time.Date(year, mon, day, h, m, s, ns, loc)
	if t.Sub(now) > rollbackSlack {
		year--
		t = time.Date(year, mon, day, h, m, s, ns, loc)
	}
	// A clock set to year 1 would yield the zero Time, which callers read as
	// "no time"; refuse rather than return a stamp that means nothing.
	if !validDate(year, mon, day) || t.IsZero() {
		return time.Time{}, false
	}
	return t, true
}
