package seal

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/gowebpki/jcs"

	"github.com/mailevents/mailevents/event"
)

// trials is how many random archives, and changes to them, each property
// is checked on.
const trials = 150

// newRandomArchive writes one to three streams into one file, with crashes
// (and so byte-identical copies) when asked.
func newRandomArchive(t testing.TB, seed uint64, crashes int) *archive {
	a := newArchive(t, seed)
	var ws []*writer
	for i := range 1 + a.r.IntN(3) {
		ws = append(ws, a.stream(fmt.Sprintf("mail.example.org/sink%d", i)))
	}
	interleave(ws, 10+a.r.IntN(40), crashes)
	return a
}

func (a *archive) copies() int {
	n := 0
	for _, in := range a.info {
		if in.copy {
			n++
		}
	}
	return n
}

// An untouched archive verifies, with as many streams as were written,
// and crash duplicates are a note that counts them.
func TestVerifyUntouched(t *testing.T) {
	t.Parallel()
	total := 0
	for seed := range uint64(trials) {
		crashes := int(seed % 3)
		a := newRandomArchive(t, seed, crashes)
		rep := verifyText(a.text(), false)
		if !rep.Intact || len(problems(rep)) > 0 {
			t.Fatalf("seed %d: untouched archive not intact:\n%s", seed, describe(rep))
		}
		streams := map[string]int64{}
		for _, in := range a.info {
			streams[in.stream] = max(streams[in.stream], in.seq)
		}
		if len(rep.Streams) != len(streams) {
			t.Fatalf("seed %d: %d streams reported, %d written", seed, len(rep.Streams), len(streams))
		}
		dups := 0
		for _, s := range rep.Streams {
			if s.LastSeq != streams[s.Stream] || s.LastSeal == nil || !s.LastSeal.Final || s.LastSeal.Seq != s.LastSeq {
				t.Fatalf("seed %d: stream %s: %+v", seed, s.Stream, s)
			}
			for _, f := range s.Findings {
				if f.Kind == KindDuplicate {
					dups += f.Count
				}
			}
		}
		if dups != a.copies() {
			t.Fatalf("seed %d: %d duplicates reported, %d copies written:\n%s", seed, dups, a.copies(), describe(rep))
		}
		total += dups
	}
	if total < trials/2 {
		t.Fatalf("only %d copies in %d archives: the crashes do not test duplicates", total, trials)
	}
}

// named reports whether a problem points at line (from 1) of the file, or
// at the seq that line held in its stream.
func named(rep *Report, line int, in lineInfo) bool {
	for _, f := range problems(rep) {
		if f.Where == "archive.jsonl:"+strconv.Itoa(line) || f.Where == "archive.jsonl:"+strconv.Itoa(line+1) {
			return true
		}
	}
	for _, s := range rep.Streams {
		if s.Stream != in.stream {
			continue
		}
		for _, f := range s.Findings {
			if f.Severity == Problem && f.From <= in.seq && in.seq <= f.To {
				return true
			}
		}
	}
	return false
}

// canonicalLines is what a change must alter to matter: the RFC 8785 form
// of every line.
func canonicalLines(text []byte) [][]byte {
	var out [][]byte
	for _, l := range bytes.Split(text, []byte("\n")) {
		c, err := jcs.Transform(l)
		if err != nil {
			c = append([]byte("invalid:"), l...)
		}
		out = append(out, c)
	}
	return out
}

// Any single-byte change is either found and named, or leaves every line
// the same JSON (and so changes nothing an auditor relies on).
func TestVerifySingleByteChange(t *testing.T) {
	t.Parallel()
	unchanged := 0
	for seed := range uint64(trials) {
		a := newRandomArchive(t, seed, int(seed%2))
		text := a.text()
		orig := canonicalLines(text)
		for range 6 {
			i := a.r.IntN(len(text) - 1) // the last newline ends the file
			changed := slices.Clone(text)
			changed[i] = byte(a.r.IntN(256))
			if changed[i] == text[i] {
				changed[i]++
			}
			rep := verifyText(changed, false)
			line := bytes.Count(text[:i], []byte("\n"))
			if rep.Intact {
				if !slices.EqualFunc(orig, canonicalLines(changed), bytes.Equal) {
					t.Fatalf("seed %d: byte %d of line %d changed from %q to %q, not detected:\n%s",
						seed, i, line+1, text[i], changed[i], describe(rep))
				}
				unchanged++
				continue
			}
			if !named(rep, line+1, a.info[line]) {
				t.Fatalf("seed %d: byte %d of line %d changed, detected but not named:\n%s", seed, i, line+1, describe(rep))
			}
		}
	}
	if unchanged > trials {
		t.Errorf("%d of %d changes left the JSON as it was: the test changes too little", unchanged, 6*trials)
	}
}

// Deleting an event of which the archive holds one copy leaves a gap that
// names its seq; deleting the final seal leaves the stream open.
func TestVerifyDeletedEvent(t *testing.T) {
	t.Parallel()
	for seed := range uint64(trials) {
		a := newRandomArchive(t, seed, int(seed%2))
		count := map[string]int{}
		for _, in := range a.info {
			count[fmt.Sprint(in.stream, in.seq, in.seal)]++
		}
		var single []int
		for i, in := range a.info {
			if !in.seal && count[fmt.Sprint(in.stream, in.seq, false)] == 1 {
				single = append(single, i)
			}
		}
		i := single[a.r.IntN(len(single))]
		rep := verifyText(deleteLine(a.lines, i), false)
		if rep.Intact || !named(rep, -10, a.info[i]) || !hasKind(rep, KindGap, KindTruncated) {
			t.Fatalf("seed %d: deleting line %d (seq %d) not reported as a gap:\n%s", seed, i+1, a.info[i].seq, describe(rep))
		}
		last := len(a.lines) - 1
		rep = verifyText(deleteLine(a.lines, last), false)
		if rep.Intact || !hasKind(rep, KindOpen, KindUnsealedTail) {
			t.Fatalf("seed %d: deleting the final seal not reported:\n%s", seed, describe(rep))
		}
	}
}

