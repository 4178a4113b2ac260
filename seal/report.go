package seal

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Severities of a finding: a problem makes the archive not intact, a note
// does not.
const (
	Problem = "problem"
	Note    = "note"
)

// Kinds of findings.
const (
	KindMalformed      = "malformed"       // a line that is not a JSON object, or a sealing parameter that is wrong
	KindUnsealedRecord = "unsealed-record" // an event without sealing parameters
	KindEmpty          = "empty"           // no sealed stream at all
	KindUnreadable     = "unreadable"      // an input that could not be read to its end
	KindGap            = "gap"             // events missing between others
	KindTruncated      = "truncated"       // events missing that a seal covers, after the last event there is
	KindReordered      = "reordered"       // an event after a later one in its input
	KindAltered        = "altered"         // an event whose content or chain value was changed
	KindBadSeal        = "bad-seal"        // a seal that does not verify or matches no event
	KindUnsealed       = "unsealed"        // events that no seal covers, before the last seal
	KindUnsealedTail   = "unsealed-tail"   // events after the last seal
	KindOpen           = "open"            // the last seal is not final
	KindRestartNoSeal  = "restart-without-seal"
	KindRestart        = "restart"
	KindDuplicate      = "duplicate"      // copies of an event: at-least-once delivery
	KindResentDiffers  = "resent-differs" // an event read again from another file
)

// Finding is one thing verification found. From and To are a range of
// seqs, when the finding is about events.
type Finding struct {
	Kind     string `json:"kind"`
	Severity string `json:"severity"`
	From     int64  `json:"from,omitempty"`
	To       int64  `json:"to,omitempty"`
	Count    int    `json:"count,omitempty"`
	Where    string `json:"where,omitempty"`
	Message  string `json:"message"`
}

// maxListed bounds the findings of one kind that name single records
// (reordered, altered, malformed): past it they are only counted.
const maxListed = 20

type findingList struct {
	items   []Finding
	perKind map[string]int
	omitted int
}

func (l *findingList) add(f Finding) {
	if l.perKind == nil {
		l.perKind = map[string]int{}
	}
	l.perKind[f.Kind]++
	if l.perKind[f.Kind] > maxListed {
		l.omitted++
		return
	}
	l.items = append(l.items, f)
}

// SealInfo describes a seal.
type SealInfo struct {
	Seq   int64  `json:"seq"`
	Time  string `json:"time"`
	Final bool   `json:"final"`
	Key   string `json:"key"`
	Where string `json:"where"`
}

// StreamReport is the verdict on one stream.
type StreamReport struct {
	Stream   string    `json:"stream"`
	Intact   bool      `json:"intact"`
	Events   int       `json:"events"`  // distinct events
	Records  int       `json:"records"` // lines read, copies and seals included
	FirstSeq int64     `json:"first_seq"`
	LastSeq  int64     `json:"last_seq"`
	Seals    int       `json:"seals"` // seals that verify
	LastSeal *SealInfo `json:"last_seal,omitempty"`
	Findings []Finding `json:"findings,omitempty"`
	Omitted  int       `json:"omitted,omitempty"` // findings counted but not listed
}

// Report is the verdict on everything read.
type Report struct {
	Intact   bool           `json:"intact"`
	Inputs   []string       `json:"inputs"`
	Records  int            `json:"records"`
	Streams  []StreamReport `json:"streams"`
	Findings []Finding      `json:"findings,omitempty"` // of no one stream
	Omitted  int            `json:"omitted,omitempty"`
}

// Finish completes verification and returns the report.
func (v *Verifier) Finish() *Report {
	rep := &Report{Inputs: v.inputs, Records: int(v.records), Findings: v.general.items, Omitted: v.general.omitted, Streams: []StreamReport{}}
	if rep.Inputs == nil {
		rep.Inputs = []string{}
	}
	if len(v.order) == 0 {
		rep.Findings = append(rep.Findings, Finding{Kind: KindEmpty, Severity: Problem, Message: "no sealed stream in the input"})
	}
	rep.Intact = !hasProblem(rep.Findings)
	for _, id := range v.order {
		sr := v.finishStream(v.streams[id])
		rep.Intact = rep.Intact && sr.Intact
		rep.Streams = append(rep.Streams, sr)
	}
	return rep
}

func hasProblem(fs []Finding) bool {
	return slices.ContainsFunc(fs, func(f Finding) bool { return f.Severity == Problem })
}

