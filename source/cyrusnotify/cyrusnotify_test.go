package cyrusnotify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// collector is a Handler that keeps what it was given.
type collector struct {
	mu   sync.Mutex
	got  []Notification
	fail bool
}

func (c *collector) handle(_ context.Context, n Notification) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail {
		return errors.New("refused")
	}
	n.Line.Text = bytes.Clone(n.Line.Text)
	c.got = append(c.got, n)
	return nil
}

func (c *collector) wait(t *testing.T, n int) []Notification {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		got := append([]Notification(nil), c.got...)
		c.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d notifications, want %d", len(got), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func serve(t *testing.T, l *Listener, h Handler) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- l.Serve(context.Background(), h) }()
	t.Cleanup(func() {
		l.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
}

// datagram builds what notify() sends.
func datagram(fields ...string) []byte { return []byte(strings.Join(fields, "\x00") + "\x00") }

func TestDatagrams(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	l, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	var c collector
	serve(t, l, c.handle)
	conn, err := net.Dial("unixgram", path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const js = `{"event":"Login","uri":"imap://h","pid":1}`
	for _, d := range [][]byte{
		datagram("log", "EVENT", "", "", "", "0", js),
		datagram("mailto", "MAIL", "high", "bob", "INBOX", "2", "o1", "o2", "hello", "/tmp/f"),
		[]byte("garbage"),
		append(datagram("log", "EVENT", "", "", "", "0"), bytes.Repeat([]byte("x"), MaxDatagram)...),
	} {
		if _, err := conn.Write(d); err != nil {
			t.Fatal(err)
		}
	}
	got := c.wait(t, 4)
	if n := got[0]; string(n.Line.Text) != js || n.Method != "log" || n.Class != "EVENT" || n.Malformed || n.Line.Source != path || n.Line.Offset != 0 {
		t.Errorf("event datagram: %+v", n)
	}
	if n := got[1]; string(n.Line.Text) != "hello" || n.User != "bob" || n.Mailbox != "INBOX" || strings.Join(n.Options, ",") != "o1,o2" || n.FilePath != "/tmp/f" || n.Line.Offset != 1 {
		t.Errorf("options datagram: %+v", n)
	}
	if n := got[2]; !n.Malformed || string(n.Line.Text) != "garbage" {
		t.Errorf("garbage datagram: %+v", n)
	}
	if n := got[3]; !n.Line.Truncated {
		t.Errorf("oversize datagram not marked truncated: %d bytes", len(n.Line.Text))
	}
}

func TestParseDatagram(t *testing.T) {
	for _, tc := range []struct {
		in        string
		malformed bool
	}{
		{"log\x00EVENT\x00\x00\x00\x000\x00{}\x00", false},
		{"log\x00EVENT\x00\x00\x00\x000\x00{}\x00file\x00", false},
		{"log\x00EVENT\x00\x00\x00\x000\x00", true},
		{"log\x00EVENT\x00\x00\x00\x00-1\x00{}\x00", true},
		{"log\x00EVENT\x00\x00\x00\x005\x00{}\x00", true},
		{"log\x00EVENT\x00\x00\x00\x000\x00{}\x00f\x00extra\x00", true},
		{"", true},
	} {
		if got := ParseDatagram([]byte(tc.in)); got.Malformed != tc.malformed {
			t.Errorf("%q: malformed %v, want %v", tc.in, got.Malformed, tc.malformed)
		}
	}
}

// dlistRequest is what notify_dlist() writes, with the message as a
// LITERAL+ (prot_printastring's choice for JSON, which has quotes).
func dlistRequest(msg string) string {
	return fmt.Sprintf("NOTIFY %%(METHOD log CLASS EVENT PRIORITY \"\" USER \"\" MAILBOX \"\" OPTIONS (a \"b c\") MESSAGE {%d+}\r\n%s FILEPATH NIL)\r\n", len(msg), msg)
}

func exchange(t *testing.T, path, req string) string {
	t.Helper()
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var buf bytes.Buffer
	b := make([]byte, 64)
	for !bytes.HasSuffix(buf.Bytes(), []byte("\n")) {
		n, err := conn.Read(b)
		buf.Write(b[:n])
		if err != nil {
			break
		}
	}
	return buf.String()
}

func TestStream(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	l, err := ListenStream(path)
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	serve(t, l, c.handle)
	const js = `{"event":"Login","uri":"imap://h","pid":1}`
	if got := exchange(t, path, dlistRequest(js)); got != okAnswer {
		t.Errorf("answer %q, want %q", got, okAnswer)
	}
	got := c.wait(t, 1)
	if n := got[0]; string(n.Line.Text) != js || n.Method != "log" || n.Class != "EVENT" || n.FilePath != "" ||
		strings.Join(n.Options, "|") != "a|b c" || n.Malformed || n.Line.Offset != 0 {
		t.Errorf("stream notification: %+v", n)
	}

	// A malformed request is handed over as it was read, and not answered.
	if got := exchange(t, path, "HELLO world\r\n"); got != "" {
		t.Errorf("malformed request answered %q", got)
	}
	got = c.wait(t, 2)
	if n := got[1]; !n.Malformed || !strings.HasPrefix(string(n.Line.Text), "HELLO") || n.Line.Offset != 1 {
		t.Errorf("malformed stream notification: %+v", n)
	}

	// A notification the handler refuses gets no answer: Cyrus logs it.
	c.mu.Lock()
	c.fail = true
	c.mu.Unlock()
	if got := exchange(t, path, dlistRequest(js)); got != "" {
		t.Errorf("refused notification answered %q", got)
	}
}

func TestListenReplacesStaleSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	l, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	l.dgram.Close() // leaves the file, like a crash
	if l, err = Listen(path); err != nil {
		t.Fatalf("second Listen: %v", err)
	}
	l.Close()
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(path); err == nil {
		t.Error("Listen replaced a regular file")
	}
}
