package syslog

import (
	"strconv"
	"time"
)

// Format names the envelope a line was written in.
type Format uint8

// Envelope formats, detected from the shape of the line.
const (
	FormatUnknown     Format = iota
	FormatBSD                // "Jul  2 13:49:31 host tag[pid]: msg" (RFC 3164 / rsyslog traditional); no year, no zone
	FormatISO                // "2024-12-31T06:56:17.784598+01:00 host tag[pid]: msg" (rsyslog RFC 3339, journalctl short-iso[-precise])
	FormatRFC5424            // "<22>1 2024-01-02T03:04:05.123Z host app procid msgid [sd]|- msg"
	FormatJournalJSON        // journalctl -o json: one JSON object per line
	FormatLocalFile          // Dovecot's own log file: "Jan 29 09:33:58 pop3-login: Info: msg"; no host, no tag
	FormatTAI64N             // daemontools/s6 multilog: "@400000004c91b044077a9e94 msg"
)

var formatNames = [...]string{
	FormatUnknown:     "unknown",
	FormatBSD:         "bsd",
	FormatISO:         "iso",
	FormatRFC5424:     "rfc5424",
	FormatJournalJSON: "journal-json",
	FormatLocalFile:   "local-file",
	FormatTAI64N:      "tai64n",
}

// String returns the stable lower-case name used in metrics and --explain
// output.
func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	// An out-of-range value is a programming error; show it rather than
	// hiding it behind "unknown".
	return "format(" + strconv.Itoa(int(f)) + ")"
}

// Envelope is what wrapped the message: where and when it was logged and by
// whom.
type Envelope struct {
	Format Format
	// Time is zero when the source had no usable time (RFC 5424 "-", a
	// journal entry without __REALTIME_TIMESTAMP). A stated offset is kept;
	// an epoch-based time (journald, TAI64N) is shown in the Parser's
	// Location.
	Time time.Time
	// Precision is the number of fractional-second digits the source
	// carried (0 for whole seconds, 6 for µs, ...); -1 when Time is zero.
	Precision int
	// Zoned reports that the source fixed the instant itself (a stated UTC
	// offset, an epoch or a TAI label); false means the Parser's Location was
	// assumed.
	Zoned bool
	// Host is "" when absent (local file, multilog).
	Host string
	// Tag is the syslog tag, RFC 5424 APP-NAME or SYSLOG_IDENTIFIER, e.g.
	// "dovecot", "cyrus/imap", "imapd"; "" when absent.
	Tag string
	// PID is 0 when absent or not numeric.
	PID int
	// Priority is the syslog PRI (severity + facility*8); -1 when absent.
	Priority int
	// Cursor is journald's __CURSOR, "" for every other format.
	Cursor string
	// Message is the text after the envelope. For text formats it is a
	// suffix of the input line (no copy); for journal JSON it is the decoded
	// MESSAGE, which aliases the line when MESSAGE had no escapes.
	Message []byte
}

// Parser strips envelopes. The zero value is ready to use; it is safe for
// concurrent use because Parse only reads its fields.
type Parser struct {
	// Now is the clock used for year inference; nil means time.Now.
	Now func() time.Time
	// Location is the zone assumed when the source states none; nil means
	// time.Local.
	Location *time.Location
}

// Error is the only error type Parse returns.
//
// Reason is one of a small fixed set of tokens, suitable as a metrics label
// and dead-letter reason: "unknown envelope" (no envelope shape recognised:
// empty, blank, message-only or binary lines), "bad timestamp", "bad tag"
// (host/tag/pid of a syslog line, or a local-file line without a process
// prefix), "bad rfc5424 header", "bad journal json".
type Error struct {
	Reason string
}

func (e *Error) Error() string { return "syslog envelope: " + e.Reason }

// Reasons. They are stable: dashboards and dead-letter queries key on them.
const (
	reasonUnknown     = "unknown envelope"
	reasonTimestamp   = "bad timestamp"
	reasonTag         = "bad tag"
	reasonRFC5424     = "bad rfc5424 header"
	reasonJournalJSON = "bad journal json"
)

// fail builds the error result. On error the Envelope is always the zero
// value so that callers cannot mistake a half-parsed envelope for data.
func fail(reason string) (Envelope, error) {
	return Envelope{}, &Error{Reason: reason}
}

// errorf builds the error of the parsers that fill an Envelope in place
// (ParseSpans zeroes it on error).
func errorf(reason string) error {
	return &Error{Reason: reason}
}

