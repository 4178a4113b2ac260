package seal

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/mailevents/mailevents/event"
)

// The generators of this file make random events, for the canonical
// encoding, and random sealed archives, for the verifier.

// pieces of strings: what JSON escapes, what JCS escapes differently from
// the event encoder (\b, \f), UTF-8 of every length, U+2028, and bytes that
// are not UTF-8 (the encoder writes U+FFFD for each).
var pieces = []string{
	"a", "Z", "0", " ", "alice@example.org", "INBOX", `"`, `\`, "/", "<", "&", "\n", "\r", "\t", "\b", "\f",
	"\x00", "\x01", "\x1f", "\x7f", "é", "€", "\u2028", "😀", "\xff", "\xc3", "\xed\xa0\x80", "Entwürfe",
}

func randomString(r *rand.Rand, exotic bool) string {
	var b strings.Builder
	n := r.IntN(8)
	for range n {
		if exotic {
			b.WriteString(pieces[r.IntN(len(pieces))])
		} else {
			b.WriteString(pieces[r.IntN(5)])
		}
	}
	return b.String()
}

func randomInt(r *rand.Rand) int64 {
	switch r.IntN(6) {
	case 0:
		return -r.Int64N(1 << 62)
	case 1:
		return r.Int64() // mostly beyond 2^53: JCS writes it as a double
	case 2:
		return 1<<53 + r.Int64N(3) - 1
	}
	return r.Int64N(100000)
}

// randomJSON writes a JSON value with what JCS changes: member order (keys
// whose UTF-16 and UTF-8 orders differ), number forms, escapes.
func randomJSON(r *rand.Rand, depth int) string {
	switch k := r.IntN(8); {
	case k == 0 && depth < 3:
		var parts []string
		for range r.IntN(4) {
			parts = append(parts, randomJSON(r, depth+1))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case k == 1 && depth < 3:
		keys := []string{"b", "a", "offset", "file", "€", "😀", "\uff61", "é", "A"}
		r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		var parts []string
		for _, key := range keys[:r.IntN(len(keys))] {
			parts = append(parts, jsonString(key)+" : "+randomJSON(r, depth+1))
		}
		return "{" + strings.Join(parts, ",") + "}"
	case k == 2:
		return []string{"1.50", "1e3", "-0", "0.1", "1E21", "123456789012345678901", "-7", "2.5e-7"}[r.IntN(8)]
	case k == 3:
		return []string{"true", "false", "null"}[r.IntN(3)]
	case k == 4:
		return `"\u00e9\/\u0041\n\u001f"`
	}
	return jsonString(strings.ToValidUTF8(randomString(r, true), "?"))
}

func jsonString(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

var vendorNames = []string{
	"vnd.mailevents.msgid", "vnd.mailevents.tls", "vnd.cmu.midset", "vnd.cmu.sessionId", "vnd.x.Y", "vnd.a",
	"vnd.mailevents.reason", "vnd.z!#$%&'()*+,-./:;<=>?@[]^_`{|}~", "vnd.mailevents.zz",
}

// randomEvent makes an event with random parameters. exotic adds values
// that only the canonical encoding tests need; the archives get events that
// look like the pipeline's.
func randomEvent(r *rand.Rand, exotic bool) event.Event {
	types := append(event.RFCTypes[:len(event.RFCTypes):len(event.RFCTypes)], event.LoginFailed)
	e := event.New(types[r.IntN(len(types))])
	for _, p := range event.RFCParams {
		if r.IntN(3) != 0 {
			continue
		}
		if p.IsNumeric() {
			if exotic {
				e.SetInt(p, randomInt(r))
			} else {
				e.SetInt(p, r.Int64N(70000))
			}
			continue
		}
		e.Set(p, event.String(randomString(r, exotic)))
	}
	for range r.IntN(4) {
		p := event.Param(vendorNames[r.IntN(len(vendorNames))])
		switch r.IntN(4) {
		case 0:
			e.Set(p, event.String(randomString(r, exotic)))
		case 1:
			e.SetInt(p, randomInt(r))
		case 2:
			e.Set(p, event.Bool(r.IntN(2) == 0))
		default:
			if !exotic {
				e.SetInt(p, r.Int64N(10))
				continue
			}
			v, err := event.RawJSON([]byte(randomJSON(r, 0)))
			if err != nil {
				panic(err)
			}
			e.Set(p, v)
		}
	}
	name := "/var/log/mail.log"
	if exotic {
		name = strings.ToValidUTF8(randomString(r, true), "\uFFFD")
	}
	if r.IntN(3) == 0 {
		e.Set(event.Source, event.SourceStream(name, r.Int64N(1<<40)))
	} else {
		e.Set(event.Source, event.SourceFile(name, r.Int64N(1<<40)))
	}
	var id [16]byte
	for i := range id {
		id[i] = byte(r.Uint32())
	}
	e.SetString(event.ID, hex.EncodeToString(id[:]))
	return e
}

// testKey is a fixed key, so that failures replay.
var testKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))

// archive is a sealed archive being written, line by line, by one or more
// streams, with the crashes and seals a test asks for.
type archive struct {
	t     testing.TB
	r     *rand.Rand
	lines [][]byte
	info  []lineInfo
	clock time.Time
}

