package syslog

import (
	"bytes"
	"testing"
)

// benchLines are typical lines per format, taken from the corpus where one
// exists.
var benchLines = []struct {
	name string
	line string
}{
	{"bsd", "Jul 02 13:49:31 hostname dovecot[442]: pop3-login: Aborted login (auth failed, 1 attempts in 17 secs): user=<test>, method=PLAIN, rip=192.51.100.13, lip=203.0.113.17, session=<YADINsQCDs5BH8Pg>"},
	{"iso", "2024-12-31T06:56:17.784598+01:00 mail dovecot: auth-worker(10377): conn unix:auth-worker (pid=919,uid=112): auth-worker<1>: sql(testing@example.com,192.168.1.1): unknown user"},
	{"rfc5424", `<22>1 2024-01-02T03:04:05.123456+01:00 mail dovecot 4242 - [meta@1 seq="7"] imap-login: Login: user=<a>, method=PLAIN, rip=192.0.2.1, lip=192.0.2.2, mpid=5, TLS`},
	{"journal-json", `{"__CURSOR":"s=6d1c8f0e4a5b4c3d9e8f7a6b5c4d3e2f;i=1a2b;b=0f1e2d3c4b5a69788796a5b4c3d2e1f0;m=12345678;t=5f0a1b2c3d4e5;x=9a8b7c6d5e4f3a2b","__REALTIME_TIMESTAMP":"1704161045123456","__MONOTONIC_TIMESTAMP":"12345678","_BOOT_ID":"0f1e2d3c4b5a69788796a5b4c3d2e1f0","PRIORITY":"6","SYSLOG_FACILITY":"2","_UID":"0","_GID":"0","_COMM":"dovecot","_EXE":"/usr/sbin/dovecot","_CMDLINE":"/usr/sbin/dovecot -F","_SYSTEMD_CGROUP":"/system.slice/dovecot.service","_SYSTEMD_UNIT":"dovecot.service","_TRANSPORT":"syslog","_HOSTNAME":"mail","SYSLOG_IDENTIFIER":"dovecot","SYSLOG_PID":"442","_PID":"442","MESSAGE":"imap-login: Login: user=<a>, method=PLAIN, rip=192.0.2.1, lip=192.0.2.2, mpid=5, TLS"}`},
	{"local-file", "Jan 29 09:33:58 pop3-login: Info: Aborted login (auth failed, 1 attempts in 2 secs): user=<grace>, method=PLAIN, rip=212.9.180.3"},
	{"tai64n", "@400000004c91b044077a9e94 imap-login: Info: Aborted login (auth failed, 1 attempts): user=<martin@waschbuesch.de>, method=CRAM-MD5, rip=80.187.101.33, lip=80.254.129.240, TLS"},
	{"unknown", "imap-login: Login: user=<user@example.org>, method=PLAIN, rip=192.0.2.43, lip=192.0.2.1, mpid=1448158, TLS, session=<N7MXlE+iUvFaBAGj>"},
}

func BenchmarkParse(b *testing.B) {
	p := testParser(testNow)
	for _, bl := range benchLines {
		line := []byte(bl.line)
		b.Run(bl.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(line)))
			for b.Loop() {
				_, _ = p.Parse(line)
			}
		})
	}
}

// BenchmarkBaseline is the floor to compare BenchmarkParse with, in the same
// run: finding the "tag: " separator of the same lines with bytes.Index, the
// least any envelope parser must do. Report Parse as a ratio to it.
func BenchmarkBaseline(b *testing.B) {
	sep := []byte(": ")
	for _, bl := range benchLines {
		line := []byte(bl.line)
		b.Run(bl.name, func(b *testing.B) {
			b.SetBytes(int64(len(line)))
			for b.Loop() {
				_ = bytes.Index(line, sep)
			}
		})
	}
}
