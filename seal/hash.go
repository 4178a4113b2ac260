package seal

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
)

// hashChunk is how many events' canonical bytes one hashing goroutine
// takes. Small chunks keep the hashing close behind the encoding, so that
// a write waits little for the last of them; the cost of a goroutine per
// 16 events is lost in the noise (BenchmarkSealOverhead was best here, of
// 8 to 128).
const hashChunk = 16

// hashJob hashes the canonical bytes of consecutive events of a stream on
// a goroutine of its own, continuing from the chain value the job before
// it ends with. Jobs run one after the other, but beside the goroutine
// that encodes the events: SHA-256 is most of what sealing costs.
type hashJob struct {
	canon []byte
	ends  []int
	sums  [][sha256.Size]byte
	h     hash.Hash
	done  chan struct{}
}

func (j *hashJob) run(prev *hashJob, chain [sha256.Size]byte) {
	if prev != nil {
		<-prev.done
		chain = prev.sums[len(prev.sums)-1]
	}
	from := 0
	for _, end := range j.ends {
		j.h.Reset()
		j.h.Write(chain[:])
		j.h.Write(j.canon[from:end])
		j.h.Sum(chain[:0])
		j.sums = append(j.sums, chain)
		from = end
	}
	close(j.done)
}

// job returns the job being filled.
func (s *Stream) job() *hashJob {
	if s.cur == nil {
		if n := len(s.spare); n > 0 {
			s.cur, s.spare = s.spare[n-1], s.spare[:n-1]
			s.cur.canon, s.cur.ends, s.cur.sums = s.cur.canon[:0], s.cur.ends[:0], s.cur.sums[:0]
		} else {
			s.cur = &hashJob{canon: make([]byte, 0, hashChunk<<10), h: sha256.New()}
		}
	}
	return s.cur
}

// launch starts hashing the job being filled.
func (s *Stream) launch() {
	j := s.cur
	if j == nil || len(j.ends) == 0 {
		return
	}
	j.done = make(chan struct{})
	go j.run(s.last, s.chain)
	s.sent = append(s.sent, j)
	s.last, s.cur = j, nil
}

// sync waits for every chain value AppendStamped has asked for, so that
// the stream's head is its last event's.
func (s *Stream) sync() {
	s.launch()
	for _, j := range s.sent {
		<-j.done
		s.ready = append(s.ready, j.sums...)
		s.spare = append(s.spare, j)
	}
	if len(s.sent) > 0 {
		s.chain = s.ready[len(s.ready)-1]
	}
	clear(s.sent)
	s.sent, s.last = s.sent[:0], nil
}

// Collect completes the events AppendStamped wrote since the last Collect:
// it calls fill with the chain value of each, in order, as the 64 hex
// digits to put in its placeholder.
func (s *Stream) Collect(fill func(chainHex []byte)) {
	s.sync()
	var h [2 * sha256.Size]byte
	for _, c := range s.ready {
		hex.Encode(h[:], c[:])
		fill(h[:])
	}
	s.ready = s.ready[:0]
}