func (v *Verifier) finishStream(st *streamData) StreamReport {
	seqs := v.settle(st)
	sr := StreamReport{Stream: st.id, Records: st.records}
	// Each event descends from one start of the stream (its seq 1). One
	// after a gap descends from nothing there is; it is taken to belong to
	// the start of the events before the gap, when they have one.
	lastInc := int32(-1)
	for _, seq := range seqs {
		inc, one := int32(-2), true
		for x := range st.at(seq) {
			sr.Events++
			switch {
			case seq == 1:
				x.inc = int32(slices.Index(st.firstIDs, x.id))
			case x.parent != nil:
				x.inc = x.parent.inc
			case !st.has(seq - 1):
				x.inc = lastInc
			}
			if inc != -2 && inc != x.inc {
				one = false
			}
			inc = x.inc
		}
		lastInc = -1
		if one {
			lastInc = inc
		}
	}
	if len(seqs) > 0 {
		sr.FirstSeq, sr.LastSeq = seqs[0], seqs[len(seqs)-1]
	}
	// The latest start of the stream is the one whose seq 1 was read last.
	latest, latestOrder := int32(-1), int64(-1)
	for x := range st.at(1) {
		if x.inc >= 0 && x.order > latestOrder {
			latest, latestOrder = x.inc, x.order
		}
	}
	f := &st.findings

	for _, s := range st.seals {
		if s.err != nil {
			f.add(Finding{Kind: KindBadSeal, Severity: Problem, From: s.seq, To: s.seq, Where: s.where.String(),
				Message: fmt.Sprintf("seal at seq %d: %v", s.seq, s.err)})
			continue
		}
		sr.Seals++
		x := st.findChain(s.seq, s.chain)
		if x == nil {
			if st.has(s.seq) {
				f.add(Finding{Kind: KindBadSeal, Severity: Problem, From: s.seq, To: s.seq, Where: s.where.String(),
					Message: fmt.Sprintf("seal at seq %d names a chain value that no event at seq %d has", s.seq, s.seq)})
			}
			continue // a missing event: a gap
		}
		s.inc = x.inc
		cover(x, s.final)
	}
	// The last seal is that of the latest start, if it has one.
	latestSealed := latest >= 0 && slices.ContainsFunc(st.seals, func(s *sealData) bool { return s.inc == latest && s.err == nil })
	var last *sealData
	for _, s := range st.seals {
		if s.err != nil || (latestSealed && s.inc != latest) {
			continue
		}
		if last == nil || s.seq > last.seq || (s.seq == last.seq && (s.final || !last.final)) {
			last = s
		}
	}
	if last != nil {
		sr.LastSeal = &SealInfo{Seq: last.seq, Time: last.timestamp, Final: last.final, Key: last.key, Where: last.where.String()}
	}

	v.gaps(st, f, sr.LastSeq)
	v.reorders(st, f)
	for _, seq := range seqs {
		for x := range st.at(seq) {
			if x.state == altered {
				f.add(Finding{Kind: KindAltered, Severity: Problem, From: seq, To: seq, Where: v.pos(x.input, x.at).String(),
					Message: fmt.Sprintf("seq %d (id %s) does not hash to its chain value: the event or its chain value was changed", seq, x.id)})
			}
		}
	}
	v.coverage(st, f, seqs, last, latest)
	sortFindings(f.items)
	sr.Findings, sr.Omitted = f.items, f.omitted
	sr.Intact = !hasProblem(sr.Findings) && f.omitted == 0
	return sr
}

// reorders reports, per input, an event whose first copy in the input
// comes after a later event or seal of the same start of its stream. A
// copy whose first copy is in another input is not one: a partition may
// receive a re-sent event after later ones.
func (v *Verifier) reorders(st *streamData, f *findingList) {
	type key struct {
		seq int64
		id  string
	}
	inputsOf := map[key]int{}
	for _, in := range v.inputs {
		seen := map[key]bool{}
		for _, r := range st.logs[in] {
			if r.x == nil {
				continue
			}
			if k := (key{r.x.seq, r.x.id}); !seen[k] {
				seen[k] = true
				inputsOf[k]++
			}
		}
	}
	type highest struct{ event, seal int64 }
	for _, in := range v.inputs {
		seen := map[key]bool{}
		byInc := map[int32]*highest{}
		at := func(inc int32) *highest {
			if byInc[inc] == nil {
				byInc[inc] = &highest{}
			}
			return byInc[inc]
		}
		for _, r := range st.logs[in] {
			if r.s != nil {
				if r.s.err == nil {
					h := at(r.s.inc)
					h.seal = max(h.seal, r.s.seq)
				}
				continue
			}
			k, h := key{r.x.seq, r.x.id}, at(r.x.inc)
			if !seen[k] {
				seen[k] = true
				if inputsOf[k] == 1 && (k.seq < h.event || k.seq <= h.seal) {
					f.add(Finding{Kind: KindReordered, Severity: Problem, From: k.seq, To: k.seq, Where: v.pos(int32(slices.Index(v.inputs, in)), r.at).String(),
						Message: fmt.Sprintf("seq %d comes after seq %d in %s", k.seq, max(h.event, h.seal), in)})
				}
			}
			h.event = max(h.event, k.seq)
		}
	}
}

