package journald

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestCursorOf(t *testing.T) {
	tests := []struct {
		line, want string
		ok         bool
	}{
		{`{"__CURSOR":"s=1;i=2;b=3","MESSAGE":"m"}`, "s=1;i=2;b=3", true},
		// systemd before 240 spaced its JSON out.
		{`{ "__CURSOR" : "s=1;i=2", "MESSAGE" : "m" }`, "s=1;i=2", true},
		{`{"MESSAGE":"m","__CURSOR":"s=9"}`, "s=9", true},
		{`{"__CURSOR":"s=\u0031\"x"}`, `s=1"x`, true},
		// The key's text inside a value is not the key.
		{`{"MESSAGE":"\"__CURSOR\":\"fake\"","__CURSOR":"real"}`, "real", true},
		{`{"MESSAGE":"x\\","__CURSOR":"after-escaped-backslash"}`, "after-escaped-backslash", true},
		{`{"A":"__CURSOR","B":1}`, "", false},
		{`{"MESSAGE":"m"}`, "", false},
		{`{"__CURSOR":null}`, "", false},
		{`{"__CURSOR":"unterminated`, "", false},
		{`{"__CURSOR":"s=1;i=`, "", false}, // a record cut short
		{``, "", false},
	}
	for _, tt := range tests {
		got, ok := cursorOf([]byte(tt.line))
		if got != tt.want || ok != tt.ok {
			t.Errorf("cursorOf(%s) = %q, %v; want %q, %v", tt.line, got, ok, tt.want, tt.ok)
		}
	}
}

// FuzzCursorOf checks the scan against encoding/json on valid, flat JSON
// objects (journalctl's records nest no objects): the scan finds the first
// __CURSOR key, and reports it exactly when its value is a string.
func FuzzCursorOf(f *testing.F) {
	f.Add(`{"__CURSOR":"s=1","MESSAGE":"m"}`)
	f.Add(`{ "MESSAGE" : "\"__CURSOR\":\"x\"", "__CURSOR" : "y" }`)
	f.Add(`{"__CURSOR":1,"__CURSOR":"z"}`)
	f.Add(`{"M":["__CURSOR"],"__CURSOR":"\ud83d\ude00"}`)
	f.Fuzz(func(t *testing.T, line string) {
		want, wantOK, flat := firstCursor(line)
		if !flat {
			return
		}
		got, ok := cursorOf([]byte(line))
		if got != want || ok != wantOK {
			t.Fatalf("cursorOf(%s) = %q, %v; encoding/json says %q, %v", line, got, ok, want, wantOK)
		}
	})
}

// firstCursor decodes a JSON object with encoding/json and returns its
// first __CURSOR value if that is a string. flat is false when line is not
// a valid object or nests objects.
func firstCursor(line string) (cursor string, ok, flat bool) {
	if !json.Valid([]byte(line)) {
		return "", false, false
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(line)))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "", false, false
	}
	found := false
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return "", false, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil || bytes.ContainsRune(v, '{') && nestsObject(v) {
			return "", false, false
		}
		if key == "__CURSOR" && !found {
			found = true
			ok = json.Unmarshal(v, &cursor) == nil
		}
	}
	return cursor, ok, true
}

// nestsObject reports whether the JSON value v holds an object.
func nestsObject(v json.RawMessage) bool {
	dec := json.NewDecoder(bytes.NewReader(v))
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if tok == json.Delim('{') {
			return true
		}
	}
}

// benchRecord is a record of typical size with journalctl's usual fields.
var benchRecord = []byte(`{"__CURSOR":"s=6b0cb6b4d2de4bbf8c8f3d8bd2f4a4b5;i=1a2b3c;b=0f6c4ba3a5a54c2a9d2a6b7f8e9d0c1b;m=3b9aca00;t=62b1c0d0e0f01;x=9c8b7a6d5e4f3a2b","__REALTIME_TIMESTAMP":"1735689600123456","__MONOTONIC_TIMESTAMP":"1000000000","_BOOT_ID":"0f6c4ba3a5a54c2a9d2a6b7f8e9d0c1b","PRIORITY":"6","SYSLOG_FACILITY":"2","SYSLOG_IDENTIFIER":"dovecot","_PID":"1234","_HOSTNAME":"mail.example.org","MESSAGE":"imap(alice@example.org)<1234><AbCdEf>: expunge: box=INBOX, uid=42, msgid=<abc@example.org>, size=2048"}`)

// BenchmarkCursor compares the scan with decoding the line with
// encoding/json into a one-field struct, the obvious alternative.
func BenchmarkCursor(b *testing.B) {
	b.Run("scan", func(b *testing.B) {
		b.SetBytes(int64(len(benchRecord)))
		for b.Loop() {
			if _, ok := cursorOf(benchRecord); !ok {
				b.Fatal("no cursor")
			}
		}
	})
	b.Run("scan-spaced", func(b *testing.B) {
		spaced := bytes.Replace(benchRecord, []byte(`{"__CURSOR":`), []byte(`{ "__CURSOR" : `), 1)
		b.SetBytes(int64(len(spaced)))
		for b.Loop() {
			if _, ok := cursorOf(spaced); !ok {
				b.Fatal("no cursor")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(benchRecord)))
		for b.Loop() {
			var rec struct {
				Cursor string `json:"__CURSOR"`
			}
			if err := json.Unmarshal(benchRecord, &rec); err != nil || rec.Cursor == "" {
				b.Fatal("no cursor")
			}
		}
	})
}
