// Package syslog strips the envelope that a log transport wraps around a
// Dovecot or Cyrus IMAP message, so that the server grammars in
// parsers/dovecot and parsers/cyrus only ever see the message itself.
//
// Both servers log through the same transports, which is why this is one
// shared package rather than a copy in each grammar. Parser.Parse detects
// the envelope from the shape of the line, in one pass and without
// configuration, so a file whose writer changed (rsyslog's default went
// from BSD to RFC 3339 stamps in Debian 12) or a stream mixing sources
// still parses:
//
//   - FormatBSD: RFC 3164 / rsyslog traditional,
//     "Jul  2 13:49:31 host dovecot[442]: msg". No year, no zone.
//   - FormatISO: rsyslog's RFC 3339 file format and journalctl
//     -o short-iso[-precise], "2024-12-31T06:56:17.784598+01:00 host tag: msg".
//   - FormatRFC5424: "<22>1 2024-01-02T03:04:05Z host app procid msgid - msg",
//     as written by syslog-ng or rsyslog forwarding templates.
//   - FormatJournalJSON: journalctl -o json, one object per line; the
//     __CURSOR is kept so that a reader can checkpoint by it.
//   - FormatLocalFile: Dovecot's own log_path / info_log_path file,
//     "Jan 29 09:33:58 pop3-login: Info: msg" or with a
//     "2013-08-11 03:56:40" stamp. It has no host and no tag, so the
//     message starts at Dovecot's process prefix. It is told from BSD
//     syslog by the token after the stamp: a process prefix ends with ':',
//     a hostname never does.
//   - FormatTAI64N: daemontools/s6 multilog, "@400000004c91b044077a9e94 msg",
//     converted from TAI to UTC with the leap-second table.
//
// # Year inference and the injected clock
//
// BSD and Dovecot-file stamps carry no year. The year is taken from
// Parser.Now, never from the line or the file, and a stamp more than a day
// in the future is moved to the previous year, so December lines read in
// January land in the right year. The clock is injected rather than read
// from time.Now directly because the result would otherwise depend on the
// day the code runs: tests pin it to exercise the rollover, and a replay of
// old logs can set it to the files' modification time.
//
// # Cost
//
// Parse does not copy the message of a text envelope: Envelope.Message is a
// suffix of the input line. Host and Tag share one allocation; UTC offsets
// map to shared *time.Location values, so a BSD or ISO line costs one
// allocation. ParseSpans, for grammars that copy the line themselves,
// returns where Host and Tag are instead of copying them, so it costs none.
package syslog
