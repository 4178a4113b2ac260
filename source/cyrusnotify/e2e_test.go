package cyrusnotify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/mailevents/mailevents/event"
	"github.com/mailevents/mailevents/event/eventtest"
	"github.com/mailevents/mailevents/internal/cyrustest"
	"github.com/mailevents/mailevents/internal/mailtest"
	"github.com/mailevents/mailevents/mapping"
	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/parsers/cyrusjson"
	"github.com/mailevents/mailevents/parsers/syslog"
	"github.com/mailevents/mailevents/pipeline"
	"github.com/mailevents/mailevents/sinks/stdout"
	"github.com/mailevents/mailevents/source"
	"github.com/mailevents/mailevents/source/cyrusnotify"
)

// lines is a source.Reader over the notifications a test collected.
type lines struct{ ls []source.Line }

func (r *lines) Next(context.Context) (source.Line, error) {
	if len(r.ls) == 0 {
		return source.Line{}, io.EOF
	}
	l := r.ls[0]
	r.ls = r.ls[1:]
	return l, nil
}
func (r *lines) Buffered() bool { return len(r.ls) > 0 }
func (r *lines) Close() error   { return nil }

// TestRealCyrus points a real Cyrus 3.6's notifysocket at a Listener, in
// both of notify()'s forms, and runs what arrives through the cyrus-json
// grammar and mapping.
func TestRealCyrus(t *testing.T) {
	for _, stream := range []bool{false, true} {
		name := "datagram"
		if stream {
			name = "dlist"
		}
		t.Run(name, func(t *testing.T) { realCyrus(t, stream) })
	}
}

