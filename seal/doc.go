// Package seal makes an output stream of events tamper-evident, for
// compliance archives (RFC 5423 §7: whoever can change notifications can
// forge audit entries), and verifies such streams. The ideas are those of
// signed syslog (RFC 5848) and journald's Forward Secure Sealing: a hash
// chain over the events and, now and then, a signature over its head.
//
// # Sealed events
//
// Every event of a sealed stream carries three vendor parameters:
//
//   - vnd.mailevents.stream: the stream id, one per sink (by default
//     HOST/SINK);
//   - vnd.mailevents.seq: 1 for the stream's first event, then one more
//     for each event, without gaps; saved with the daemon's checkpoint, so
//     it goes on across restarts;
//   - vnd.mailevents.chain: 64 lowercase hexadecimal digits,
//     SHA-256(previous chain value || canonical bytes of the event), both
//     taken as bytes (32 and n). Before seq 1 the previous value is the
//     genesis, SHA-256("mailevents-seal-v1" || 0x00 || stream id).
//
// The canonical bytes of an event are the RFC 8785 (JCS) serialisation of
// its JSON object without the vnd.mailevents.chain member: members sorted
// by their names' UTF-16 code units, no white space, strings with only the
// escapes JCS prescribes, numbers as ECMAScript writes them. Any consumer
// that parses the JSON line can compute them again, whatever it did to the
// spacing, member order or escapes, so a re-serialised archive still
// verifies. The seq and the stream id are inside the canonical bytes: an
// event cannot be moved to another place or stream without breaking its
// link.
//
// # Seals
//
// A seal is a record of its own, written through the same sink after the
// events it covers:
//
//	{"event":"vnd.mailevents.Seal","timestamp":"2026-03-02T09:15:00.123456+00:00",
//	 "vnd.mailevents.chain":"…64 hex…","vnd.mailevents.final":false,
//	 "vnd.mailevents.id":"…32 hex…","vnd.mailevents.key":"…32 hex…",
//	 "vnd.mailevents.seq":1234,"vnd.mailevents.server":"mailevents",
//	 "vnd.mailevents.signature":"…base64…","vnd.mailevents.stream":"mail/archive"}
//
// seq and chain are those of the stream's last event before the seal; key
// is the first 16 bytes of the SHA-256 of the raw Ed25519 public key, in
// hex; final is true for the seal written when the writer stops (at
// shutdown, at the end of a parse); id, which the output format wants of
// every record, is the first 16 bytes of the SHA-256 of the seal's
// canonical bytes without id and signature. The signature is Ed25519 over
// the canonical bytes of the seal without its vnd.mailevents.signature
// member, in standard base64. A seal authenticates every event it hashes back from:
// the chain makes the head depend on all of them.
//
// A stream is sealed when a checkpoint is saved, if it advanced and the
// interval (1m by default) has passed since its last seal, and when it
// stops. Seals bypass the sink's subscription: a filter never drops one.
//
// # Duplicates
//
// The daemon saves each stream's seq and chain head with the checkpoint
// at moments when every event stamped has been acknowledged. After a crash
// it reads the lines since the last save again, from the same state, so
// each event read again gets the seq and chain value of its first copy:
// it is byte-identical in canonical form. That is the definition of a
// re-sent event: same stream, seq, vnd.mailevents.id and chain value. A
// verifier counts such copies as notes.
//
// When the file a line is read again from has been renamed by rotation in
// between, the copy differs in vnd.mailevents.source, and so in its chain
// value and those after it. Such a copy is recognised too (same seq and
// id, the same canonical bytes but for the source and the chain) and is a
// note as long as its first copy is sealed.
//
// # Verification
//
// A Verifier reads records in each input's order and reports per stream:
// missing seqs (gap, or truncated when a seal names events after the last
// one there is), an event that comes after a later one of its input
// (reordered), an event that does not hash to its chain value (altered),
// a seal that does not verify (bad-seal), events no seal covers (unsealed,
// or unsealed-tail after the last seal), a last seal that is not final
// (open), and a stream that started over from its genesis (restart, a
// problem when the run before ended without a final seal). Duplicates are
// notes.
package seal
