package checkpoint

import (
	"errors"
	"os"
	"strings"
	"testing"
)

const sha = `"head_sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"`

// entry builds a "files" element; extra is spliced in after the head.
func entry(extra string) string {
	return `{"path":"/var/log/mail.log","dev":1,"inode":2,"head_bytes":4,` + sha + extra + `}`
}

func doc(files, state string) string {
	return `{"version":1,"files":[` + files + `],"state":{` + state + `}}`
}

func TestOpenCorrupt(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"empty file", ``, `empty file`},
		{"truncated", `{"version":1,"files":[`, `not valid JSON: unexpected EOF`},
		{"not JSON", `positions: 42`, `not valid JSON: invalid character 'p'`},
		{"array", `[]`, `not a JSON object (found an array)`},
		{"null", `null`, `not a JSON object (found null)`},
		{"trailing data", doc(``, ``) + `{}`, `unexpected data after the JSON object`},
		{"missing version", `{"files":[],"state":{}}`, `missing "version"`},
		{"missing files", `{"version":1,"state":{}}`, `missing "files"`},
		{"missing state", `{"version":1,"files":[]}`, `missing "state"`},
		{"unknown version", `{"version":2,"files":[],"state":{}}`, `unsupported version 2 (this program reads version 1)`},
		{"version as string", `{"version":"1","files":[],"state":{}}`, `version: json: cannot unmarshal string`},
		{"unknown top field", `{"version":1,"files":[],"state":{},"positions":{}}`, `unknown field "positions"`},
		{"field in another case", `{"Version":1,"files":[],"state":{}}`, `unknown field "Version"`},
		{"duplicate top field", `{"version":1,"version":1,"files":[],"state":{}}`, `duplicate field "version"`},
		{"null files", `{"version":1,"files":null,"state":{}}`, `field "files" is null`},
		{"files not an array", `{"version":1,"files":{},"state":{}}`, `files: json: cannot unmarshal object`},
		{"unknown file field", doc(entry(`,"offset":1,"size":9`), ``), `files[0]: unknown field "size"`},
		{"duplicate file field", doc(entry(`,"offset":1,"offset":2`), ``), `files[0]: duplicate field "offset"`},
		{"missing offset", doc(entry(``), ``), `files[0]: missing "offset"`},
		{"negative offset", doc(entry(`,"offset":-5`), ``), `files[0]: negative offset -5`},
		{"negative line", doc(entry(`,"offset":5,"line":-1`), ``), `files[0]: negative line -1`},
		{"fractional offset", doc(entry(`,"offset":1.5`), ``), `files[0]: offset: json: cannot unmarshal number 1.5`},
		{"offset overflow", doc(entry(`,"offset":9223372036854775808`), ``), `files[0]: offset: json: cannot unmarshal number 9223372036854775808`},
		{"negative inode", `{"version":1,"files":[{"path":"/a","dev":1,"inode":-2,"head_bytes":0,` + sha + `,"offset":0}],"state":{}}`, `files[0]: inode: json: cannot unmarshal number -2`},
		{"empty path", `{"version":1,"files":[{"path":"","dev":1,"inode":2,"head_bytes":0,` + sha + `,"offset":0}],"state":{}}`, `files[0]: empty path`},
		{"head too long", `{"version":1,"files":[{"path":"/a","dev":1,"inode":2,"head_bytes":1025,` + sha + `,"offset":0}],"state":{}}`, `files[0]: head length 1025 is outside 0..1024`},
		{"short sha", `{"version":1,"files":[{"path":"/a","dev":1,"inode":2,"head_bytes":0,"head_sha256":"9f86","offset":0}],"state":{}}`, `files[0]: head_sha256: 4 characters, want 64 hex digits`},
		{"sha not hex", `{"version":1,"files":[{"path":"/a","dev":1,"inode":2,"head_bytes":0,"head_sha256":"` + strings.Repeat("g", 64) + `","offset":0}],"state":{}}`, `files[0]: head_sha256: encoding/hex: invalid byte`},
		{"duplicate key", doc(entry(`,"offset":1`)+`,`+entry(`,"offset":2`), ``), `files[1]: duplicate of files[0] (same path, dev, inode and head)`},
		{"entry not an object", doc(`42`, ``), `files[0]: not a JSON object (found a number)`},
		{"duplicate state", doc(``, `"m":"AQ==","m":"Ag=="`), `state: duplicate field "m"`},
		{"state not base64", doc(``, `"m":"!!"`), `state "m": illegal base64 data`},
		{"empty state", doc(``, `"m":""`), `state "m": empty`},
		{"state too large", doc(``, `"m":"`+strings.Repeat("A", (MaxStateBytes+3)/3*4)+`"`), `state: more than 1048576 bytes`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := checkpointPath(t)
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Open(path)
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.Path != path {
				t.Fatalf("Open = %v, want a *CorruptError for %s", err, path)
			}
			wantPrefix := "checkpoint file " + path + " is corrupt: "
			if msg := err.Error(); !strings.HasPrefix(msg, wantPrefix) || !strings.Contains(msg, tt.want) {
				t.Errorf("Open error:\n got %s\nwant %s…%s…", msg, wantPrefix, tt.want)
			}
		})
	}
}

func TestOpenUnreadable(t *testing.T) {
	dir := t.TempDir()
	// A directory where the file should be: not corrupt content, but still
	// an error that names the file rather than an empty store.
	_, err := Open(dir)
	var ce *CorruptError
	if err == nil || errors.As(err, &ce) || !strings.Contains(err.Error(), dir) {
		t.Errorf("Open(directory) = %v, want a non-corrupt error naming %s", err, dir)
	}
}

// TestOpenValid pins the accepted format, including the optional fields.
func TestOpenValid(t *testing.T) {
	path := checkpointPath(t)
	content := doc(entry(`,"offset":10,"line":3,"cursor":"s=1"`), `"mapping":"AQI="`)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	s := mustOpen(t, path)
	keys := s.Keys()
	if len(keys) != 1 {
		t.Fatalf("Keys = %v", keys)
	}
	if p, _ := s.Position(keys[0]); p != (Position{Offset: 10, Line: 3, Cursor: "s=1"}) {
		t.Errorf("Position = %+v", p)
	}
	if st, _ := s.State("mapping"); string(st) != "\x01\x02" {
		t.Errorf("State = %q", st)
	}
}
