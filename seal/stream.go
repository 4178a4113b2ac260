package seal

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mailevents/mailevents/event"
)

// The parameters of a sealed stream (RFC 5423 §6 vendor names). Every
// event of the stream carries StreamParam, SeqParam and ChainParam; a seal
// carries all six.
const (
	StreamParam    event.Param = "vnd.mailevents.stream"
	SeqParam       event.Param = "vnd.mailevents.seq"
	ChainParam     event.Param = "vnd.mailevents.chain"
	FinalParam     event.Param = "vnd.mailevents.final"
	KeyParam       event.Param = "vnd.mailevents.key"
	SignatureParam event.Param = "vnd.mailevents.signature"
)

// SealServer is the vnd.mailevents.server of a seal: mailevents, not a
// message store, wrote what it says.
const SealServer = "mailevents"

// DefaultInterval is how often a stream that advances is sealed when its
// configuration does not say.
const DefaultInterval = time.Minute

// genesisPrefix separates the genesis value from any other use of SHA-256
// over a stream's name.
const genesisPrefix = "mailevents-seal-v1\x00"

// Genesis is the chain value before a stream's first event. It depends on
// the stream id only, so a stream that starts over (its state lost) starts
// from the same value at seq 1 again, which a verifier sees.
func Genesis(stream string) [sha256.Size]byte {
	return sha256.Sum256([]byte(genesisPrefix + stream))
}

// DefaultID is the stream id of a sink whose configuration names none.
func DefaultID(host, sink string) string { return host + "/" + sink }

// ValidateID checks a stream id: 1 to 200 bytes of UTF-8 without control
// characters, since it is written into every event and into the checkpoint.
func ValidateID(id string) error {
	switch {
	case id == "":
		return errors.New("empty stream id")
	case len(id) > 200:
		return fmt.Errorf("stream id of %d bytes, over the limit of 200", len(id))
	case !utf8.ValidString(id):
		return errors.New("stream id is not UTF-8")
	}
	for _, r := range id {
		if unicode.IsControl(r) {
			return fmt.Errorf("stream id %q holds a control character", id)
		}
	}
	return nil
}

// Stream is the sealing state of one output: the id, the last seq and
// chain value, and when it was last sealed. It is used by one goroutine.
type Stream struct {
	id       string
	idValue  event.Value
	signer   *Signer
	interval time.Duration

	seq         int64
	chain       [sha256.Size]byte
	sealedSeq   int64
	sealedFinal bool
	sealedAt    time.Time
	dirty       bool
	// unwritten is the seal returned by Seal until Written confirms
	// that the sink has it: only then does the state record it.
	unwritten *sealMark

	// The scratch of Stamp and AppendStamped.
	streamMember []byte      // `,"vnd.mailevents.stream":"ID"`
	canon        []byte      // the previous chain value, then the canonical bytes
	cuts         []cut       // where the canonical bytes differ from the line
	fix          []byte      // the canonical text of the cuts
	source       knownSource // the last vnd.mailevents.source seen
}

// NewStream starts stream id at its genesis; LoadState continues a saved
// one. interval <= 0 means DefaultInterval.
func NewStream(id string, signer *Signer, interval time.Duration) (*Stream, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	if signer == nil {
		return nil, errors.New("seal: a stream needs a signer")
	}
	if interval <= 0 {
		interval = DefaultInterval
	}
	return &Stream{
		id: id, idValue: event.String(id), signer: signer, interval: interval,
		chain: Genesis(id), sealedAt: time.Now(), canon: make([]byte, 0, 1024),
		streamMember: event.AppendJSONString([]byte(`,"vnd.mailevents.stream":`), id),
	}, nil
}

// ID returns the stream id.
func (s *Stream) ID() string { return s.id }

// Seq returns the seq of the last event stamped.
func (s *Stream) Seq() int64 { return s.seq }

// Head returns the chain value of the last event stamped (the genesis
// value before the first).
func (s *Stream) Head() [sha256.Size]byte {
	return s.chain
}

// Stamp makes ev the stream's next event: it sets vnd.mailevents.stream,
// the next vnd.mailevents.seq, and vnd.mailevents.chain, the SHA-256 of the
// previous chain value followed by ev's canonical bytes. It is the plain
// statement of what sealing does; the pipeline uses AppendStamped, which
// writes the same line faster and leaves a shared event alone.
func (s *Stream) Stamp(ev *event.Event) {
	s.seq++
	ev.Set(StreamParam, s.idValue)
	ev.Set(SeqParam, event.Int(s.seq))
	s.canon = AppendCanonical(append(s.canon[:0], s.chain[:]...), ev)
	s.chain = sha256.Sum256(s.canon)
	var h [2 * sha256.Size]byte
	hex.Encode(h[:], s.chain[:])
	ev.Set(ChainParam, event.String(string(h[:])))
	s.dirty = true
}

