package seal

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/mailevents/mailevents/event"
)

func kinds(rep *Report) []string {
	var out []string
	for _, f := range findings(rep) {
		out = append(out, f.Severity+" "+f.Kind)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// A stream whose state was lost starts over from its genesis. After a
// final seal that is a note; without one, what came last before the
// restart cannot be known to be complete.
func TestVerifyRestart(t *testing.T) {
	for _, closed := range []bool{true, false} {
		a := newArchive(t, 11)
		w := a.stream("mail/archive")
		w.write(10)
		w.seal(false)
		w.write(5)
		if closed {
			w.seal(true)
		}
		again := a.stream("mail/archive") // no saved state: the genesis again
		again.write(7)
		again.seal(true)
		rep := verifyText(a.text(), false)
		want := []string{"note restart"}
		if !closed {
			want = []string{"problem restart-without-seal"}
		}
		if got := kinds(rep); !slices.Equal(got, want) || rep.Intact != closed {
			t.Errorf("closed %v: findings %q, intact %v, want %q:\n%s", closed, got, rep.Intact, want, describe(rep))
		}
	}
}

// After a crash, lines read again from a file that rotation renamed differ
// in vnd.mailevents.source, and so in their chain values: a note, since the
// copies that the seals cover verify.
func TestVerifyResentFromRotatedFile(t *testing.T) {
	a := newArchive(t, 12)
	w := a.stream("mail/archive")
	w.write(10)
	w.seal(false)
	w.save()
	w.write(6)
	w.source = "/var/log/mail.log.1"
	w.crash()
	w.write(3)
	w.seal(true)
	rep := verifyText(a.text(), false)
	if got, want := kinds(rep), []string{"note resent-differs"}; !slices.Equal(got, want) || !rep.Intact {
		t.Fatalf("findings %q, want %q:\n%s", got, want, describe(rep))
	}
	if f := findings(rep)[0]; f.From != 11 || f.To != 16 || f.Count != 6 {
		t.Errorf("resent %+v, want seq 11–16, 6 events", f)
	}
}

// An event added with the id and seq of a sealed one but other content,
// and a chain value computed correctly, is no re-send: no seal covers it.
func TestVerifyForgedResend(t *testing.T) {
	a := newArchive(t, 13)
	w := a.stream("mail/archive")
	w.write(8)
	w.save()
	w.write(4)
	w.seal(true)
	forger := newTestStream(t, "mail/archive")
	if err := forger.LoadState(w.saved); err != nil {
		t.Fatal(err)
	}
	e := w.event(8)
	e.SetString(event.User, "mallory@example.org")
	forger.Stamp(&e)
	text := append(a.text(), append(e.AppendJSON(nil), '\n')...)
	rep := verifyText(text, false)
	if rep.Intact || !hasKind(rep, KindUnsealed, KindUnsealedTail) {
		t.Fatalf("a forged copy verifies:\n%s", describe(rep))
	}
}

// Only the chain value of an event changed: that event is named, not the
// one after it, which hashes from the true value.
func TestVerifyAlteredChainValue(t *testing.T) {
	a := newArchive(t, 14)
	w := a.stream("mail/archive")
	w.write(12)
	w.seal(true)
	lines := slices.Clone(a.lines)
	var m map[string]json.RawMessage
	if err := json.Unmarshal(lines[5], &m); err != nil {
		t.Fatal(err)
	}
	old := strings.Trim(string(m["vnd.mailevents.chain"]), `"`)
	lines[5] = bytes.Replace(lines[5], []byte(old), []byte(strings.Repeat("0", 64)), 1)
	rep := verifyText(append(bytes.Join(lines, []byte("\n")), '\n'), false)
	var altered []int64
	for _, f := range findings(rep) {
		if f.Kind == KindAltered {
			altered = append(altered, f.From)
		}
	}
	if !slices.Equal(altered, []int64{6}) || rep.Intact {
		t.Fatalf("altered %v, want [6]:\n%s", altered, describe(rep))
	}
}

// Seals signed by a key the auditor does not hold do not count.
func TestVerifyWrongKey(t *testing.T) {
	a := newRandomArchive(t, 15, 0)
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{8}, 32))
	v := NewVerifier(Options{Keys: []ed25519.PublicKey{other.Public().(ed25519.PublicKey)}})
	for i, l := range a.lines {
		v.Add(Pos{Input: "a", Line: int64(i + 1)}, l)
	}
	rep := v.Finish()
	if rep.Intact || !hasKind(rep, KindBadSeal) {
		t.Fatalf("seals of another key accepted:\n%s", describe(rep))
	}
	for _, s := range rep.Streams {
		if s.Seals != 0 || s.LastSeal != nil {
			t.Errorf("stream %s counts %d seals", s.Stream, s.Seals)
		}
	}
}

// Lines that are not sealed events are problems of their own, and an input
// without any sealed stream is not an intact archive.
func TestVerifyForeignLines(t *testing.T) {
	a := newArchive(t, 16)
	w := a.stream("s")
	w.write(3)
	w.seal(true)
	unsealed := w.event(99)
	text := string(a.text()) + string(unsealed.AppendJSON(nil)) + "\nnot json\n[1,2]\n{\"event\":\"Login\",\"vnd.mailevents.seq\":1}\n\n"
	rep := verifyText([]byte(text), false)
	if got, want := kinds(rep), []string{"problem malformed", "problem unsealed-record"}; !slices.Equal(got, want) || rep.Intact {
		t.Fatalf("findings %q, want %q:\n%s", got, want, describe(rep))
	}
	if n := len(rep.Findings); n != 4 {
		t.Errorf("%d findings for 4 bad lines:\n%s", n, describe(rep))
	}
	if rep := verifyText(nil, false); rep.Intact || !hasKind(rep, KindEmpty) {
		t.Errorf("empty input verifies:\n%s", describe(rep))
	}
}

// The report for a person names each stream, its verdict, its last seal and
// each finding; for a script it is JSON with the same content.
func TestReportFormats(t *testing.T) {
	a := newArchive(t, 17)
	w := a.stream("mail.example.org/archive")
	w.write(4)
	w.save()
	w.write(2)
	w.crash()
	w.seal(true)
	lines := deleteLine(a.lines, 1)
	rep := verifyText(lines, false)
	text := describe(rep)
	for _, want := range []string{
		"stream mail.example.org/archive: NOT INTACT\n",
		"  events: seq 1–6 (5 distinct, 8 records read); seals that verify: 1\n",
		"  last seal: seq 6 at 2026-03-02T09:01:00.000000+00:00, final, key " + KeyID(testKey.Public().(ed25519.PublicKey)) + " (archive.jsonl:8)\n",
		"  problem: gap: seq 2 missing (before the event at seq 3) (archive.jsonl:2)\n",
		"  note: duplicate: 2 copies of events already read",
		"8 records from 1 input, 1 stream: NOT INTACT (",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the text report lacks %q:\n%s", want, text)
		}
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Intact || len(back.Streams) != 1 || back.Streams[0].LastSeal.Seq != 6 || len(back.Streams[0].Findings) != len(rep.Streams[0].Findings) {
		t.Errorf("JSON report %s", b)
	}
}
