package event

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// ComputeID returns the stable id of the ordinal-th event (from 0) of type t
// derived from one source record (a log line, a native notification).
//
// The id depends only on those bytes, never on the file name, offset or time
// of reading: a line read again after a crash, from a rotated file or from a
// backfill of an archive gets the same id, which is what lets an archive drop
// at-least-once duplicates. Two byte-identical lines describe the same facts
// and get the same id; syslog and Dovecot lines carry a timestamp and a
// process or session id, so this does not merge distinct events in practice.
//
// 128 bits of SHA-256, hex: collisions stay negligible for the billions of
// events an archive holds, and SHA-256 is hardware-accelerated on servers.
func ComputeID(record []byte, ordinal int, t Type) string {
	h := sha256.New()
	h.Write(record)
	var tail [64]byte
	b := append(tail[:0], 0)
	b = append(b, t...)
	b = append(b, 0)
	b = strconv.AppendInt(b, int64(ordinal), 10)
	h.Write(b)
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}
