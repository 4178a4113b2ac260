// Package checkpoint remembers, per log file, how far mailevents has
// delivered that file's events, so that the daemon (mailevents run) resumes
// where it stopped and never loses an event across a restart or a crash.
//
// # Commit after acknowledgement
//
// The pipeline calls [Store.Commit] only after the sink has acknowledged a
// batch, with the highest Line.End of each file in that batch. A line that
// has been read, parsed or handed to a channel but not yet acknowledged is
// never committed: recording positions on hand-off, as alloy and promtail
// do, is what loses events when the process dies with a batch in flight.
// Lines of one file reach the sink in order, so a per-file high-water mark
// is exact, and Commit refuses to move a file's position backwards.
//
// [Store.Save] writes the committed positions to disk atomically; the daemon
// runs it on a ticker and [Store.Close] runs it at shutdown. After a crash
// the daemon resumes each file at its last saved position, so what is read
// twice is at most the batches acknowledged since the last Save plus the
// batch that was in flight, and nothing is lost. The events read twice carry
// the same vnd.mailevents.id as the first time (the id depends only on the
// line's bytes), so a consumer can drop them.
//
// # File identity
//
// A position is only meaningful in the file it was taken from. A [FileKey]
// names a file by path, device and inode, plus a SHA-256 of its first bytes
// ([Head]), so a file deleted and recreated, or replaced in place, is not
// resumed at a stale offset. [IdentifyFile] builds a key; [Store.Resume]
// finds the saved position of a file even when the file has grown (or been
// renamed by log rotation) since its key was taken. Identify a file after its
// first line has been read, not while it is empty: an empty head matches
// any file with the same device and inode.
//
// # A corrupt checkpoint stops the daemon
//
// [Open] is strict. A missing file is an empty store (the first start), but
// a file that cannot be read or does not parse, holds an unknown version or
// unknown fields, a negative offset or a duplicated key is an error naming
// the file and the problem ([*CorruptError] for the content). Guessing would
// either re-read whole files (a flood of duplicates) or skip to their end
// (silent loss), so the daemon stops instead. The operator who accepts that
// choice starts it with --reset-checkpoint, which calls [OpenFresh]: the old
// file is not read and is replaced by the first Save. Copy it aside first to
// keep it for inspection.
//
// # The file
//
// The checkpoint is versioned, indented JSON that an operator can read,
// written with mode 0600 because it names log files and holds mapping state:
//
//	{
//	  "version": 1,
//	  "files": [
//	    {
//	      "path": "/var/log/mail.log",
//	      "dev": 2049,
//	      "inode": 1835094,
//	      "head_bytes": 1024,
//	      "head_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
//	      "offset": 734211,
//	      "line": 5120
//	    }
//	  ],
//	  "state": {
//	    "mapping": "eyJzZXNzaW9ucyI6W119"
//	  }
//	}
//
// "state" holds opaque blobs (base64) that the daemon saves together with
// the positions, such as the mapping's bounded per-session state, so that
// both describe the same moment. "line" and "cursor" (a journald cursor) are
// left out when empty.
//
// A Store is safe for concurrent use: the ack path commits while a ticker
// saves. The package is for Unix systems, where files have device and inode
// numbers.
package checkpoint
