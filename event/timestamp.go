package event

import "time"

// timestampLayouts[d] formats with d fractional digits, keeping trailing zeros
// so that the output shows the precision of the source, and always a numeric
// UTC offset (RFC 5423 §5: "expressed in local time and contain the offset
// from UTC").
var timestampLayouts = [10]string{
	"2006-01-02T15:04:05-07:00",
	"2006-01-02T15:04:05.0-07:00",
	"2006-01-02T15:04:05.00-07:00",
	"2006-01-02T15:04:05.000-07:00",
	"2006-01-02T15:04:05.0000-07:00",
	"2006-01-02T15:04:05.00000-07:00",
	"2006-01-02T15:04:05.000000-07:00",
	"2006-01-02T15:04:05.0000000-07:00",
	"2006-01-02T15:04:05.00000000-07:00",
	"2006-01-02T15:04:05.000000000-07:00",
}

// FormatTimestamp formats t as RFC 3339 with digits fractional-second digits
// (clamped to 0..9) in t's own zone.
func FormatTimestamp(t time.Time, digits int) string {
	return string(AppendTimestamp(make([]byte, 0, 40), t, digits))
}

// AppendTimestamp is FormatTimestamp for the hot path. It writes the digits
// itself: time.AppendFormat interprets its layout on every call, which was
// the largest single cost of building an event. The result is the same, as
// a test checks against AppendFormat.
func AppendTimestamp(dst []byte, t time.Time, digits int) []byte {
	dst, _ = appendTimestamp(dst, t, digits)
	return dst
}

// appendTimestamp is AppendTimestamp that also reports whether t's year is
// within 0..9999 (what RFC 3339 can express), which it knows on its fast
// path without asking t.Year again.
func appendTimestamp(dst []byte, t time.Time, digits int) ([]byte, bool) {
	digits = min(max(digits, 0), 9)
	_, offset := t.Zone()
	unix := t.Unix()
	local := unix + int64(offset)
	days, secs := local/86400, local%86400
	if secs < 0 {
		days, secs = days-1, secs+86400
	}
	year, month, day := civilFromDays(days)
	if year < 0 || year > 9999 || offset%60 != 0 {
		// RFC 3339 has four-digit years and whole-minute offsets; let the
		// standard library decide what to write for the rest.
		y := t.Year()
		return t.AppendFormat(dst, timestampLayouts[digits]), y >= 0 && y <= 9999
	}
	// The year written is t.Year unless adding the offset overflowed,
	// which only absurd times do; then ask.
	inRange := true
	if (local < unix) != (offset < 0) {
		y := t.Year()
		inRange = y >= 0 && y <= 9999
	}
	dst = appendDigits(dst, year, 4)
	dst = append(dst, '-')
	dst = appendDigits(dst, month, 2)
	dst = append(dst, '-')
	dst = appendDigits(dst, day, 2)
	dst = append(dst, 'T')
	dst = appendDigits(dst, int(secs/3600), 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, int(secs/60%60), 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, int(secs%60), 2)
	if digits > 0 {
		dst = append(dst, '.')
		frac := t.Nanosecond()
		for range 9 - digits {
			frac /= 10
		}
		dst = appendDigits(dst, frac, digits)
	}
	sign := byte('+')
	if offset < 0 {
		sign, offset = '-', -offset
	}
	dst = append(dst, sign)
	dst = appendDigits(dst, offset/3600, 2)
	dst = append(dst, ':')
	return appendDigits(dst, offset/60%60, 2), inRange
}

// appendDigits writes v with exactly n digits, zero-padded.
func appendDigits(dst []byte, v, n int) []byte {
	if n == 2 && uint(v) < 100 {
		return append(dst, twoDigits[2*v], twoDigits[2*v+1])
	}
	var buf [9]byte
	for i := n - 1; i >= 0; i-- {
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, buf[:n]...)
}

// civilFromDays turns days since 1970-01-01 into a proleptic Gregorian date
// (Howard Hinnant's days_from_civil inverse).
func civilFromDays(z int64) (year, month, day int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return int(y), int(m), int(d)
}

// ParseTimestamp parses an RFC 3339 timestamp as the output carries it.
func ParseTimestamp(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, s)
}

// twoDigits holds "00" to "99": the date and time are mostly two-digit
// fields, written with one lookup instead of two divisions.
const twoDigits = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"
