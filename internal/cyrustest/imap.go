package cyrustest

import (
	"fmt"

	"github.com/emersion/go-imap/v2/imapclient"
)

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
