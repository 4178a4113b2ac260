package dovecottest

import (
	"os"
	"testing"
)

func TestSmoke(t *testing.T) {
	s := Start(t, Options{QuotaUsers: map[string]int64{"bob": 1}})
	c := DialIMAP(t, s.IMAPAddr, "alice", Password)
	_ = c.Logout().Wait()
	out, err := s.Doveadm("quota", "get", "-u", "bob")
	t.Logf("%s %v", out, err)
	out, err = s.Doveadm("mailbox", "status", "-u", "alice", "uidvalidity", "INBOX")
	t.Logf("%s %v", out, err)
	s.Stop()
	b, _ := os.ReadFile(s.Conf)
	t.Logf("%s", b)
	t.Logf("%s", s.Log())
}
