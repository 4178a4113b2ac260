package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailevents/mailevents/event"
)

// Every input line gives one output line of the asked size, with the id
// parse would give its first event: the floor does the same work per line.
func TestRunWritesOneSizedLinePerLine(t *testing.T) {
	lines := []string{"Mar  2 00:00:01 mail dovecot: imap-login: Login: user=<a>", "", "a line without a newline at the end"}
	path := filepath.Join(t.TempDir(), "mail.log")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{100, 648} {
		var out bytes.Buffer
		if err := run(path, size, &out); err != nil {
			t.Fatal(err)
		}
		got := strings.SplitAfter(out.String(), "\n")
		if got[len(got)-1] == "" {
			got = got[:len(got)-1]
		}
		if len(got) != len(lines) {
			t.Fatalf("size %d: %d output lines for %d input lines", size, len(got), len(lines))
		}
		for i, g := range got {
			if len(g) != size {
				t.Errorf("size %d: line %d is %d bytes", size, i, len(g))
			}
			if id := event.ComputeID([]byte(lines[i]), 0, event.MessageNew); !strings.Contains(g, `"vnd.mailevents.id":"`+id+`"`) {
				t.Errorf("line %d: no id %s in %q", i, id, g)
			}
		}
	}
}