// where is the position of the first event read at seq, if any.
func (v *Verifier) where(st *streamData, seq int64) string {
	if x := st.bySeq[seq]; x != nil {
		return v.pos(x.input, x.at).String()
	}
	return ""
}

// has reports whether an event at seq was read.
func (st *streamData) has(seq int64) bool { return st.bySeq[seq] != nil }

// findChain returns the variant at seq with chain value c, a verified one
// first.
func (st *streamData) findChain(seq int64, c [32]byte) *variant {
	var found *variant
	for x := range st.at(seq) {
		if x.chain == c || slices.Contains(x.alt(), c) {
			if x.state == linked {
				return x
			}
			if found == nil {
				found = x
			}
		}
	}
	return found
}

// cover marks x and every event it hashes from as covered by a seal.
func cover(x *variant, final bool) {
	x.final = x.final || final
	for ; x != nil && !x.covered; x = x.parent {
		x.covered = true
	}
}

// gaps reports the seqs that no event has, up to the highest seq an event
// or a seal names; missing events after the last event are a truncation.
func (v *Verifier) gaps(st *streamData, f *findingList, lastEvent int64) {
	for seq := int64(1); seq <= st.maxSeq; seq++ {
		if st.has(seq) {
			continue
		}
		end := seq
		for end < st.maxSeq && !st.has(end+1) {
			end++
		}
		if seq > lastEvent {
			f.add(Finding{Kind: KindTruncated, Severity: Problem, From: seq, To: end,
				Message: fmt.Sprintf("%s missing after the last event: a seal covers them, so the archive was cut", seqRange(seq, end))})
		} else {
			f.add(Finding{Kind: KindGap, Severity: Problem, From: seq, To: end, Where: v.where(st, end+1),
				Message: fmt.Sprintf("%s missing (before the event at seq %d)", seqRange(seq, end), end+1)})
		}
		seq = end
	}
}

