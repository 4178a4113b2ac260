package cyrustest

import (
	"fmt"
	"testing"

	"github.com/emersion/go-imap/v2/imapclient"
)

// ConnectIMAP connects to addr without logging in (for a failed LOGIN, or
// to look at the pre-login state) and closes the connection at cleanup.
// The connection is in plain text: the server has no TLS configured.
func ConnectIMAP(t testing.TB, addr string) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatalf("imap: dial %s: %v", addr, err)
	}
	// Closing an already closed or logged-out client only returns an error.
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// DialIMAP connects to addr and logs in with LOGIN; the client is closed at
// cleanup (without LOGOUT, if the test did not log out itself).
func DialIMAP(t testing.TB, addr, user, pass string) *imapclient.Client {
	t.Helper()
	c := ConnectIMAP(t, addr)
	if err := c.Login(user, pass).Wait(); err != nil {
		t.Fatalf("imap: LOGIN %s: %v", user, err)
	}
	return c
}

// createMailboxes logs in as the admin and creates user/<name> (or
// user.<name>) for every user, as cyradm's "cm" would. The admin's login and
// the create lines are the first in the log.
func (s *Server) createMailboxes(users []string, dotSeparator bool) error {
	c, err := imapclient.DialInsecure(s.IMAPAddr, nil)
	if err != nil {
		return fmt.Errorf("imap: dial %s: %w", s.IMAPAddr, err)
	}
	defer c.Close()
	if err := c.Login(Admin, Password).Wait(); err != nil {
		return fmt.Errorf("imap: LOGIN %s: %w", Admin, err)
	}
	sep := "/"
	if dotSeparator {
		sep = "."
	}
	for _, u := range users {
		if err := c.Create("user"+sep+u, nil).Wait(); err != nil {
			return fmt.Errorf("imap: CREATE user%s%s: %w", sep, u, err)
		}
	}
	if err := c.Logout().Wait(); err != nil {
		return fmt.Errorf("imap: LOGOUT: %w", err)
	}
	return nil
}
