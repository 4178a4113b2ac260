package seal

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"iter"
	"slices"
	"strconv"
)

// Pos is where a record was read: a file and its line, or a Kafka
// partition and the message's offset.
type Pos struct {
	Input  string // a file name, "-" for stdin, or kafka:TOPIC/PARTITION
	Line   int64  // from 1; 0 for a Kafka message
	Offset int64  // the Kafka offset
}

func (p Pos) String() string {
	if p.Line > 0 {
		return p.Input + ":" + strconv.FormatInt(p.Line, 10)
	}
	return p.Input + "@" + strconv.FormatInt(p.Offset, 10)
}

// Options tune a Verifier.
type Options struct {
	// Keys are the public keys whose seals are trusted.
	Keys []ed25519.PublicKey
	// Live accepts a stream that is still being written: events after the
	// last seal, and a last seal that is not final, are notes instead of
	// problems.
	Live bool
}

// Verifier checks sealed streams record by record: Add every record of
// every input in the input's order, then Finish. Inputs may hold several
// streams, and one stream may be spread over several inputs (Kafka
// partitions); a stream is put in seq order whatever the order of its
// inputs. It keeps about two hundred bytes per event, and the canonical
// bytes of an event only until the event before it has been read.
type Verifier struct {
	opts    Options
	keys    map[string]ed25519.PublicKey
	streams map[string]*streamData
	order   []string // stream ids, in order of appearance
	inputs  []string
	records int64       // also the reading order of the one read last
	general findingList // not of one stream: malformed and unsealed records
	h       hash.Hash
}

// NewVerifier returns a Verifier that trusts the seals of keys.
func NewVerifier(opts Options) *Verifier {
	v := &Verifier{opts: opts, keys: map[string]ed25519.PublicKey{}, streams: map[string]*streamData{}, h: sha256.New()}
	for _, k := range opts.Keys {
		v.keys[KeyID(k)] = k
	}
	return v
}

type linkState uint8

const (
	pending linkState = iota // not linked yet: the event before it may come later
	linked                   // hashes to its chain value from the one before it (or the genesis)
	altered                  // hashes to its chain value from nothing there is
	orphan                   // the event before it is missing: nothing to hash from
)

// variant is one distinct event at a seq: its copies are byte-identical
// in canonical form and carry the same chain value. It is kept small, as
// there is one per event of an archive.
type variant struct {
	chain     [sha256.Size]byte
	canonHash [16]byte // of the canonical bytes: with chain, what a copy shares
	content   [16]byte // of the canonical bytes without chain and source
	seq       int64
	id        string
	parent    *variant
	next      *variant // the next variant at the same seq
	more      *pendingBytes
	order     int64 // reading order of the first copy
	at        int64 // where the first copy is: its line, or -(offset+1)
	input     int32
	copies    int32
	inc       int32 // which start of the stream it descends from; -1: unknown
	state     linkState
	covered   bool
	final     bool // a final seal names it
}

// pendingBytes is what a variant needs until it is linked, and after, when
// it is altered: its canonical bytes, and the chain values it would have
// from the events before it (the value an event after it may hash from
// when only the chain value in this one was changed).
type pendingBytes struct {
	canon []byte
	alt   [][sha256.Size]byte
}

func (x *variant) canon() []byte {
	if x.more == nil {
		return nil
	}
	return x.more.canon
}

func (x *variant) alt() [][sha256.Size]byte {
	if x.more == nil {
		return nil
	}
	return x.more.alt
}

type sealData struct {
	seq       int64
	chain     [sha256.Size]byte
	final     bool
	key       string
	timestamp string
	where     Pos
	order     int64
	err       error // why it does not verify
	inc       int32 // the start of the stream of the event it names
}

// logRec is one record of an input, in the input's order, for the check
// of order made once every input has been read.
type logRec struct {
	x  *variant  // an event
	s  *sealData // or a seal
	at int64     // as variant.at
}

type streamData struct {
	id       string
	genesis  [sha256.Size]byte
	bySeq    map[int64]*variant // the first variant at each seq
	maxSeq   int64
	seals    []*sealData
	logs     map[string][]logRec // by input
	firstIDs []string            // ids at seq 1, in order of appearance: one per start of the stream
	records  int
	findings findingList
}

// Add verifies one record read at pos. Lines that are empty are skipped.
func (v *Verifier) Add(pos Pos, line []byte) {
	if len(line) == 0 {
		return
	}
	input := slices.Index(v.inputs, pos.Input)
	if input < 0 {
		input = len(v.inputs)
		v.inputs = append(v.inputs, pos.Input)
	}
	v.records++
	r, err := parseRecord(line)
	if errors.Is(err, errUnsealed) {
		v.general.add(Finding{Kind: KindUnsealedRecord, Severity: Problem, Where: pos.String(),
			Message: "an event without sealing parameters (vnd.mailevents.stream, seq, chain)"})
		return
	}
	if err != nil {
		v.general.add(Finding{Kind: KindMalformed, Severity: Problem, Where: pos.String(), Message: err.Error()})
		return
	}
	st := v.stream(r.stream)
	st.records++
	if r.seal {
		st.logs[pos.Input] = append(st.logs[pos.Input], logRec{s: v.addSeal(st, pos, &r), at: posAt(pos)})
		return
	}
	st.logs[pos.Input] = append(st.logs[pos.Input], logRec{x: v.addEvent(st, int32(input), pos, &r), at: posAt(pos)})
}

