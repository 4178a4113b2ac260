// Package mailtest is the test support shared by the harnesses that run
// real mail servers (internal/dovecottest, internal/cyrustest): a private
// rsyslogd that owns /dev/log while a server logs through syslog(3),
// minimal IMAP, POP3 and LMTP clients that make a server log sessions and
// deliveries, and helpers to run a server in its own process group on free
// loopback ports under a short temporary directory.
package mailtest