type lineInfo struct {
	stream string
	seq    int64
	seal   bool
	final  bool
	copy   bool // a byte-identical copy of an earlier line
}

// writer is one stream and the events it has written, so that a crash can
// make it write them again from a saved state.
type writer struct {
	a      *archive
	s      *Stream
	seed   uint64
	n      int    // events stamped
	saved  []byte // state at the last save
	savedN int
	source string // the file name events are read from
}

func newArchive(t testing.TB, seed uint64) *archive {
	return &archive{t: t, r: rand.New(rand.NewPCG(seed, seed^0x5ea1)), clock: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
}

func (a *archive) stream(id string) *writer {
	s, err := NewStream(id, NewSigner(testKey), time.Minute)
	if err != nil {
		a.t.Fatal(err)
	}
	w := &writer{a: a, s: s, seed: a.r.Uint64(), source: "/var/log/mail.log"}
	w.save()
	return w
}

// event i of a writer is the same whenever it is written again.
func (w *writer) event(i int) event.Event {
	e := randomEvent(rand.New(rand.NewPCG(w.seed, uint64(i))), false)
	e.Set(event.Source, event.SourceFile(w.source, int64(i)*100))
	return e
}

func (w *writer) emit(i int, copy bool) {
	e := w.event(i)
	w.s.Stamp(&e)
	w.a.lines = append(w.a.lines, e.AppendJSON(nil))
	w.a.info = append(w.a.info, lineInfo{stream: w.s.ID(), seq: w.s.Seq(), copy: copy})
}

// write writes n more events.
func (w *writer) write(n int) {
	for range n {
		w.emit(w.n, false)
		w.n++
	}
}

func (w *writer) seal(final bool) {
	w.a.clock = w.a.clock.Add(time.Minute)
	e := w.s.Seal(w.a.clock, final)
	w.s.Written()
	w.a.lines = append(w.a.lines, e.AppendJSON(nil))
	w.a.info = append(w.a.info, lineInfo{stream: w.s.ID(), seq: w.s.Seq(), seal: true, final: final})
}

// save is the daemon's checkpoint save: the state of this moment.
func (w *writer) save() {
	w.saved, w.savedN = w.s.MarshalState(), w.n
}

// crash goes back to the last save and writes again what followed it: the
// copies are byte-identical to their first copies.
func (w *writer) crash() {
	if err := w.s.LoadState(w.saved); err != nil {
		w.a.t.Fatal(err)
	}
	for i := w.savedN; i < w.n; i++ {
		w.emit(i, true)
	}
}

// step does one random thing of a stream's life: events, then maybe a
// save, a seal and save (as the daemon does them), or a crash. It reports
// whether the stream has written events and crashed as often as asked.
func (w *writer) step(events int, crashes *int) bool {
	w.write(1 + w.a.r.IntN(5))
	switch k := w.a.r.IntN(10); {
	case k < 3:
		w.save()
	case k < 5:
		w.seal(false)
		w.save()
	case k == 5 && *crashes > 0:
		w.crash()
		*crashes--
	}
	return w.n >= events && *crashes == 0
}

// interleave runs several streams into one file, each to its final seal.
func interleave(ws []*writer, events, crashes int) {
	left := make([]int, len(ws))
	for i := range left {
		left[i] = crashes
	}
	done := make([]bool, len(ws))
	for n := len(ws); n > 0; {
		i := ws[0].a.r.IntN(len(ws))
		if done[i] {
			continue
		}
		if ws[i].step(events, &left[i]) {
			ws[i].seal(true)
			done[i] = true
			n--
		}
	}
}

// text is the archive as a file.
func (a *archive) text() []byte {
	return append(bytes.Join(a.lines, []byte("\n")), '\n')
}

// verify feeds a file's text to a verifier, line by line.
func verifyText(text []byte, live bool) *Report {
	v := NewVerifier(Options{Keys: []ed25519.PublicKey{testKey.Public().(ed25519.PublicKey)}, Live: live})
	for i, line := range bytes.Split(bytes.TrimSuffix(text, []byte("\n")), []byte("\n")) {
		v.Add(Pos{Input: "archive.jsonl", Line: int64(i + 1)}, line)
	}
	return v.Finish()
}

// findings returns every finding of a report, its streams' included.
func findings(rep *Report) []Finding {
	out := append([]Finding(nil), rep.Findings...)
	for _, s := range rep.Streams {
		out = append(out, s.Findings...)
	}
	return out
}

func hasKind(rep *Report, kinds ...string) bool {
	for _, f := range findings(rep) {
		for _, k := range kinds {
			if f.Kind == k {
				return true
			}
		}
	}
	return false
}

func problems(rep *Report) []Finding {
	var out []Finding
	for _, f := range findings(rep) {
		if f.Severity == Problem {
			out = append(out, f)
		}
	}
	return out
}

func describe(rep *Report) string {
	var b bytes.Buffer
	_ = rep.WriteText(&b)
	return b.String()
}

// respell writes a JSON line again as another program might: members in
// another order, HTML characters escaped, indented.
func respell(t testing.TB, line []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("%v: %s", err, line)
	}
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return bytes.ReplaceAll(out, []byte("\n"), []byte("\u000a")) // another escape of the same string
}