// coverage sorts the events that no seal covers into those read again
// (notes) and those whose absence could not have been noticed: the tail
// after the last seal, the tail of a start of the stream that was never
// sealed, and the rest. It reports duplicates, restarts and an open end.
func (v *Verifier) coverage(st *streamData, f *findingList, seqs []int64, last *sealData, latest int32) {
	incs := len(st.firstIDs)
	incMax, incCovered := make([]int64, incs), make([]int64, incs)
	incClosed := make([]bool, incs)
	var maxCovered int64
	for _, seq := range seqs {
		for x := range st.at(seq) {
			if x.covered {
				maxCovered = max(maxCovered, seq)
			}
			if x.inc < 0 {
				continue
			}
			if seq > incMax[x.inc] {
				incMax[x.inc], incClosed[x.inc] = seq, false
			}
			if x.covered {
				incCovered[x.inc] = max(incCovered[x.inc], seq)
			}
			incClosed[x.inc] = incClosed[x.inc] || x.final
		}
	}

	var dup, resent, tail, unsealed []int64
	restartTail := make([][]int64, incs)
	copies := 0
	for _, seq := range seqs {
		for x := range st.at(seq) {
			if x.copies > 1 {
				dup = append(dup, seq)
				copies += int(x.copies) - 1
			}
			if x.covered || x.state == altered {
				continue
			}
			switch {
			case st.resentOf(x):
				resent = append(resent, seq)
			case x.inc >= 0 && seq > incCovered[x.inc]:
				if x.inc == latest {
					tail = append(tail, seq)
				} else {
					restartTail[x.inc] = append(restartTail[x.inc], seq)
				}
			case x.inc < 0 && seq > maxCovered:
				tail = append(tail, seq)
			default:
				unsealed = append(unsealed, seq)
			}
		}
	}
	liveSeverity := Problem
	if v.opts.Live {
		liveSeverity = Note
	}
	for _, r := range ranges(tail) {
		after := "no seal covers them"
		if last != nil {
			after = fmt.Sprintf("they come after the last seal (seq %d)", last.seq)
		}
		f.add(Finding{Kind: KindUnsealedTail, Severity: liveSeverity, From: r[0], To: r[1], Where: v.where(st, r[0]),
			Message: fmt.Sprintf("%s: %s, so a cut there would go unnoticed (--live when the stream is still being written)", seqRange(r[0], r[1]), after)})
	}
	if len(tail) == 0 && last != nil && !last.final {
		f.add(Finding{Kind: KindOpen, Severity: liveSeverity, From: last.seq, To: last.seq, Where: last.where.String(),
			Message: fmt.Sprintf("the last seal (seq %d) is not final: the archive may have been cut after it (--live when the stream is still being written)", last.seq)})
	}
	for _, r := range ranges(unsealed) {
		f.add(Finding{Kind: KindUnsealed, Severity: Problem, From: r[0], To: r[1], Where: v.where(st, r[0]),
			Message: fmt.Sprintf("%s: no seal covers them (the chain from them to a later seal is broken)", seqRange(r[0], r[1]))})
	}
	for i := range incs {
		if int32(i) == latest {
			continue
		}
		switch {
		case len(restartTail[i]) > 0 || !incClosed[i]:
			f.add(Finding{Kind: KindRestartNoSeal, Severity: Problem, From: min(incCovered[i]+1, incMax[i]), To: incMax[i],
				Message: fmt.Sprintf("the stream started over at seq 1 after reaching seq %d with no final seal (the last seal of that run covers seq %d): events after it may be missing", incMax[i], incCovered[i])})
		default:
			f.add(Finding{Kind: KindRestart, Severity: Note, From: 1, To: incMax[i],
				Message: fmt.Sprintf("the stream started over at seq 1 after a final seal at seq %d (its state was reset)", incMax[i])})
		}
	}
	if copies > 0 {
		rs := ranges(dup)
		f.add(Finding{Kind: KindDuplicate, Severity: Note, From: rs[0][0], To: rs[len(rs)-1][1], Count: copies,
			Message: fmt.Sprintf("%d copies of events already read (same id, seq and chain: re-sent after a restart) in %s", copies, rangesText(rs))})
	}
	if len(resent) > 0 {
		rs := ranges(resent)
		f.add(Finding{Kind: KindResentDiffers, Severity: Note, From: rs[0][0], To: rs[len(rs)-1][1], Count: len(resent),
			Message: fmt.Sprintf("%d events re-sent with another vnd.mailevents.source or chain value (read again from a rotated file after a crash; the sealed copies verify) in %s", len(resent), rangesText(rs))})
	}
}

// resentOf reports whether x is a copy of a sealed event at its seq that
// differs from it only in where it was read and so in its chain value.
func (st *streamData) resentOf(x *variant) bool {
	for y := range st.at(x.seq) {
		if y != x && y.covered && y.id == x.id && y.content == x.content {
			return true
		}
	}
	return false
}

// ranges turns sorted seqs into runs of consecutive ones.
func ranges(seqs []int64) [][2]int64 {
	var out [][2]int64
	for _, s := range seqs {
		if n := len(out); n > 0 && (s == out[n-1][1] || s == out[n-1][1]+1) {
			out[n-1][1] = s
			continue
		}
		out = append(out, [2]int64{s, s})
	}
	return out
}

func seqRange(a, b int64) string {
	if a == b {
		return fmt.Sprintf("seq %d", a)
	}
	return fmt.Sprintf("seq %d–%d", a, b)
}

func rangesText(rs [][2]int64) string {
	var parts []string
	for i, r := range rs {
		if i == 8 {
			parts = append(parts, fmt.Sprintf("and %d more ranges", len(rs)-i))
			break
		}
		parts = append(parts, strings.TrimPrefix(seqRange(r[0], r[1]), "seq "))
	}
	return "seq " + strings.Join(parts, ", ")
}

// kindOrder lists the kinds as a reader wants them: what was lost or
// changed before what it entails (a gap leaves the events before it
// unsealed).
var kindOrder = []string{
	KindEmpty, KindUnreadable, KindMalformed, KindUnsealedRecord, KindGap, KindTruncated, KindAltered, KindReordered,
	KindBadSeal, KindRestartNoSeal, KindUnsealed, KindUnsealedTail, KindOpen,
	KindRestart, KindDuplicate, KindResentDiffers,
}

// sortFindings puts problems before notes, then orders by kind and seq.
func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		if a.Severity != b.Severity {
			if a.Severity == Problem {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(slices.Index(kindOrder, a.Kind), slices.Index(kindOrder, b.Kind)); c != 0 {
			return c
		}
		return cmp.Compare(a.From, b.From)
	})
}
