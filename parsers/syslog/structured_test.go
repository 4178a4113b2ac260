package syslog

import (
	"testing"
	"time"
)

func TestParseRFC5424(t *testing.T) { runCases(t, rfc5424Cases) }

func TestParseJournalJSON(t *testing.T) { runCases(t, journalCases) }

func TestParseTAI64N(t *testing.T) { runCases(t, tai64nCases) }

var rfc5424Cases = []parseCase{
	{
		name: "dovecot with procid",
		line: "<22>1 2024-01-02T03:04:05.123Z mail dovecot 4242 - - imap-login: Login: user=<a>",
		want: Envelope{
			Format: FormatRFC5424, Time: time.Date(2024, time.January, 2, 3, 4, 5, 123e6, time.UTC), Precision: 3, Zoned: true,
			Host: "mail", Tag: "dovecot", PID: 4242, Priority: 22, Message: []byte("imap-login: Login: user=<a>"),
		},
	},
	{
		name: "every header field nil and no MSG",
		line: "<13>1 - - - - - -",
		want: Envelope{Format: FormatRFC5424, Precision: -1, Priority: 13},
	},
	{
		name: "structured data with escapes and brackets in values",
		line: `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][ex@1 a="x\]y \"q\" \\" b="[not] end"] msg here`,
		want: Envelope{
			Format: FormatRFC5424, Time: time.Date(2003, time.October, 11, 22, 14, 15, 3e6, time.UTC), Precision: 3, Zoned: true,
			Host: "mymachine.example.com", Tag: "evntslog", Priority: 165, Message: []byte("msg here"),
		},
	},
	{
		name: "BOM before MSG is dropped",
		line: "<34>1 2003-10-11T22:14:15+02:00 host cyrus/imap 88 - - \xef\xbb\xbfbadlogin: [192.0.2.1] plain",
		want: Envelope{
			Format: FormatRFC5424, Time: time.Date(2003, time.October, 11, 22, 14, 15, 0, utcOffset(2, 0)), Zoned: true,
			Host: "host", Tag: "cyrus/imap", PID: 88, Priority: 34, Message: []byte("badlogin: [192.0.2.1] plain"),
		},
	},
	{
		name: "non-numeric procid",
		line: "<30>1 2024-01-02T03:04:05.000001+01:00 host dovecot worker-7 MSG1 - text",
		want: Envelope{
			Format: FormatRFC5424, Time: time.Date(2024, time.January, 2, 3, 4, 5, 1000, utcOffset(1, 0)), Precision: 6, Zoned: true,
			Host: "host", Tag: "dovecot", Priority: 30, Message: []byte("text"),
		},
	},
	{
		name: "structured data and no MSG",
		line: `<0>1 2024-01-02T03:04:05Z h a 1 - [a@1 x="y"]`,
		want: Envelope{
			Format: FormatRFC5424, Time: time.Date(2024, time.January, 2, 3, 4, 5, 0, time.UTC), Zoned: true,
			Host: "h", Tag: "a", PID: 1, Priority: 0,
		},
	},
}

var journalCases = []parseCase{
	{
		name: "typical dovecot entry",
		line: `{"__CURSOR":"s=6d1c;i=1a2b;b=f00;m=123;t=5f0;x=9a","__REALTIME_TIMESTAMP":"1704161045123456","__MONOTONIC_TIMESTAMP":"123","_BOOT_ID":"f00","PRIORITY":"6","SYSLOG_FACILITY":"2","_UID":"0","_HOSTNAME":"mail","SYSLOG_IDENTIFIER":"dovecot","SYSLOG_PID":"442","_PID":"442","_SYSTEMD_UNIT":"dovecot.service","MESSAGE":"imap-login: Login: user=<a>, method=PLAIN"}`,
		want: Envelope{
			Format: FormatJournalJSON, Time: time.Date(2024, time.January, 2, 2, 4, 5, 123456000, time.UTC).In(paris), Precision: 6, Zoned: true,
			Host: "mail", Tag: "dovecot", PID: 442, Priority: 22, Cursor: "s=6d1c;i=1a2b;b=f00;m=123;t=5f0;x=9a",
			Message: []byte("imap-login: Login: user=<a>, method=PLAIN"),
		},
	},
	{
		name: "MESSAGE as byte array, only _PID",
		line: `{"MESSAGE":[105, 109,97 ,112,255,0],"_PID":"17","SYSLOG_IDENTIFIER":"cyrus/imap"}`,
		want: Envelope{
			Format: FormatJournalJSON, Precision: -1, Tag: "cyrus/imap", PID: 17, Priority: -1,
			Message: []byte{'i', 'm', 'a', 'p', 0xff, 0},
		},
	},
	{
		name: "string escapes, surrogate pair and lone surrogate",
		line: `{"MESSAGE":"a\"b\\c\/\u0000d\ud83d\ude00e\n\t\udc00f\u00e9"}`,
		want: Envelope{
			Format: FormatJournalJSON, Precision: -1, Priority: -1,
			Message: []byte("a\"b\\c/\x00d\U0001F600e\n\t\uFFFDf\u00e9"),
		},
	},
	{
		name: "nested values and whitespace are skipped",
		line: `{ "X" : {"a":[1,2,{"b":null}],"c":"}"} , "Y":true,"Z":-1.5e+3, "W":[] ,"MESSAGE" : "m" } `,
		want: Envelope{Format: FormatJournalJSON, Precision: -1, Priority: -1, Message: []byte("m")},
	},
	{
		name: "repeated field uses the first value",
		line: `{"MESSAGE":["first","second"],"SYSLOG_IDENTIFIER":["imapd","x"]}`,
		want: Envelope{Format: FormatJournalJSON, Precision: -1, Tag: "imapd", Priority: -1, Message: []byte("first")},
	},
	{
		name: "escaped key still matches",
		line: `{"MESS\u0041GE":"m","PRIORITY":"3"}`,
		want: Envelope{Format: FormatJournalJSON, Precision: -1, Priority: 3, Message: []byte("m")},
	},
	{
		name: "non-numeric SYSLOG_PID falls back to _PID",
		line: `{"MESSAGE":"","SYSLOG_PID":"abc","_PID":"99","__REALTIME_TIMESTAMP":"0"}`,
		want: Envelope{
			Format: FormatJournalJSON, Time: time.Unix(0, 0).In(paris), Precision: 6, Zoned: true,
			PID: 99, Priority: -1, Message: []byte{},
		},
	},
	{
		name: "duplicate key keeps the last value",
		line: `{"MESSAGE":"old","MESSAGE":"new"}`,
		want: Envelope{Format: FormatJournalJSON, Precision: -1, Priority: -1, Message: []byte("new")},
	},
}

