package checkpoint

import (
	"bytes"
	"cmp"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
)

// formatVersion is the only version Open accepts. A future format gets a
// new number so that an older binary refuses it instead of misreading it.
const formatVersion = 1

// fileJSON is one "files" entry. Head fields are flat so that the strict
// reader below handles a single level of objects.
type fileJSON struct {
	Path       string `json:"path"`
	Dev        uint64 `json:"dev"`
	Inode      uint64 `json:"inode"`
	HeadBytes  int    `json:"head_bytes"`
	HeadSHA256 string `json:"head_sha256"`
	Offset     int64  `json:"offset"`
	Line       int64  `json:"line,omitempty"`
	Cursor     string `json:"cursor,omitempty"`
}

type docJSON struct {
	Version int               `json:"version"`
	Files   []fileJSON        `json:"files"`
	State   map[string][]byte `json:"state"` // []byte is base64 in JSON
}

// encode renders a snapshot deterministically (files sorted, state keys
// sorted by encoding/json), so that unchanged content gives unchanged bytes.
func encode(files map[FileKey]Position, state map[string][]byte) ([]byte, error) {
	doc := docJSON{Version: formatVersion, Files: make([]fileJSON, 0, len(files)), State: state}
	if doc.State == nil {
		doc.State = map[string][]byte{}
	}
	for _, k := range sortedKeys(files) {
		p := files[k]
		doc.Files = append(doc.Files, fileJSON{
			Path: k.Path, Dev: k.Dev, Inode: k.Inode,
			HeadBytes: k.Head.Len, HeadSHA256: hex.EncodeToString(k.Head.Sum[:]),
			Offset: p.Offset, Line: p.Line, Cursor: p.Cursor,
		})
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func sortedKeys(files map[FileKey]Position) []FileKey {
	return slices.SortedFunc(maps.Keys(files), compareKeys)
}

func compareKeys(a, b FileKey) int {
	return cmp.Or(
		cmp.Compare(a.Path, b.Path),
		cmp.Compare(a.Dev, b.Dev),
		cmp.Compare(a.Inode, b.Inode),
		cmp.Compare(a.Head.Len, b.Head.Len),
		bytes.Compare(a.Head.Sum[:], b.Head.Sum[:]),
	)
}

// decode parses a checkpoint strictly. encoding/json alone would accept
// unknown fields, take the last of duplicated keys, match keys without
// regard to case and read null as zero; each of those could turn a damaged
// file into wrong positions without a word, so the objects are walked by
// hand and every member is checked.
func decode(data []byte) (map[FileKey]Position, map[string][]byte, error) {
	top, err := object(data, true, "version", "files", "state")
	if err != nil {
		return nil, nil, err
	}
	for _, name := range []string{"version", "files", "state"} {
		if _, ok := top[name]; !ok {
			return nil, nil, fmt.Errorf("missing %q", name)
		}
	}
	var version int
	if err := json.Unmarshal(top["version"], &version); err != nil {
		return nil, nil, fmt.Errorf("version: %w", err)
	}
	if version != formatVersion {
		return nil, nil, fmt.Errorf("unsupported version %d (this program reads version %d)", version, formatVersion)
	}
	files, err := decodeFiles(top["files"])
	if err != nil {
		return nil, nil, err
	}
	state, err := decodeState(top["state"])
	if err != nil {
		return nil, nil, err
	}
	return files, state, nil
}

func decodeFiles(raw json.RawMessage) (map[FileKey]Position, error) {
	var entries []json.RawMessage
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, fmt.Errorf("files: %w", err)
	}
	files := make(map[FileKey]Position, len(entries))
	seen := make(map[FileKey]int, len(entries))
	for i, e := range entries {
		k, p, err := decodeFile(e)
		if err != nil {
			return nil, fmt.Errorf("files[%d]: %w", i, err)
		}
		if j, dup := seen[k]; dup {
			return nil, fmt.Errorf("files[%d]: duplicate of files[%d] (same path, dev, inode and head)", i, j)
		}
		seen[k] = i
		files[k] = p
	}
	return files, nil
}

func decodeFile(raw json.RawMessage) (FileKey, Position, error) {
	m, err := object(raw, false, "path", "dev", "inode", "head_bytes", "head_sha256", "offset", "line", "cursor")
	if err != nil {
		return FileKey{}, Position{}, err
	}
	var f fileJSON
	fields := []struct {
		name     string
		dst      any
		required bool
	}{
		{"path", &f.Path, true}, {"dev", &f.Dev, true}, {"inode", &f.Inode, true},
		{"head_bytes", &f.HeadBytes, true}, {"head_sha256", &f.HeadSHA256, true},
		{"offset", &f.Offset, true}, {"line", &f.Line, false}, {"cursor", &f.Cursor, false},
	}
	for _, fd := range fields {
		v, ok := m[fd.name]
		if !ok {
			if fd.required {
				return FileKey{}, Position{}, fmt.Errorf("missing %q", fd.name)
			}
			continue
		}
		if err := json.Unmarshal(v, fd.dst); err != nil {
			return FileKey{}, Position{}, fmt.Errorf("%s: %w", fd.name, err)
		}
	}
	k := FileKey{Path: f.Path, Dev: f.Dev, Inode: f.Inode, Head: Head{Len: f.HeadBytes}}
	if len(f.HeadSHA256) != hex.EncodedLen(len(k.Head.Sum)) {
		return FileKey{}, Position{}, fmt.Errorf("head_sha256: %d characters, want %d hex digits", len(f.HeadSHA256), hex.EncodedLen(len(k.Head.Sum)))
	}
	if _, err := hex.Decode(k.Head.Sum[:], []byte(f.HeadSHA256)); err != nil {
		return FileKey{}, Position{}, fmt.Errorf("head_sha256: %w", err)
	}
	if err := k.validate(); err != nil {
		return FileKey{}, Position{}, err
	}
	p := Position{Offset: f.Offset, Line: f.Line, Cursor: f.Cursor}
	if err := p.validate(); err != nil {
		return FileKey{}, Position{}, err
	}
	return k, p, nil
}

func decodeState(raw json.RawMessage) (map[string][]byte, error) {
	m, err := object(raw, false)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	state := make(map[string][]byte, len(m))
	total := 0
	// Sorted, so that the error for a file with several problems is stable.
	for _, name := range slices.Sorted(maps.Keys(m)) {
		var data []byte
		if err := json.Unmarshal(m[name], &data); err != nil {
			return nil, fmt.Errorf("state %q: %w", name, err)
		}
		if err := validateStateName(name); err != nil {
			return nil, fmt.Errorf("state: %w", err)
		}
		if len(data) == 0 {
			// SetState deletes on empty data, so Save never writes it.
			return nil, fmt.Errorf("state %q: empty", name)
		}
		total += len(name) + len(data)
		if total > MaxStateBytes {
			return nil, fmt.Errorf("state: more than %d bytes", MaxStateBytes)
		}
		state[name] = data
	}
	return state, nil
}

// object reads one JSON object and returns its members. It rejects
// duplicate names, names not in allowed (unless allowed is empty: any name),
// null values, and, when whole is set, anything after the object.
func object(data []byte, whole bool, allowed ...string) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, syntaxErr(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("not a JSON object (found %s)", describe(tok))
	}
	m := make(map[string]json.RawMessage)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, syntaxErr(err)
		}
		name := tok.(string) // inside an object, Token yields names as strings
		if _, dup := m[name]; dup {
			return nil, fmt.Errorf("duplicate field %q", name)
		}
		if len(allowed) > 0 && !slices.Contains(allowed, name) {
			return nil, fmt.Errorf("unknown field %q", name)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, syntaxErr(err)
		}
		if string(v) == "null" {
			return nil, fmt.Errorf("field %q is null", name)
		}
		m[name] = v
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, syntaxErr(err)
	}
	if whole {
		if _, err := dec.Token(); err != io.EOF {
			return nil, errors.New("unexpected data after the JSON object")
		}
	}
	return m, nil
}

func syntaxErr(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("not valid JSON: %w", err)
}

func describe(tok json.Token) string {
	switch tok.(type) {
	case json.Delim: // only '[' can start a value other than an object
		return "an array"
	case string:
		return "a string"
	case nil:
		return "null"
	case bool:
		return "a boolean"
	default:
		return "a number"
	}
}