// Spans says where an envelope's Host, Tag and Message lie in the line, as
// byte offsets: Host is line[HostStart:HostEnd], Tag line[TagStart:TagEnd]
// (empty when absent) and Message line[Message:].
type Spans struct {
	// InLine reports that the offsets are valid: Host, Tag and Message are
	// text of the line. It is false for journal JSON, whose values are
	// decoded from JSON strings, and on error.
	InLine             bool
	HostStart, HostEnd int
	TagStart, TagEnd   int
	Message            int
}

// Parse strips the envelope from line. The format is detected from the first
// bytes, so mixed input (a file that changed writer, a multiplexed stream)
// needs no configuration. Parse never panics, never keeps a reference to
// line after it returns, and is safe for concurrent use; the returned
// Message may alias line.
func (p *Parser) Parse(line []byte) (Envelope, error) {
	var env Envelope
	var sp Spans
	if err := p.ParseSpans(line, &env, &sp); err != nil {
		return Envelope{}, err
	}
	if sp.InLine {
		env.Host, env.Tag = sp.copyHostTag(line)
	}
	return env, nil
}

// copyHostTag copies Host and Tag out of the line. They sit close together
// (spaces between them, or RFC 5424's two header fields), so when both are
// present one copy of that span is sliced into the two strings.
func (sp *Spans) copyHostTag(line []byte) (host, tag string) {
	switch {
	case sp.HostEnd > sp.HostStart && sp.TagEnd > sp.TagStart:
		span := string(line[sp.HostStart:sp.TagEnd])
		return span[:sp.HostEnd-sp.HostStart], span[sp.TagStart-sp.HostStart:]
	case sp.TagEnd > sp.TagStart:
		return "", string(line[sp.TagStart:sp.TagEnd])
	case sp.HostEnd > sp.HostStart:
		return string(line[sp.HostStart:sp.HostEnd]), ""
	}
	return "", ""
}

// ParseSpans is Parse without its copy of Host and Tag, for a caller that
// copies the line itself anyway: a grammar whose Record strings are all
// pieces of the line converts it once and slices host, tag and message from
// that copy, instead of paying for Parse's copy and then its own. It may
// also look at the tag (line[TagStart:TagEnd]) before copying anything, so
// that a line of another program costs no allocation.
//
// It stores in *env what Parse returns, except that when sp.InLine (every
// format but journal JSON) env.Host and env.Tag are "" and *sp says where
// they are; env.Message is line[sp.Message:] as with Parse. For journal
// JSON *env is complete. On error *env and *sp are zero. Both are filled in
// place rather than returned: this is the per-line hot path, and copying
// the large results between frames showed in its benchmarks.
func (p *Parser) ParseSpans(line []byte, env *Envelope, sp *Spans) error {
	var err error
	if len(line) == 0 {
		err = errorf(reasonUnknown)
	} else {
		// Each parser assigns the whole *env and *sp before filling them in.
		switch c := line[0]; {
		case c == '<':
			err = p.parseRFC5424(line, env, sp)
		case c == '{', c == '@':
			err = p.parseEpochLine(line, env, sp)
		case isDigit(c):
			err = p.parseISOLine(line, env, sp)
		case 'A' <= c && c <= 'S': // first letters of the English month names
			err = p.parseBSDLine(line, env, sp)
		default:
			err = errorf(reasonUnknown)
		}
	}
	if err != nil {
		*env, *sp = Envelope{}, Spans{}
	}
	return err
}

// parseEpochLine handles the formats whose time is an epoch, journal JSON
// and TAI64N, and shows that time in the Parser's zone, because RFC 5423
// timestamps are "expressed in local time" with their offset (the instant
// is unchanged). It is apart from ParseSpans, their hot caller, because
// their Envelope copies would otherwise enlarge its frame.
func (p *Parser) parseEpochLine(line []byte, env *Envelope, sp *Spans) error {
	var err error
	if line[0] == '{' {
		*env, err = parseJournalJSON(line)
		*sp = Spans{}
	} else {
		// No host, no tag; the message is a suffix of the line.
		*env, err = parseTAI64N(line)
		*sp = Spans{InLine: true, Message: len(line) - len(env.Message)}
	}
	if err == nil && !env.Time.IsZero() {
		env.Time = env.Time.In(p.location())
	}
	return err
}

// location and now resolve the nil defaults; a nil *Parser behaves like the
// zero value so that Parse can keep its no-panic promise.
func (p *Parser) location() *time.Location {
	if p == nil || p.Location == nil {
		return time.Local
	}
	return p.Location
}

func (p *Parser) now() time.Time {
	if p == nil || p.Now == nil {
		return time.Now()
	}
	return p.Now()
}
