package syslog

// maxPRI is the largest PRI: facility 23 (local7) * 8 + severity 7.
const maxPRI = 191

// utf8BOM may precede an RFC 5424 MSG to declare it UTF-8 (section 6.4). It
// is metadata, not text, so it is not part of the Message.
const utf8BOM = "\xef\xbb\xbf"

// parseRFC5424 handles
// "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [MSG]", where each
// header field may be the NILVALUE "-". Header fields are separated by one
// space in the RFC; runs of spaces are tolerated because relays that pad
// fields exist and nothing can be lost by skipping them.
func (p *Parser) parseRFC5424(b []byte, env *Envelope, sp *Spans) error {
	// "<" PRI ">" with PRI 1–3 digits.
	i := 1
	pri := 0
	for i < len(b) && i <= 3 && isDigit(b[i]) {
		pri = pri*10 + int(b[i]-'0')
		i++
	}
	if i == 1 || i >= len(b) || b[i] != '>' || pri > maxPRI {
		return errorf(reasonRFC5424)
	}
	i++
	// Only VERSION 1 exists; anything else (including the "<13>Jan ..."
	// shape of RFC 3164 over the network) has a different grammar.
	if i+1 >= len(b) || b[i] != '1' || b[i+1] != ' ' {
		return errorf(reasonRFC5424)
	}
	i = skipSpaces(b, i+2)

	*env = Envelope{Format: FormatRFC5424, Precision: -1, Priority: pri}
	if i < len(b) && b[i] == '-' {
		i++
	} else {
		st, ok := p.parseISOStamp(b[i:], false)
		if !ok {
			return errorf(reasonTimestamp)
		}
		env.Time, env.Precision, env.Zoned = st.t, st.prec, st.zoned
		i += st.next
	}

	// HOSTNAME, APP-NAME, PROCID, MSGID: non-empty tokens.
	var field [4][2]int
	for k := range field {
		if i >= len(b) || b[i] != ' ' {
			return errorf(reasonRFC5424)
		}
		i = skipSpaces(b, i)
		end := tokenEnd(b, i)
		if end == i {
			return errorf(reasonRFC5424)
		}
		field[k] = [2]int{i, end}
		i = end
	}
	if i >= len(b) || b[i] != ' ' {
		return errorf(reasonRFC5424)
	}
	i, ok := skipStructuredData(b, skipSpaces(b, i))
	if !ok {
		return errorf(reasonRFC5424)
	}
	switch {
	case i == len(b):
		// MSG is optional.
	case b[i] == ' ':
		i++
		if len(b)-i >= len(utf8BOM) && string(b[i:i+len(utf8BOM)]) == utf8BOM {
			i += len(utf8BOM)
		}
	default:
		return errorf(reasonRFC5424)
	}
	env.Message = b[i:]

	// HOSTNAME and APP-NAME are located, not copied (see ParseSpans); the
	// NILVALUE is an absent field.
	host, app := nilSpan(b, field[0]), nilSpan(b, field[1])
	*sp = Spans{InLine: true, HostStart: host[0], HostEnd: host[1], TagStart: app[0], TagEnd: app[1], Message: i}
	// PROCID is free text in RFC 5424 (it may be a thread name or a
	// container id), so a non-numeric one is not an error, just no PID.
	if pid, ok := atoiPID(b[field[2][0]:field[2][1]]); ok {
		env.PID = pid
	}
	return nil
}

// nilSpan maps a header field that is the NILVALUE "-" to an empty span.
func nilSpan(b []byte, f [2]int) [2]int {
	if f[1]-f[0] == 1 && b[f[0]] == '-' {
		return [2]int{f[0], f[0]}
	}
	return f
}

// skipStructuredData skips the NILVALUE or one or more SD-ELEMENTs at b[i:]
// and returns the index after them. Inside a quoted PARAM-VALUE, '\' escapes
// the next byte and ']' does not close the element, so values such as
// "a\]b" or "x] y" do not end it early.
func skipStructuredData(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	if b[i] == '-' {
		return i + 1, true
	}
	if b[i] != '[' {
		return 0, false
	}
	for i < len(b) && b[i] == '[' {
		i++
		// SD-ID: at least one character before a space or the closing ']'.
		if i >= len(b) || b[i] == ' ' || b[i] == ']' || b[i] == '"' || b[i] == '=' {
			return 0, false
		}
		quoted := false
		for ; i < len(b); i++ {
			c := b[i]
			if quoted {
				switch c {
				case '\\':
					i++
				case '"':
					quoted = false
				}
				continue
			}
			if c == '"' {
				quoted = true
			} else if c == ']' {
				break
			}
		}
		if i >= len(b) {
			return 0, false
		}
		i++ // past ']'
	}
	return i, true
}