func deleteLine(lines [][]byte, i int) []byte {
	kept := slices.Delete(slices.Clone(lines), i, i+1)
	return append(bytes.Join(kept, []byte("\n")), '\n')
}

// Swapping two events of one stream is reported as a reordering.
func TestVerifySwappedPair(t *testing.T) {
	t.Parallel()
	for seed := range uint64(trials) {
		a := newRandomArchive(t, seed, int(seed%2))
		var i, j int
		for {
			i, j = a.r.IntN(len(a.lines)), a.r.IntN(len(a.lines))
			x, y := a.info[i], a.info[j]
			if !x.seal && !y.seal && x.stream == y.stream && x.seq != y.seq && !x.copy && !y.copy {
				break
			}
		}
		lines := slices.Clone(a.lines)
		lines[i], lines[j] = lines[j], lines[i]
		rep := verifyText(append(bytes.Join(lines, []byte("\n")), '\n'), false)
		if rep.Intact || !hasKind(rep, KindReordered) {
			t.Fatalf("seed %d: lines %d and %d swapped, not reported:\n%s", seed, i+1, j+1, describe(rep))
		}
	}
}

// Cutting the archive anywhere before its end is reported; with --live it
// is what a stream still being written looks like, so notes only.
func TestVerifyTruncatedTail(t *testing.T) {
	t.Parallel()
	for seed := range uint64(trials) {
		a := newRandomArchive(t, seed, int(seed%3))
		k := 1 + a.r.IntN(len(a.lines)-1)
		text := append(bytes.Join(a.lines[:k], []byte("\n")), '\n')
		rep := verifyText(text, false)
		if rep.Intact || !hasKind(rep, KindUnsealedTail, KindOpen, KindTruncated) {
			t.Fatalf("seed %d: cut after line %d of %d not reported:\n%s", seed, k, len(a.lines), describe(rep))
		}
		rep = verifyText(text, true)
		if !rep.Intact || !hasKind(rep, KindUnsealedTail, KindOpen) {
			t.Fatalf("seed %d: --live: cut after line %d is not notes only:\n%s", seed, k, describe(rep))
		}
	}
}

// A topic's partitions hold each stream's events in per-key order, and the
// seals anywhere; read partition by partition, the streams still verify,
// and a swap within one partition is still a reordering.
func TestVerifyPartitions(t *testing.T) {
	t.Parallel()
	pub := testKey.Public().(ed25519.PublicKey)
	swaps := 0
	for seed := range uint64(trials / 3) {
		a := newRandomArchive(t, seed, int(seed%2))
		parts := make([][]int, 3)
		for i, line := range a.lines {
			p := a.r.IntN(3)
			if e, err := event.Decode(line); err == nil && e.GetString(event.User) != "" {
				p = len(e.GetString(event.User)) % 3
			}
			parts[p] = append(parts[p], i)
		}
		feed := func(parts [][]int) *Report {
			v := NewVerifier(Options{Keys: []ed25519.PublicKey{pub}})
			for p, idx := range parts {
				for off, i := range idx {
					v.Add(Pos{Input: "kafka:t/" + strconv.Itoa(p), Offset: int64(off)}, a.lines[i])
				}
			}
			return v.Finish()
		}
		if rep := feed(parts); !rep.Intact {
			t.Fatalf("seed %d: partitioned archive not intact:\n%s", seed, describe(rep))
		}
		// An event with a copy in another partition may come late in
		// either: only events of which there is one copy are swapped.
		count := map[string]int{}
		for _, in := range a.info {
			count[fmt.Sprint(in.stream, in.seq, in.seal)]++
		}
		for p, idx := range parts {
			var events []int
			for k, i := range idx {
				if in := a.info[i]; !in.seal && count[fmt.Sprint(in.stream, in.seq, false)] == 1 {
					events = append(events, k)
				}
			}
			for k := 1; k < len(events); k++ {
				x, y := a.info[idx[events[k-1]]], a.info[idx[events[k]]]
				if x.stream != y.stream {
					continue
				}
				swapped := slices.Clone(parts)
				swapped[p] = slices.Clone(idx)
				swapped[p][events[k-1]], swapped[p][events[k]] = swapped[p][events[k]], swapped[p][events[k-1]]
				if rep := feed(swapped); rep.Intact || !hasKind(rep, KindReordered) {
					t.Fatalf("seed %d: swap in partition %d not reported:\n%s", seed, p, describe(rep))
				}
				swaps++
				break
			}
		}
	}
	if swaps < trials/6 {
		t.Fatalf("only %d swaps tried", swaps)
	}
}

// A consumer that parsed and wrote the lines again (other member order,
// other escapes, indentation on one line) keeps a verifiable archive.
func TestVerifyReserialised(t *testing.T) {
	t.Parallel()
	for seed := range uint64(trials / 3) {
		a := newRandomArchive(t, seed, 1)
		var out [][]byte
		for _, l := range a.lines {
			out = append(out, bytes.ReplaceAll(respell(t, l), []byte("\n"), []byte(" ")))
		}
		if rep := verifyText(append(bytes.Join(out, []byte("\n")), '\n'), false); !rep.Intact {
			t.Fatalf("seed %d: re-serialised archive not intact:\n%s", seed, describe(rep))
		}
	}
}
