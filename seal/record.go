package seal

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/gowebpki/jcs"

	"github.com/mailevents/mailevents/event"
)

// record is what verification needs of one line: the sealing parameters
// and the canonical bytes, found in the RFC 8785 form of the line so that
// any re-serialisation of the JSON gives the same result.
type record struct {
	seal      bool // a vnd.mailevents.Seal record, else an event
	stream    string
	seq       int64
	chain     [sha256.Size]byte
	id        string
	final     bool
	key       string
	signature []byte
	timestamp string
	// canon is the canonical text without the chain (an event) or
	// without the signature (a seal): what is hashed or signed.
	canon []byte
	// content hashes the canonical text without the chain and the
	// source, to recognise an event read again from another file.
	content [sha256.Size]byte
}

// errUnsealed marks an event without sealing parameters.
var errUnsealed = errors.New("an event without vnd.mailevents.stream, vnd.mailevents.seq and vnd.mailevents.chain")

// member is one top-level member of a canonical object: its raw key and
// the span of the whole member in the text.
type member struct {
	key              string
	start, val, stop int
}

// parseRecord reads one line. A line that is not an I-JSON object, or whose
// sealing parameters are missing or malformed, is an error.
func parseRecord(line []byte) (record, error) {
	var r record
	c, err := jcs.Transform(line)
	if err != nil {
		return r, fmt.Errorf("not canonicalisable JSON (RFC 8785): %w", err)
	}
	members, err := topMembers(c)
	if err != nil {
		return r, err
	}
	var typ string
	have := map[string]bool{}
	for _, m := range members {
		v := c[m.val:m.stop]
		have[m.key] = true
		switch m.key {
		case "event":
			err = json.Unmarshal(v, &typ)
		case string(StreamParam):
			err = json.Unmarshal(v, &r.stream)
		case string(SeqParam):
			r.seq, err = strconv.ParseInt(string(v), 10, 64)
			if err == nil && r.seq < 0 {
				err = errors.New("negative")
			}
		case string(ChainParam):
			var s string
			if err = json.Unmarshal(v, &s); err == nil {
				var b []byte
				if b, err = hex.DecodeString(s); err == nil && (len(b) != sha256.Size || s != hex.EncodeToString(b)) {
					err = errors.New("not 64 lowercase hexadecimal digits")
				}
				if err == nil {
					r.chain = [sha256.Size]byte(b)
				}
			}
		case string(event.ID):
			err = json.Unmarshal(v, &r.id)
		case string(FinalParam):
			err = json.Unmarshal(v, &r.final)
		case string(KeyParam):
			err = json.Unmarshal(v, &r.key)
		case string(SignatureParam):
			var s string
			if err = json.Unmarshal(v, &s); err == nil {
				r.signature, err = base64.StdEncoding.Strict().DecodeString(s)
			}
		case string(event.Timestamp):
			err = json.Unmarshal(v, &r.timestamp)
		}
		if err != nil {
			return r, fmt.Errorf("%s: %w", m.key, err)
		}
	}
	if !have["event"] {
		return r, errors.New(`no "event" member`)
	}
	r.seal = typ == string(event.Seal)
	sealing := []string{string(StreamParam), string(SeqParam), string(ChainParam)}
	if r.seal {
		sealing = append(sealing, string(KeyParam), string(SignatureParam), string(FinalParam), string(event.Timestamp))
	}
	missing := 0
	for _, k := range sealing {
		if !have[k] {
			missing++
		}
	}
	switch {
	case !r.seal && missing == 3:
		return r, errUnsealed
	case missing > 0:
		return r, fmt.Errorf("%s lacks some of %q", typ, sealing)
	case !r.seal && r.seq == 0:
		return r, errors.New("vnd.mailevents.seq: an event's seq starts at 1")
	}
	skip := string(ChainParam)
	if r.seal {
		skip = string(SignatureParam)
	}
	r.canon = without(nil, c, members, skip, "")
	if !r.seal {
		r.content = sha256.Sum256(without(nil, c, members, string(ChainParam), string(event.Source)))
	}
	return r, nil
}

// without writes the canonical object c with the members named a and b
// left out.
func without(dst, c []byte, members []member, a, b string) []byte {
	dst = append(dst, '{')
	first := true
	for _, m := range members {
		if m.key == a || m.key == b {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, c[m.start:m.stop]...)
	}
	return append(dst, '}')
}

// topMembers splits a canonical (compact, valid) JSON object into its
// members.
func topMembers(c []byte) ([]member, error) {
	if len(c) < 2 || c[0] != '{' {
		return nil, errors.New("not a JSON object")
	}
	var out []member
	i := 1
	for i < len(c) && c[i] != '}' {
		if c[i] == ',' {
			i++
		}
		start := i
		kend := skipValue(c, i)
		key := string(c[start+1 : kend-1])
		val := kend + 1 // past ':'
		stop := skipValue(c, val)
		out = append(out, member{key: key, start: start, val: val, stop: stop})
		i = stop
	}
	return out, nil
}

// skipValue returns the index just after the JSON value starting at i.
func skipValue(c []byte, i int) int {
	switch c[i] {
	case '"':
		for j := i + 1; j < len(c); j++ {
			switch c[j] {
			case '\\':
				j++
			case '"':
				return j + 1
			}
		}
		return len(c)
	case '{', '[':
		depth := 0
		for j := i; j < len(c); j++ {
			switch c[j] {
			case '"':
				j = skipValue(c, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(c)
	}
	j := i
	for j < len(c) && c[j] != ',' && c[j] != '}' && c[j] != ']' {
		j++
	}
	return j
}