// Due reports whether a seal should be written now: at the end (final),
// unless the last seal was a final one at the same seq; otherwise once the
// stream has advanced and the interval has passed since the last seal.
// A stream without events is never sealed.
func (s *Stream) Due(now time.Time, final bool) bool {
	if s.seq == 0 {
		return false
	}
	if final {
		return !s.sealedFinal || s.sealedSeq != s.seq
	}
	return s.seq > s.sealedSeq && now.Sub(s.sealedAt) >= s.interval
}

// Seal returns the signed seal record of the stream as it is now. final
// marks the seal written when the stream's writer stops. The caller
// releases the event once encoded, and calls Written once the sink has
// acknowledged it.
func (s *Stream) Seal(now time.Time, final bool) event.Event {
	e := event.New(event.Seal)
	e.SetTimestamp(now.UTC(), 6)
	e.Set(StreamParam, s.idValue)
	e.SetInt(SeqParam, s.seq)
	e.SetString(ChainParam, hex.EncodeToString(s.chain[:]))
	e.Set(FinalParam, event.Bool(final))
	e.SetString(KeyParam, s.signer.KeyID())
	e.SetString(event.Server, SealServer)
	// The output format gives every record an id; a seal's comes from
	// what it says, so that a copy re-sent has the same one, and is signed
	// with the rest.
	sum := sha256.Sum256(appendCanonical(nil, &e, SignatureParam))
	e.SetString(event.ID, hex.EncodeToString(sum[:16]))
	sig := s.signer.sign(appendCanonical(nil, &e, SignatureParam))
	e.SetString(SignatureParam, base64.StdEncoding.EncodeToString(sig))
	s.unwritten = &sealMark{seq: s.seq, final: final, at: now}
	return e
}

// Written records that everything Seal returned so far has been written:
// the last seal is then the stream's last seal. A seal that was never
// written is not recorded, so that the next one is not skipped for it.
func (s *Stream) Written() {
	if m := s.unwritten; m != nil {
		s.sealedSeq, s.sealedFinal, s.sealedAt = m.seq, m.final, m.at
		s.unwritten = nil
		s.dirty = true
	}
}

// StateKey names the stream's state in the checkpoint: the id, or a hash
// of it when the id is longer than a checkpoint state name may be.
func (s *Stream) StateKey() string {
	if len(s.id) <= maxStateKey {
		return s.id
	}
	sum := sha256.Sum256([]byte(s.id))
	return "sha256:" + hex.EncodeToString(sum[:24])
}

// maxStateKey leaves room for the daemon's prefix within the checkpoint's
// limit of 128 bytes per state name.
const maxStateKey = 112

// Dirty reports whether the state changed since MarkSaved.
func (s *Stream) Dirty() bool { return s.dirty }

// MarkSaved records that the state as it is now was saved.
func (s *Stream) MarkSaved() { s.dirty = false }

type sealMark struct {
	seq   int64
	final bool
	at    time.Time
}

type state struct {
	Stream      string    `json:"stream"`
	Seq         int64     `json:"seq"`
	Chain       string    `json:"chain"`
	SealedSeq   int64     `json:"sealed_seq"`
	SealedFinal bool      `json:"sealed_final,omitempty"`
	SealedAt    time.Time `json:"sealed_at"`
}

// MarshalState returns the state to save with the checkpoint. Saved at a
// moment when every stamped event is acknowledged, it lets a restarted
// daemon give the events it reads again the seq and chain values of their
// first copies.
func (s *Stream) MarshalState() []byte {
	b, _ := json.Marshal(state{
		Stream: s.id, Seq: s.seq, Chain: hex.EncodeToString(s.chain[:]),
		SealedSeq: s.sealedSeq, SealedFinal: s.sealedFinal, SealedAt: s.sealedAt.UTC(),
	})
	return b
}

// LoadState continues the stream from a saved state.
func (s *Stream) LoadState(data []byte) error {
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("seal state of %s: %w", s.id, err)
	}
	chain, err := hex.DecodeString(st.Chain)
	switch {
	case st.Stream != s.id:
		return fmt.Errorf("seal state of %s names the stream %q", s.id, st.Stream)
	case err != nil || len(chain) != sha256.Size:
		return fmt.Errorf("seal state of %s: chain %q is not 64 hexadecimal digits", s.id, st.Chain)
	case st.Seq < 0 || st.SealedSeq < 0 || st.SealedSeq > st.Seq:
		return fmt.Errorf("seal state of %s: seq %d, sealed seq %d", s.id, st.Seq, st.SealedSeq)
	case st.Seq == 0 && [sha256.Size]byte(chain) != Genesis(s.id):
		return fmt.Errorf("seal state of %s: seq 0 with a chain value other than the genesis", s.id)
	}
	s.seq, s.chain = st.Seq, [sha256.Size]byte(chain)
	s.sealedSeq, s.sealedFinal, s.sealedAt = st.SealedSeq, st.SealedFinal, st.SealedAt
	s.dirty = false
	return nil
}
