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

// AppendTimestamp is FormatTimestamp for the hot path.
func AppendTimestamp(dst []byte, t time.Time, digits int) []byte {
	digits = min(max(digits, 0), 9)
	return t.AppendFormat(dst, timestampLayouts[digits])
}

// ParseTimestamp parses an RFC 3339 timestamp as the output carries it.
func ParseTimestamp(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, s)
}
