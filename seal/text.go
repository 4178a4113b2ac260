package seal

import (
	"fmt"
	"io"
	"strings"
)

// WriteText writes the report for a person: per stream a verdict, what was
// read, the last seal, and each finding on a line of its own.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, f := range r.Findings {
		writeFinding(&b, "", f)
	}
	if r.Omitted > 0 {
		fmt.Fprintf(&b, "problem: %d more malformed or unsealed records not listed\n", r.Omitted)
	}
	problems, bad := countProblems(r.Findings), 0
	for _, s := range r.Streams {
		verdict := "intact"
		if !s.Intact {
			verdict = "NOT INTACT"
			bad++
		}
		problems += countProblems(s.Findings) + s.Omitted
		fmt.Fprintf(&b, "stream %s: %s\n", s.Stream, verdict)
		fmt.Fprintf(&b, "  events: seq %d–%d (%d distinct, %d records read); seals that verify: %d\n",
			s.FirstSeq, s.LastSeq, s.Events, s.Records, s.Seals)
		if ls := s.LastSeal; ls != nil {
			final := "not final"
			if ls.Final {
				final = "final"
			}
			fmt.Fprintf(&b, "  last seal: seq %d at %s, %s, key %s (%s)\n", ls.Seq, ls.Time, final, ls.Key, ls.Where)
		} else {
			b.WriteString("  last seal: none that verifies\n")
		}
		for _, f := range s.Findings {
			writeFinding(&b, "  ", f)
		}
		if s.Omitted > 0 {
			fmt.Fprintf(&b, "  problem: %d more findings not listed\n", s.Omitted)
		}
	}
	problems += r.Omitted
	fmt.Fprintf(&b, "%s from %s, %s: ", plural(r.Records, "record"), plural(len(r.Inputs), "input"), plural(len(r.Streams), "stream"))
	switch {
	case r.Intact:
		b.WriteString("intact\n")
	default:
		fmt.Fprintf(&b, "NOT INTACT (%s, %s affected)\n", plural(max(problems, 1), "problem"), plural(bad, "stream"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeFinding(b *strings.Builder, indent string, f Finding) {
	fmt.Fprintf(b, "%s%s: %s: %s", indent, f.Severity, f.Kind, f.Message)
	if f.Where != "" {
		fmt.Fprintf(b, " (%s)", f.Where)
	}
	b.WriteByte('\n')
}

func countProblems(fs []Finding) int {
	n := 0
	for _, f := range fs {
		if f.Severity == Problem {
			n++
		}
	}
	return n
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