func (v *Verifier) stream(id string) *streamData {
	st := v.streams[id]
	if st == nil {
		st = &streamData{id: id, genesis: Genesis(id), bySeq: map[int64]*variant{}, logs: map[string][]logRec{}}
		v.streams[id] = st
		v.order = append(v.order, id)
	}
	return st
}

func (v *Verifier) addSeal(st *streamData, pos Pos, r *record) *sealData {
	s := &sealData{seq: r.seq, chain: r.chain, final: r.final, key: r.key, timestamp: r.timestamp, where: pos, order: v.records, inc: -1}
	switch pub, ok := v.keys[r.key]; {
	case !ok:
		s.err = fmt.Errorf("signed by key %s, which is not among the keys given", r.key)
	case !ed25519.Verify(pub, r.canon, r.signature):
		s.err = errors.New("the signature does not verify: the seal was changed or not made with this key")
	}
	st.seals = append(st.seals, s)
	st.maxSeq = max(st.maxSeq, r.seq)
	return s
}

func (v *Verifier) addEvent(st *streamData, input int32, pos Pos, r *record) *variant {
	sum := sha256.Sum256(r.canon)
	canonHash := [16]byte(sum[:16])
	for x := range st.at(r.seq) {
		if x.chain == r.chain && x.canonHash == canonHash {
			x.copies++
			return x
		}
	}
	if r.seq == 1 && !slices.Contains(st.firstIDs, r.id) {
		st.firstIDs = append(st.firstIDs, r.id)
	}
	st.maxSeq = max(st.maxSeq, r.seq)
	x := &variant{seq: r.seq, id: r.id, chain: r.chain, canonHash: canonHash, content: [16]byte(r.content[:16]),
		more: &pendingBytes{canon: r.canon}, copies: 1, input: input, at: posAt(pos), order: v.records, inc: -1}
	if last := st.bySeq[r.seq]; last == nil {
		st.bySeq[r.seq] = x
	} else {
		for last.next != nil {
			last = last.next
		}
		last.next = x
	}
	if v.link(st, x) {
		v.resolve(st, r.seq+1)
	}
	return x
}

// at yields the variants at seq, in the order they were read.
func (st *streamData) at(seq int64) iter.Seq[*variant] {
	return func(yield func(*variant) bool) {
		for x := st.bySeq[seq]; x != nil; x = x.next {
			if !yield(x) {
				return
			}
		}
	}
}

// posAt packs a position into variant.at.
func posAt(p Pos) int64 {
	if p.Line > 0 {
		return p.Line
	}
	return -(p.Offset + 1)
}

// pos unpacks a position of input.
func (v *Verifier) pos(input int32, at int64) Pos {
	if at > 0 {
		return Pos{Input: v.inputs[input], Line: at}
	}
	return Pos{Input: v.inputs[input], Offset: -at - 1}
}

// link hashes a pending variant from the chain values before it, trying
// the verified ones first, and reports whether one gives its chain value.
func (v *Verifier) link(st *streamData, x *variant) bool {
	try := func(prev [sha256.Size]byte, parent *variant) bool {
		v.h.Reset()
		v.h.Write(prev[:])
		v.h.Write(x.canon())
		var sum [sha256.Size]byte
		if [sha256.Size]byte(v.h.Sum(sum[:0])) != x.chain {
			return false
		}
		x.parent, x.state, x.more = parent, linked, nil
		return true
	}
	if x.seq == 1 {
		return try(st.genesis, nil)
	}
	for _, state := range []linkState{linked, pending, altered, orphan} {
		for p := range st.at(x.seq - 1) {
			if p.state != state {
				continue
			}
			if try(p.chain, p) {
				return true
			}
			for _, a := range p.alt() {
				if try(a, p) {
					return true
				}
			}
		}
	}
	return false
}

// resolve links the pending variants from seq on that the variants before
// them now allow.
func (v *Verifier) resolve(st *streamData, seq int64) {
	for {
		progress := false
		for x := range st.at(seq) {
			if x.state == pending && v.link(st, x) {
				progress = true
			}
		}
		if !progress {
			return
		}
		seq++
	}
}

// hashFrom is the chain value x would have after prev.
func (v *Verifier) hashFrom(prev [sha256.Size]byte, x *variant) [sha256.Size]byte {
	v.h.Reset()
	v.h.Write(prev[:])
	v.h.Write(x.canon())
	var sum [sha256.Size]byte
	return [sha256.Size]byte(v.h.Sum(sum[:0]))
}

// settle decides, in seq order, what the variants still pending are:
// altered when there are events before them to hash from, orphans when
// there are none (a gap).
func (v *Verifier) settle(st *streamData) []int64 {
	seqs := make([]int64, 0, len(st.bySeq))
	for s := range st.bySeq {
		seqs = append(seqs, s)
	}
	slices.Sort(seqs)
	for _, seq := range seqs {
		for x := range st.at(seq) {
			if x.state != pending || v.link(st, x) {
				continue
			}
			var alt [][sha256.Size]byte
			var prev []*variant
			for p := range st.at(seq - 1) {
				prev = append(prev, p)
			}
			switch {
			case seq == 1:
				x.state = altered
				alt = append(alt, v.hashFrom(st.genesis, x))
			case len(prev) > 0:
				x.state = altered
				if len(prev) == 1 {
					x.parent = prev[0]
				}
				for _, p := range prev {
					alt = append(alt, v.hashFrom(p.chain, x))
					for _, a := range p.alt() {
						alt = append(alt, v.hashFrom(a, x))
					}
				}
			default:
				x.state = orphan
			}
			x.more = nil
			if len(alt) > 0 {
				x.more = &pendingBytes{alt: alt}
			}
		}
	}
	return seqs
}
