package syslog

import "time"

// TAI64N labels (multilog's "@" + 24 hex digits) count TAI seconds from
// 1970-01-01 00:00:00 TAI, offset by 2^62, followed by nanoseconds. TAI does
// not observe leap seconds, so converting to UTC subtracts the TAI−UTC
// difference in force at that instant: 10 s at the start of 1972 plus one
// per leap second since.

const (
	tai64Base    = 1 << 62
	taiUTCBase   = 10 // TAI−UTC on 1972-01-01
	tai64nLen    = 1 + 24
	tai64nPrefix = "@4000"
)

// leapSeconds lists, as Unix times, the UTC midnight that followed each
// inserted leap second (IERS Bulletin C). No leap second has been
// announced after 2016-12-31; the IERS gives six months' notice, so a new
// one would be appended here well before it takes effect.
var leapSeconds = [...]int64{
	78796800,   // 1972-07-01
	94694400,   // 1973-01-01
	126230400,  // 1974-01-01
	157766400,  // 1975-01-01
	189302400,  // 1976-01-01
	220924800,  // 1977-01-01
	252460800,  // 1978-01-01
	283996800,  // 1979-01-01
	315532800,  // 1980-01-01
	362793600,  // 1981-07-01
	394329600,  // 1982-07-01
	425865600,  // 1983-07-01
	489024000,  // 1985-07-01
	567993600,  // 1988-01-01
	631152000,  // 1990-01-01
	662688000,  // 1991-01-01
	709948800,  // 1992-07-01
	741484800,  // 1993-07-01
	773020800,  // 1994-07-01
	820454400,  // 1996-01-01
	867715200,  // 1997-07-01
	915148800,  // 1999-01-01
	1136073600, // 2006-01-01
	1230768000, // 2009-01-01
	1341100800, // 2012-07-01
	1435708800, // 2015-07-01
	1483228800, // 2017-01-01
}

// taiToUnix converts TAI seconds since 1970 to Unix seconds. The n-th leap
// second (1-based) starts at TAI second leapSeconds[n-1]+9+n and the
// following UTC midnight at leapSeconds[n-1]+10+n. Unix time cannot name
// the inserted second itself; it is mapped onto 23:59:59, which is how the
// Linux kernel replays it, so it sorts with the lines around it.
func taiToUnix(tai int64) int64 {
	n := len(leapSeconds)
	for n > 0 && tai < leapSeconds[n-1]+taiUTCBase+int64(n) {
		n--
	}
	off := taiUTCBase + int64(n)
	if n < len(leapSeconds) && tai == leapSeconds[n]+off {
		return tai - off - 1
	}
	return tai - off
}

// parseTAI64N handles "@400000004c91b044077a9e94 msg". Requiring the
// "@4000" prefix keeps the label within 2^62 ≤ label < 2^62+2^48, i.e.
// after 1970 and before any overflow, and it is what tells a multilog line
// from a message that happens to start with '@'.
func parseTAI64N(b []byte) (Envelope, error) {
	if len(b) < tai64nLen || string(b[:len(tai64nPrefix)]) != tai64nPrefix {
		return fail(reasonUnknown)
	}
	var secs, nanos uint64
	for k, c := range b[1:tai64nLen] {
		if !isHex(c) {
			return fail(reasonUnknown)
		}
		if k < 16 {
			secs = secs<<4 | uint64(hexVal(c))
		} else {
			nanos = nanos<<4 | uint64(hexVal(c))
		}
	}
	msg := tai64nLen
	switch {
	case len(b) == tai64nLen:
	case b[tai64nLen] == ' ':
		msg++
	default:
		return fail(reasonUnknown)
	}
	if nanos >= 1e9 {
		return fail(reasonTimestamp)
	}
	t := time.Unix(taiToUnix(int64(secs-tai64Base)), int64(nanos)).UTC()
	if t.Year() > maxYear {
		return fail(reasonTimestamp)
	}
	return Envelope{
		Format:    FormatTAI64N,
		Time:      t,
		Precision: 9,
		// The label is an absolute instant, so no zone was assumed.
		Zoned:    true,
		Priority: -1,
		Message:  b[msg:],
	}, nil
}