func realCyrus(t *testing.T, stream bool) {
	var mu sync.Mutex
	var got []source.Line
	handle := func(_ context.Context, n cyrusnotify.Notification) error {
		mu.Lock()
		defer mu.Unlock()
		n.Line.Text = bytes.Clone(n.Line.Text)
		got = append(got, n.Line)
		return nil
	}
	listen := func(dir string, uid, gid int) (string, error) {
		path := filepath.Join(dir, "mailevents.sock")
		var l *cyrusnotify.Listener
		var err error
		if stream {
			l, err = cyrusnotify.ListenStream(path)
		} else {
			l, err = cyrusnotify.Listen(path)
		}
		if err != nil {
			return "", err
		}
		if err := os.Chown(path, uid, gid); err != nil {
			return "", err
		}
		go func() { _ = l.Serve(context.Background(), handle) }()
		t.Cleanup(func() { l.Close() })
		if stream {
			return "dlist:" + path, nil
		}
		return path, nil
	}
	s := cyrustest.Start(t, cyrustest.Options{Users: []string{"alice"}, NotifyListen: listen})

	c := mailtest.DialIMAP(t, s.IMAPAddr, "alice", cyrustest.Password)
	msg := []byte("From: a@example.net\r\nSubject: x\r\nMessage-ID: <n1@example.net>\r\n\r\nbody\r\n")
	app := c.Append("INBOX", int64(len(msg)), nil)
	_, _ = app.Write(msg)
	must(t, app.Close())
	_, err := app.Wait()
	must(t, err)
	sel, err := c.Select("INBOX", nil).Wait()
	must(t, err)
	set := imap.UIDSetNum(1)
	for _, f := range []imap.Flag{imap.FlagSeen, imap.FlagDeleted} {
		must(t, c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{f}}, nil).Close())
	}
	must(t, c.Expunge().Close())
	must(t, c.Create("Work", nil).Wait())
	must(t, c.Rename("Work", "Archive", nil).Wait())
	st, err := c.Status("Archive", &imap.StatusOptions{UIDValidity: true}).Wait()
	must(t, err)
	must(t, c.Delete("Archive").Wait())
	must(t, c.Logout().Wait())
	for _, err := range mailtest.DeliverLMTP(t, s.LMTPAddr, "a@example.net", []string{"alice@example.org"}, msg) {
		must(t, err)
	}

	// Wait for the delivery's MessageNew, the last event.
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		done := n > 0 && bytes.Contains(got[n-1].Text, []byte(`"MessageNew"`))
		mu.Unlock()
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no MessageNew notification; got %d", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Stop()
	mu.Lock()
	in := append([]source.Line(nil), got...)
	mu.Unlock()

	var events, rejects bytes.Buffer
	m := new(mapping.Registry)
	m.RegisterGrammar(cyrusjson.Name, mapping.NewCyrusJSON(mapping.CyrusJSONOptions{}))
	stats := pipeline.NewStats()
	cfg := pipeline.Config{
		Parsers: []parsers.Parser{cyrusjson.New(syslog.Parser{})},
		Mappers: m, Stats: stats,
		Events:  stdout.NewNamed("events", &events),
		Rejects: stdout.NewNamed("rejects", &rejects),
	}
	must(t, pipeline.Run(context.Background(), &lines{in}, cfg))
	must(t, cfg.Events.Close(context.Background()))
	must(t, cfg.Rejects.Close(context.Background()))
	eventtest.CheckLines(t, events.Bytes())
	if rejects.Len() != 0 {
		t.Errorf("dead letters:\n%s", rejects.Bytes())
	}

	inbox := event.URL{User: "alice", Host: cyrustest.ServerName, Mailbox: "INBOX", UIDValidity: sel.UIDValidity}
	work := event.URL{User: "alice", Host: cyrustest.ServerName, Mailbox: "Work", UIDValidity: st.UIDValidity}
	archive := work
	archive.Mailbox = "Archive"
	msg1, msg2 := inbox, inbox
	msg1.UID, msg2.UID = 1, 2
	server := event.URL{Host: cyrustest.ServerName}
	type want struct {
		typ, user, uri, uidset, old string
	}
	wants := []want{
		{"Login", "cyrus", server.String(), "", ""},
		{"MailboxCreate", "alice", inbox.String(), "", ""}, // the owner; the admin who created it is "admin"
		{"Logout", "cyrus", server.String(), "", ""},
		{"Login", "alice", server.String(), "", ""},
		{"MessageAppend", "alice", msg1.String(), "1", ""},
		{"MessageRead", "alice", inbox.String(), "1", ""},
		{"MessageTrash", "alice", inbox.String(), "1", ""},
		{"MessageExpunge", "alice", inbox.String(), "1", ""},
		{"MailboxCreate", "alice", work.String(), "", ""},
		{"MailboxRename", "alice", archive.String(), "", work.String()},
		{"MailboxDelete", "alice", archive.String(), "", ""},
		{"Logout", "alice", server.String(), "", ""},
		{"MessageNew", "alice", msg2.String(), "2", ""},
	}
	var gotEvents []want
	for l := range bytes.Lines(events.Bytes()) {
		var e map[string]any
		must(t, json.Unmarshal(l, &e))
		str := func(k string) string { s, _ := e[k].(string); return s }
		gotEvents = append(gotEvents, want{str("event"), str("user"), str("uri"), str("uidset"), str("oldMailboxID")})
		if src, _ := e["vnd.mailevents.source"].(map[string]any); src["file"] == "" {
			t.Errorf("no source: %s", l)
		}
	}
	if len(gotEvents) != len(wants) {
		t.Errorf("got %d events, want %d:\n%s", len(gotEvents), len(wants), events.Bytes())
	}
	for i := range min(len(gotEvents), len(wants)) {
		if gotEvents[i] != wants[i] {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, gotEvents[i], wants[i])
		}
	}
	if sel.UIDValidity == 0 {
		t.Error("SELECT reported no UIDVALIDITY")
	}
	t.Logf("%s, %d notifications (%v ignored by the grammar):\n%s", s.Version, len(in), stats.Ignored, events.Bytes())
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
