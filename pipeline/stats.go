package pipeline

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"text/tabwriter"

	"github.com/mailevents/mailevents/event"
)

// Stats counts what a run did with its lines. The pipeline updates it from
// one goroutine; read it after Run returns.
type Stats struct {
	Lines      int64
	ReadErrors int64
	// SinkErrors counts failed batch writes that the daemon retried.
	SinkErrors int64
	Recognised map[string]int64     // by grammar
	Ignored    map[string]int64     // known lines without events, by grammar
	Events     map[event.Type]int64 // by event type
	Rejected   map[string]int64     // by "kind: reason"
	// Deduplicated counts the events Config.Dedup dropped, by type.
	Deduplicated map[event.Type]int64
}

// NewStats returns empty statistics.
func NewStats() *Stats {
	return &Stats{
		Recognised: map[string]int64{},
		Ignored:    map[string]int64{},
		Events:     map[event.Type]int64{},
		Rejected:   map[string]int64{},
		// Deduplicated stays empty unless Config.Dedup is set.
		Deduplicated: map[event.Type]int64{},
	}
}

// RejectedLines is the number of lines that produced no event and were not
// known to be ignorable.
func (s *Stats) RejectedLines() int64 {
	var n int64
	for _, c := range s.Rejected {
		n += c
	}
	return n
}

// WriteText writes the counts as a table for a person (parse --stats).
func (s *Stats) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "lines read\t%d\n", s.Lines)
	if s.ReadErrors > 0 {
		fmt.Fprintf(tw, "read errors\t%d\n", s.ReadErrors)
	}
	section(tw, "recognised by grammar", s.Recognised)
	section(tw, "ignored by grammar (known, no event)", s.Ignored)
	section(tw, "events by type", s.Events)
	section(tw, "rejected by reason", s.Rejected)
	section(tw, "deduplicated (dropped as repeats) by type", s.Deduplicated)
	return tw.Flush()
}

// section prints a map sorted by descending count, then name, so that the
// output is stable for tests and the biggest numbers come first.
func section[K ~string](w io.Writer, title string, m map[K]int64) {
	if len(m) == 0 {
		return
	}
	fmt.Fprintf(w, "%s\n", title)
	keys := slices.SortedFunc(maps.Keys(m), func(a, b K) int {
		if c := cmp.Compare(m[b], m[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	for _, k := range keys {
		fmt.Fprintf(w, "  %s\t%d\n", k, m[k])
	}
}
