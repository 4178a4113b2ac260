package mailtest

import (
	"testing"

	"github.com/emersion/go-imap/v2/imapclient"
)

// ConnectIMAP connects to addr without logging in (for a failed LOGIN, or
// to look at the pre-login state) and closes the connection at cleanup.
// The connection is in plain text: the test servers have no TLS configured.
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
