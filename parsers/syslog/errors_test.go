package syslog

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseErrors(t *testing.T) { runCases(t, errorCases) }

var errorCases = []parseCase{
	{name: "empty line", line: "", err: reasonUnknown},
	{name: "only spaces", line: "     ", err: reasonUnknown},
	{name: "binary garbage", line: "\x00\xff\xfe\x01\x80", err: reasonUnknown},
	{name: "message only (eltrai)", line: "imap-login: Login: user=<user@example.org>, method=PLAIN", err: reasonUnknown},
	{name: "wazuh dovecot prefix before the stamp", line: "dovecot: Jun 23 15:04:05 Info: imap-login: Login: user=<username>", err: reasonUnknown},
	{name: "word starting like a month", line: "January 4 21:51:05 host t: m", err: reasonUnknown},
	{name: "lower-case month", line: "jan  4 21:51:05 host t: m", err: reasonUnknown},
	{name: "month alone", line: "Jan", err: reasonUnknown},
	{name: "number that is not a year", line: "12345 hello", err: reasonUnknown},
	{name: "truncated BSD clock", line: "Jul  2 13:49", err: reasonTimestamp},
	{name: "BSD month and day only", line: "Jul  2", err: reasonTimestamp},
	{name: "three-digit day", line: "Jul 123 13:49:31 host t: m", err: reasonTimestamp},
	{name: "Feb 30", line: "Feb 30 10:00:00 host dovecot: m", err: reasonTimestamp},
	{name: "day zero", line: "Feb 00 10:00:00 host dovecot: m", err: reasonTimestamp},
	{name: "Feb 29 in a common inferred year", line: "Feb 29 10:00:00 host dovecot: m", err: reasonTimestamp},
	{name: "hour 25", line: "Jul  2 25:00:00 host dovecot: m", err: reasonTimestamp},
	{name: "minute 60", line: "Jul  2 10:60:00 host dovecot: m", err: reasonTimestamp},
	{name: "leap second 60", line: "Dec 31 23:59:60 host dovecot: m", err: reasonTimestamp},
	{name: "dot without fraction", line: "Jul  2 10:00:00. host dovecot: m", err: reasonTimestamp},
	{name: "ten fraction digits", line: "2024-01-02T03:04:05.1234567890Z host dovecot: m", err: reasonTimestamp},
	{name: "stamp glued to host", line: "Jul  2 10:00:00host dovecot: m", err: reasonTimestamp},
	{name: "truncated ISO", line: "2024-01-02T03:04", err: reasonTimestamp},
	{name: "ISO date only", line: "2024-01-02", err: reasonTimestamp},
	{name: "ISO Feb 30", line: "2024-02-30T03:04:05Z host t: m", err: reasonTimestamp},
	{name: "ISO month 13", line: "2024-13-01T03:04:05Z host t: m", err: reasonTimestamp},
	{name: "ISO bad separator", line: "2024-01-02X03:04:05Z host t: m", err: reasonTimestamp},
	{name: "ISO truncated offset", line: "2024-01-02T03:04:05+01 host t: m", err: reasonTimestamp},
	{name: "ISO offset hour 24", line: "2024-01-02T03:04:05+24:00 host t: m", err: reasonTimestamp},
	{name: "ISO before 1970", line: "1969-12-31T23:59:59Z host t: m", err: reasonTimestamp},
	{name: "stamp alone", line: "2024-01-02T03:04:05+01:00", err: reasonTag},
	{name: "stamp and spaces", line: "Jul  2 13:49:31   ", err: reasonTag},
	{name: "host without tag", line: "Jul  2 13:49:31 host", err: reasonTag},
	{name: "tag without colon", line: "Jul  2 13:49:31 host dovecot message text", err: reasonTag},
	{name: "bad pid", line: "Jul  2 13:49:31 host dovecot[44x]: m", err: reasonTag},
	{name: "empty pid", line: "Jul  2 13:49:31 host dovecot[]: m", err: reasonTag},
	{name: "negative pid", line: "Jul  2 13:49:31 host dovecot[-1]: m", err: reasonTag},
	{name: "pid too large", line: "Jul  2 13:49:31 host dovecot[99999999999]: m", err: reasonTag},
	{name: "unclosed pid", line: "Jul  2 13:49:31 host dovecot[12", err: reasonTag},
	{name: "pid without colon", line: "Jul  2 13:49:31 host dovecot[12] m", err: reasonTag},
	{name: "colon not followed by space", line: "Jul  2 13:49:31 host dovecot:m", err: reasonTag},
	{name: "empty tag", line: "Jul  2 13:49:31 host [12]: m", err: reasonTag},
	{name: "RFC 5424 lone bracket", line: "<", err: reasonRFC5424},
	{name: "RFC 5424 PRI out of range", line: "<192>1 - - - - - -", err: reasonRFC5424},
	{name: "RFC 5424 four-digit PRI", line: "<0013>1 - - - - - -", err: reasonRFC5424},
	{name: "RFC 3164 with PRI", line: "<13>Jan  2 03:04:05 host t: m", err: reasonRFC5424},
	{name: "RFC 5424 version 2", line: "<13>2 - - - - - -", err: reasonRFC5424},
	{name: "RFC 5424 truncated header", line: "<13>1 2024-01-02T03:04:05Z host app", err: reasonRFC5424},
	{name: "RFC 5424 missing SD", line: "<13>1 - host app 1 msgid", err: reasonRFC5424},
	{name: "RFC 5424 unterminated SD", line: `<13>1 - h a p m [id x="a\]"`, err: reasonRFC5424},
	{name: "RFC 5424 SD with empty id", line: `<13>1 - h a p m [] m`, err: reasonRFC5424},
	{name: "RFC 5424 junk after SD", line: "<13>1 - h a p m -x", err: reasonRFC5424},
	{name: "RFC 5424 bad timestamp", line: "<13>1 2024-01-02 03:04:05Z h a p m - x", err: reasonTimestamp},
	{name: "JSON open brace only", line: "{", err: reasonJournalJSON},
	{name: "JSON trailing garbage", line: `{"MESSAGE":"x"} x`, err: reasonJournalJSON},
	{name: "JSON without MESSAGE", line: `{"SYSLOG_IDENTIFIER":"dovecot"}`, err: reasonJournalJSON},
	{name: "JSON empty object", line: `{}`, err: reasonJournalJSON},
	{name: "JSON null MESSAGE", line: `{"MESSAGE":null}`, err: reasonJournalJSON},
	{name: "JSON byte out of range", line: `{"MESSAGE":[1,256]}`, err: reasonJournalJSON},
	{name: "JSON raw control character", line: "{\"MESSAGE\":\"a\x01b\"}", err: reasonJournalJSON},
	{name: "JSON bad escape", line: `{"MESSAGE":"a\qb"}`, err: reasonJournalJSON},
	{name: "JSON short unicode escape", line: `{"MESSAGE":"\u12"}`, err: reasonJournalJSON},
	{name: "JSON trailing comma", line: `{"MESSAGE":"x",}`, err: reasonJournalJSON},
	{name: "JSON leading zero", line: `{"MESSAGE":"x","N":01}`, err: reasonJournalJSON},
	{name: "JSON bool MESSAGE", line: `{"MESSAGE":true}`, err: reasonJournalJSON},
	{name: "JSON too deep", line: `{"MESSAGE":"x","D":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, err: reasonJournalJSON},
	{name: "JSON bad realtime", line: `{"MESSAGE":"x","__REALTIME_TIMESTAMP":"12ab"}`, err: reasonTimestamp},
	{name: "JSON realtime past year 9999", line: `{"MESSAGE":"x","__REALTIME_TIMESTAMP":"999999999999999999"}`, err: reasonTimestamp},
	{name: "TAI64N short label", line: "@4000xyz", err: reasonUnknown},
	{name: "TAI64N non-hex digit", line: "@400000004c91b044077a9e9g msg", err: reasonUnknown},
	{name: "TAI64N not 4000", line: "@500000004c91b044077a9e94 msg", err: reasonUnknown},
	{name: "TAI64N glued message", line: "@400000004c91b044077a9e94x", err: reasonUnknown},
	{name: "TAI64N nanoseconds overflow", line: "@400000004c91b044ffffffff msg", err: reasonTimestamp},
}

func TestFormatString(t *testing.T) {
	want := map[Format]string{
		FormatUnknown: "unknown", FormatBSD: "bsd", FormatISO: "iso", FormatRFC5424: "rfc5424",
		FormatJournalJSON: "journal-json", FormatLocalFile: "local-file", FormatTAI64N: "tai64n",
		Format(200): "format(200)",
	}
	for f, s := range want {
		if got := f.String(); got != s {
			t.Errorf("Format(%d).String() = %q, want %q", f, got, s)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	_, err := new(Parser).Parse([]byte("Feb 30 10:00:00 host dovecot: m"))
	var pe *Error
	if !errors.As(err, &pe) || pe.Reason != reasonTimestamp {
		t.Fatalf("err = %v, want *Error with reason %q", err, reasonTimestamp)
	}
	if got, want := err.Error(), "syslog envelope: bad timestamp"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// TestParserDefaults covers the nil Now and Location of a zero Parser, and
// a nil *Parser, which must not panic.
func TestParserDefaults(t *testing.T) {
	line := []byte("Jan  2 03:04:05 host dovecot: m")
	for name, p := range map[string]*Parser{"zero": {}, "nil": nil} {
		env, err := p.Parse(line)
		if err != nil {
			t.Fatalf("%s Parser: %v", name, err)
		}
		if env.Time.Location() != time.Local {
			t.Errorf("%s Parser: Location = %v, want time.Local", name, env.Time.Location())
		}
		if y, now := env.Time.Year(), time.Now().Year(); y != now && y != now-1 {
			t.Errorf("%s Parser: year %d not inferred from time.Now (%d)", name, y, now)
		}
	}
}

// TestParseConcurrent runs many offsets through the shared zone cache from
// several goroutines at once; with -race it proves the cache is safe and
// that all parsers end up with the same *time.Location per offset.
func TestParseConcurrent(t *testing.T) {
	p := testParser(time.Time{})
	var wg sync.WaitGroup
	locs := make([][]*time.Location, 8)
	for g := range locs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for h := -12; h <= 12; h++ {
				line := []byte("2024-01-02T03:04:05" + offsetString(h) + " host t: m")
				env, err := p.Parse(line)
				if err != nil {
					t.Errorf("Parse(%q): %v", line, err)
					return
				}
				locs[g] = append(locs[g], env.Time.Location())
			}
		}()
	}
	wg.Wait()
	for g := 1; g < len(locs); g++ {
		for k := range locs[0] {
			if k < len(locs[g]) && locs[g][k] != locs[0][k] {
				t.Fatalf("goroutine %d got a different *Location for offset #%d", g, k)
			}
		}
	}
}

func offsetString(h int) string {
	sign := byte('+')
	if h < 0 {
		sign, h = '-', -h
	}
	return string([]byte{sign, byte('0' + h/10), byte('0' + h%10), ':', '3', '0'})
}
