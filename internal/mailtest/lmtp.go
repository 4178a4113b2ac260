package mailtest

import (
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// DeliverLMTP delivers msg over LMTP to addr and returns one result per
// recipient, in the order of to: nil if that recipient's mailbox took the
// message, else the recipient's error from RCPT TO (e.g. unknown user) or
// from its DATA reply (e.g. over quota), an *smtp.SMTPError in both cases.
// LMTP, unlike SMTP, answers DATA once per accepted recipient (RFC 2033),
// which go-smtp exposes as CloseWithLMTPResponse. Failures that concern the
// whole transaction (connection, MAIL FROM) fail t.
func DeliverLMTP(t testing.TB, addr, from string, to []string, msg []byte) []error {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatalf("lmtp: dial %s: %v", addr, err)
	}
	c := smtp.NewClientLMTP(conn)
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		t.Fatalf("lmtp: LHLO: %v", err)
	}
	if err := c.Mail(from, nil); err != nil {
		t.Fatalf("lmtp: MAIL FROM:<%s>: %v", from, err)
	}

	results := make([]error, len(to))
	accepted := 0
	for i, rcpt := range to {
		if err := c.Rcpt(rcpt, nil); err != nil {
			results[i] = fmt.Errorf("RCPT TO:<%s>: %w", rcpt, err)
			continue
		}
		accepted++
	}
	if accepted == 0 {
		// DATA without a valid recipient is a protocol error.
		if err := c.Quit(); err != nil {
			t.Errorf("lmtp: QUIT: %v", err)
		}
		return results
	}

	w, err := c.Data()
	if err != nil {
		t.Fatalf("lmtp: DATA: %v", err)
	}
	if _, err := w.Write(msg); err != nil {
		t.Fatalf("lmtp: write message: %v", err)
	}
	_, err = w.CloseWithLMTPResponse()
	var perRcpt smtp.LMTPDataError
	if err != nil && !errors.As(err, &perRcpt) {
		t.Fatalf("lmtp: end of DATA: %v", err)
	}
	for i, rcpt := range to {
		if results[i] == nil {
			if e, failed := perRcpt[rcpt]; failed {
				results[i] = fmt.Errorf("DATA for <%s>: %w", rcpt, e)
			}
		}
	}
	if err := c.Quit(); err != nil {
		t.Errorf("lmtp: QUIT: %v", err)
	}
	return results
}
