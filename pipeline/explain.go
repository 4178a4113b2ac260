package pipeline

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/source"
)

// explainer writes, for each line, what every grammar made of it and what
// the line became: the tool for "why is this event missing?". Every grammar
// is asked, not only the one auto-detection would settle on, so that a line
// one grammar rejects and another was meant to read shows both answers.
type explainer struct {
	w       *bufio.Writer
	parsers []parsers.Parser
}

func (x *explainer) line(line source.Line) {
	fmt.Fprintf(x.w, "== %s:%d\n%s\n", line.Source, line.Offset, line.Text)
	width := 0
	for _, p := range x.parsers {
		width = max(width, len(p.Name()))
	}
	for _, p := range x.parsers {
		rec, err := p.Parse(line)
		fmt.Fprintf(x.w, "  %-*s  %s\n", width, p.Name(), outcome(&rec, err))
	}
}

// outcome says what one grammar made of a line.
func outcome(rec *parsers.Record, err error) string {
	var se *parsers.SyntaxError
	switch {
	case err == nil:
		var b strings.Builder
		fmt.Fprintf(&b, "recognised: action %q", rec.Action)
		for _, kv := range [][2]string{{"host", rec.Host}, {"process", rec.Process}, {"user", rec.User}, {"session", rec.Session}} {
			if kv[1] != "" {
				fmt.Fprintf(&b, ", %s %s", kv[0], kv[1])
			}
		}
		if rec.PID != 0 {
			fmt.Fprintf(&b, ", pid %d", rec.PID)
		}
		for _, f := range rec.Fields {
			fmt.Fprintf(&b, ", %s=%q", f.Key, f.Value)
		}
		return b.String()
	case errors.Is(err, parsers.ErrIgnored):
		return "ignored: a known line that evidences no event"
	case errors.As(err, &se):
		s := se.Kind.String() + ": " + se.Reason
		if se.Detail != "" {
			s += " (" + se.Detail + ")"
		}
		return s
	default:
		return "error: " + err.Error()
	}
}

func (x *explainer) result(format string, args ...any) {
	fmt.Fprintf(x.w, "  -> "+format+"\n", args...)
}