var tai64nCases = []parseCase{
	{
		name: "fail2ban multilog line",
		line: "@400000004c91b044077a9e94 imap-login: Info: Aborted login (auth failed, 1 attempts): user=<martin@waschbuesch.de>, method=CRAM-MD5, rip=80.187.101.33, lip=80.254.129.240, TLS",
		// 0x4c91b044 TAI seconds minus TAI-UTC 34 s (in force 2009–2012).
		want: Envelope{
			Format: FormatTAI64N, Time: time.Date(2010, time.September, 16, 5, 50, 26, 0x077a9e94, time.UTC).In(paris), Precision: 9, Zoned: true,
			Priority: -1, Message: []byte("imap-login: Info: Aborted login (auth failed, 1 attempts): user=<martin@waschbuesch.de>, method=CRAM-MD5, rip=80.187.101.33, lip=80.254.129.240, TLS"),
		},
	},
	{
		name: "second before the 2016 leap second",
		line: "@40000000586846a300000000 before",
		want: Envelope{Format: FormatTAI64N, Time: time.Date(2016, time.December, 31, 23, 59, 59, 0, time.UTC).In(paris), Precision: 9, Zoned: true, Priority: -1, Message: []byte("before")},
	},
	{
		name: "the 2016 leap second replays 23:59:59",
		line: "@40000000586846a41dcd6500 leap",
		want: Envelope{Format: FormatTAI64N, Time: time.Date(2016, time.December, 31, 23, 59, 59, 5e8, time.UTC).In(paris), Precision: 9, Zoned: true, Priority: -1, Message: []byte("leap")},
	},
	{
		name: "after the 2016 leap second TAI-UTC is 37",
		line: "@40000000586846a500000000 after",
		want: Envelope{Format: FormatTAI64N, Time: time.Date(2017, time.January, 1, 0, 0, 0, 0, time.UTC).In(paris), Precision: 9, Zoned: true, Priority: -1, Message: []byte("after")},
	},
	{
		name: "1972 before the first leap second, upper-case hex, empty message",
		line: "@4000000004B2580A00000000",
		want: Envelope{Format: FormatTAI64N, Time: time.Date(1972, time.June, 30, 23, 59, 59, 0, time.UTC).In(paris), Precision: 9, Zoned: true, Priority: -1},
	},
	{
		name: "1972 after the first leap second",
		line: "@4000000004b2580b00000000 x",
		want: Envelope{Format: FormatTAI64N, Time: time.Date(1972, time.July, 1, 0, 0, 0, 0, time.UTC).In(paris), Precision: 9, Zoned: true, Priority: -1, Message: []byte("x")},
	},
}

// TestLeapSecondTable checks the table against the calendar: each entry
// must be a 1 January or 1 July midnight, in increasing order, 27 in all.
func TestLeapSecondTable(t *testing.T) {
	if len(leapSeconds) != 27 {
		t.Fatalf("len(leapSeconds) = %d, want 27 (1972–2016)", len(leapSeconds))
	}
	for k, u := range leapSeconds {
		tm := time.Unix(u, 0).UTC()
		if tm.Day() != 1 || (tm.Month() != time.January && tm.Month() != time.July) || tm.Hour()+tm.Minute()+tm.Second() != 0 {
			t.Errorf("leapSeconds[%d] = %v, not a Jan 1 / Jul 1 midnight", k, tm)
		}
		if k > 0 && u <= leapSeconds[k-1] {
			t.Errorf("leapSeconds[%d] not increasing", k)
		}
	}
	if got := time.Unix(leapSeconds[len(leapSeconds)-1], 0).UTC(); got != time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC) {
		t.Errorf("last leap second boundary = %v, want 2017-01-01", got)
	}
}
