package pipeline

import (
	"encoding/base64"
	"strconv"
	"unicode/utf8"

	"github.com/mailevents/mailevents/event"
	"github.com/mailevents/mailevents/source"
)

// Kinds of rejected lines beyond the grammars' unknown and malformed.
const (
	KindUnmapped = "unmapped" // recognised, but no RFC 5423 event corresponds
	KindInvalid  = "invalid"  // mapped to an event that failed event.Validate
	KindInternal = "internal" // a grammar or mapper broke its contract
)

// Reject is one dead letter: a line that produced no event, with enough to
// find it again and to see why.
type Reject struct {
	Pos       source.Position
	Kind      string
	Reason    string // stable, as counted by --stats
	Detail    string // values from the line, for a person
	Grammar   string // the grammar that decided, "" when none recognised the line
	Line      []byte
	Truncated bool
}

// AppendJSON appends the dead-letter JSON object: the source as in an event's
// vnd.mailevents.source, then end, kind, reason, detail, grammar, the line as
// text and, when the line is not valid UTF-8, its exact bytes in base64 so
// that nothing of it is lost.
func (r *Reject) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"source":`...)
	dst = append(dst, sourceOf(r.Pos).Str()...)
	dst = append(dst, `,"end":`...)
	dst = strconv.AppendInt(dst, r.Pos.End, 10)
	dst = appendField(dst, "kind", r.Kind)
	dst = appendField(dst, "reason", r.Reason)
	if r.Detail != "" {
		dst = appendField(dst, "detail", r.Detail)
	}
	if r.Grammar != "" {
		dst = appendField(dst, "grammar", r.Grammar)
	}
	dst = appendField(dst, "line", string(r.Line))
	if !utf8.Valid(r.Line) {
		dst = appendField(dst, "line_base64", base64.StdEncoding.EncodeToString(r.Line))
	}
	if r.Truncated {
		dst = append(dst, `,"truncated":true`...)
	}
	return append(dst, '}')
}

func appendField(dst []byte, key, value string) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, key...)
	dst = append(dst, '"', ':')
	return event.AppendJSONString(dst, value)
}

// sourceOf gives the vnd.mailevents.source value of a position: stdin is a
// stream, anything else a file.
func sourceOf(pos source.Position) event.Value {
	if pos.Source == "-" {
		return event.SourceStream("stdin", pos.Offset)
	}
	return event.SourceFile(pos.Source, pos.Offset)
}
