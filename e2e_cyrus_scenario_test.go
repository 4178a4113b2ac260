package main

// The scenario of the Cyrus end-to-end test: every step a real client can
// make Cyrus 3.6 log or notify, in an order whose events the test can state
// exactly. Between steps of different processes it waits for the step's
// evidence, so that the syslog capture and the notifications are in the
// order the steps were taken.

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/mailevents/mailevents/internal/cyrustest"
	"github.com/mailevents/mailevents/internal/mailtest"
	"github.com/mailevents/mailevents/source/cyrusnotify"
)

// cyNotes collects what a cyrusnotify.Listener receives.
type cyNotes struct {
	mu  sync.Mutex
	got [][]byte
}

func (n *cyNotes) handle(_ context.Context, nt cyrusnotify.Notification) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.got = append(n.got, bytes.Clone(nt.Line.Text))
	return nil
}

// count returns how many notifications so far contain substr.
func (n *cyNotes) count(substr string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := 0
	for _, g := range n.got {
		if bytes.Contains(g, []byte(substr)) {
			c++
		}
	}
	return c
}

// wait waits until k notifications contain substr.
func (n *cyNotes) wait(t *testing.T, substr string, k int) {
	t.Helper()
	deadline := time.Now().Add(cyWait)
	for n.count(substr) < k {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d notifications with %q:\n%s", k, substr, bytes.Join(n.all(), []byte("\n")))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (n *cyNotes) all() [][]byte {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([][]byte(nil), n.got...)
}

// writeJSONL writes the notifications, one JSON object a line, to a file
// under dir, as a host that kept them would hand them to `parse`.
func (n *cyNotes) writeJSONL(t *testing.T, dir string) string {
	t.Helper()
	var b bytes.Buffer
	for _, g := range n.all() {
		b.Write(bytes.TrimSpace(g))
		b.WriteByte('\n')
	}
	path := filepath.Join(dir, "notify.jsonl")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// startCyrusBoth starts Cyrus with both evidence paths on: auditlog into
// the syslog capture and native notifications into a cyrusnotify.Listener.
func startCyrusBoth(t *testing.T) (*cyrustest.Server, *cyNotes) {
	notes := new(cyNotes)
	listen := func(dir string, uid, gid int) (string, error) {
		path := filepath.Join(dir, "mailevents.sock")
		l, err := cyrusnotify.Listen(path)
		if err != nil {
			return "", err
		}
		if err := os.Chown(path, uid, gid); err != nil {
			l.Close()
			return "", err
		}
		go func() { _ = l.Serve(context.Background(), notes.handle) }()
		t.Cleanup(func() { l.Close() })
		return path, nil
	}
	return cyrustest.Start(t, cyrustest.Options{NotifyListen: listen}), notes
}

// cyFacts are what the scenario learnt from the servers' replies.
type cyFacts struct {
	inboxUV, workUV, oldUV uint32 // UIDVALIDITY of alice's INBOX, Work/2024 (later Archive/2024), Old
	appendUID, oldUID      imap.UID
	copyUID, moveUID       imap.UID // in Work/2024
	appendSize, oldSize    int64
	carolSize              int64
	expireOut              string // cyr_expire's output
}

// cyDo fails t when err is not nil.
func cyDo(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// runCyrusScenario drives s through the whole scenario.
func runCyrusScenario(t *testing.T, s *cyrustest.Server, notes *cyNotes) cyFacts {
	var f cyFacts
	// The admin's session that created the users' INBOXes ends first.
	cyWaitCount(t, s, "auditlog: traffic", 1)
	notes.wait(t, `"Logout"`, 1)

	bad := mailtest.ConnectIMAP(t, s.IMAPAddr)
	if err := bad.Login("alice", "wrong").Wait(); err == nil {
		t.Fatal("LOGIN with a wrong password succeeded")
	}
	s.WaitForLog(t, "badlogin: ", cyWait)

	c := mailtest.DialIMAP(t, s.IMAPAddr, "alice", cyrustest.Password)
	// CREATE with a parent that does not exist yet.
	cyDo(t, "CREATE Work/2024", c.Create("Work/2024", nil).Wait())
	cyDo(t, "SUBSCRIBE", c.Subscribe("Work/2024").Wait())
	cyDo(t, "UNSUBSCRIBE", c.Unsubscribe("Work/2024").Wait())

	msg := cyMessage(1)
	f.appendSize = int64(len(msg))
	app := c.Append("INBOX", f.appendSize, &imap.AppendOptions{Flags: []imap.Flag{imap.FlagFlagged}})
	_, err := app.Write(msg)
	cyDo(t, "APPEND write", err)
	cyDo(t, "APPEND close", app.Close())
	appended, err := app.Wait()
	cyDo(t, "APPEND", err)
	f.appendUID = appended.UID

	// A message from 2001 in Old, for cyr_expire.
	cyDo(t, "CREATE Old", c.Create("Old", nil).Wait())
	old := cyMessage(9)
	f.oldSize = int64(len(old))
	app = c.Append("Old", f.oldSize, &imap.AppendOptions{Time: time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)})
	_, err = app.Write(old)
	cyDo(t, "APPEND Old write", err)
	cyDo(t, "APPEND Old close", app.Close())
	oldApp, err := app.Wait()
	cyDo(t, "APPEND Old", err)
	f.oldUID = oldApp.UID
	days := []byte("1")
	cyDo(t, "SETMETADATA expire", c.SetMetadata("Old", map[string]*[]byte{"/shared/vendor/cmu/cyrus-imapd/expire": &days}).Wait())
	for _, st := range []struct {
		box string
		uv  *uint32
	}{{"Work/2024", &f.workUV}, {"Old", &f.oldUV}} {
		data, err := c.Status(st.box, &imap.StatusOptions{UIDValidity: true}).Wait()
		cyDo(t, "STATUS "+st.box, err)
		*st.uv = data.UIDValidity
	}

	// LMTP to several recipients: one transaction, three mailboxes.
	for i, err := range mailtest.DeliverLMTP(t, s.LMTPAddr, "sender@example.net",
		[]string{"alice@example.org", "bob@example.org", "carol@example.org"}, cyMessage(2)) {
		cyDo(t, "LMTP recipient "+strconv.Itoa(i), err)
	}
	cyWaitCount(t, s, "Delivered: <e2e2@", 3)
	notes.wait(t, `"MessageNew"`, 3)

	sel, err := c.Select("INBOX", nil).Wait()
	cyDo(t, "SELECT", err)
	f.inboxUV = sel.UIDValidity
	set := imap.UIDSetNum(f.appendUID)
	store := func(op imap.StoreFlagsOp, fl ...imap.Flag) {
		t.Helper()
		cyDo(t, "STORE", c.Store(set, &imap.StoreFlags{Op: op, Silent: true, Flags: fl}, nil).Close())
	}
	store(imap.StoreFlagsAdd, imap.FlagSeen)
	store(imap.StoreFlagsAdd, "$Important")
	store(imap.StoreFlagsDel, imap.FlagFlagged)
	cp, err := c.Copy(set, "Work/2024").Wait()
	cyDo(t, "COPY", err)
	f.copyUID = cp.DestUIDs[0].Start
	// The delivered message (UID 2 in alice's INBOX) moves.
	mv, err := c.Move(imap.UIDSetNum(f.appendUID+1), "Work/2024").Wait()
	cyDo(t, "MOVE", err)
	f.moveUID = mv.DestUIDs.(imap.UIDSet)[0].Start
	store(imap.StoreFlagsAdd, imap.FlagDeleted)
	cyDo(t, "EXPUNGE", c.Expunge().Close())

	// CLOSE expunges what is \Deleted.
	_, err = c.Select("Work/2024", nil).Wait()
	cyDo(t, "SELECT Work/2024", err)
	cyDo(t, "STORE copy", c.Store(imap.UIDSetNum(f.copyUID), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true,
		Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close())
	cyDo(t, "CLOSE", c.UnselectAndExpunge().Wait())

	// RENAME with children, then DELETE both.
	cyDo(t, "RENAME", c.Rename("Work", "Archive", nil).Wait())
	cyDo(t, "DELETE Archive/2024", c.Delete("Archive/2024").Wait())
	cyDo(t, "DELETE Archive", c.Delete("Archive").Wait())
	cyDo(t, "LOGOUT", c.Logout().Wait())
	cyWaitCount(t, s, "auditlog: traffic", 2)
	notes.wait(t, `"Logout"`, 2)

	// SETQUOTA as the admin.
	adm := mailtest.DialIMAP(t, s.IMAPAddr, cyrustest.Admin, cyrustest.Password)
	cyDo(t, "SETQUOTA", adm.SetQuota("user/alice", map[imap.QuotaResourceType]int64{imap.QuotaResourceStorage: 100000}).Wait())
	cyDo(t, "LOGOUT admin", adm.Logout().Wait())
	cyWaitCount(t, s, "auditlog: traffic", 3)
	notes.wait(t, `"Logout"`, 3)

	p := mailtest.DialPOP3(t, s.POP3Addr, "carol", cyrustest.Password)
	_, size, err := p.Stat()
	cyDo(t, "STAT", err)
	f.carolSize = int64(size)
	_, err = p.Retr(1)
	cyDo(t, "RETR", err)
	cyDo(t, "DELE", p.Dele(1))
	cyDo(t, "QUIT", p.Quit())
	s.WaitForLog(t, "counts: retr=<1>", cyWait)
	notes.wait(t, `"Logout"`, 4)

	// cyr_expire, as the Cyrus user, expires Old's message from 2001.
	out, err := s.Expire("-E", "1", "-X", "0", "-D", "0", "-v")
	f.expireOut = out
	cyDo(t, "cyr_expire: "+out, err)
	s.WaitForLog(t, "cyrus/cyr_expire", cyWait)
	notes.wait(t, `"MessageExpire"`, 1)
	return f
}
