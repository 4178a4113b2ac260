package mailtest

import (
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

// POP3Client is a minimal POP3 (RFC 1939) client: enough commands to make
// a server log a POP3 session, no library needed.
type POP3Client struct {
	conn *textproto.Conn
	nc   net.Conn
}

// LocalAddr is the client's end of the connection: Dovecot logs its port as
// the login's rport, which tests use to tell sessions apart.
func (c *POP3Client) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// DialPOP3 connects to addr, reads the greeting and logs in with USER/PASS.
// The connection is closed at cleanup (without QUIT, if the test did not
// quit itself).
func DialPOP3(t testing.TB, addr, user, pass string) *POP3Client {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatalf("pop3: dial %s: %v", addr, err)
	}
	c := &POP3Client{conn: textproto.NewConn(nc), nc: nc}
	t.Cleanup(func() { _ = c.conn.Close() })
	if _, err := c.response(); err != nil {
		t.Fatalf("pop3: greeting: %v", err)
	}
	if _, err := c.Cmd("USER %s", user); err != nil {
		t.Fatalf("pop3: USER: %v", err)
	}
	if _, err := c.Cmd("PASS %s", pass); err != nil {
		t.Fatalf("pop3: PASS: %v", err)
	}
	return c
}

// Cmd sends one command and returns the text after "+OK", or an error
// carrying the server's "-ERR" text.
func (c *POP3Client) Cmd(format string, args ...any) (string, error) {
	if err := c.conn.PrintfLine(format, args...); err != nil {
		return "", fmt.Errorf("pop3: send: %w", err)
	}
	return c.response()
}

func (c *POP3Client) response() (string, error) {
	line, err := c.conn.ReadLine()
	if err != nil {
		return "", fmt.Errorf("pop3: read reply: %w", err)
	}
	if rest, ok := strings.CutPrefix(line, "+OK"); ok {
		return strings.TrimSpace(rest), nil
	}
	return "", fmt.Errorf("pop3: server said %q", line)
}

// Stat returns the number of messages and their total size in octets.
func (c *POP3Client) Stat() (count, size int, err error) {
	reply, err := c.Cmd("STAT")
	if err != nil {
		return 0, 0, err
	}
	if _, err := fmt.Sscanf(reply, "%d %d", &count, &size); err != nil {
		return 0, 0, fmt.Errorf("pop3: STAT reply %q: %w", reply, err)
	}
	return count, size, nil
}

// Retr returns message n, dot-unstuffed, with "\n" line ends.
func (c *POP3Client) Retr(n int) ([]byte, error) {
	if _, err := c.Cmd("RETR %d", n); err != nil {
		return nil, err
	}
	msg, err := io.ReadAll(c.conn.DotReader())
	if err != nil {
		return nil, fmt.Errorf("pop3: RETR %d body: %w", n, err)
	}
	return msg, nil
}

// Dele marks message n for deletion; the server expunges it at QUIT.
func (c *POP3Client) Dele(n int) error {
	_, err := c.Cmd("DELE %d", n)
	return err
}

// Quit ends the session, committing deletions, and closes the connection.
func (c *POP3Client) Quit() error {
	_, err := c.Cmd("QUIT")
	if cerr := c.conn.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("pop3: close: %w", cerr)
	}
	return err
}
