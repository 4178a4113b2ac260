package cyrusnotify_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/mailevents/mailevents/internal/cyrustest"
	"github.com/mailevents/mailevents/internal/mailtest"
	"github.com/mailevents/mailevents/source/cyrusnotify"
)

// packagedConf is the imapd.conf fragment mailevents ships for Cyrus.
const packagedConf = "../../packaging/cyrus/imapd-mailevents.conf"

// crashLine is what master or a service logs when a service dies: an
// assertion (fatal()), or a signal. Master's own SIGTERM to an idle child at
// shutdown (Stop) is not a crash: shutdownKill excludes it.
var (
	crashLine    = regexp.MustCompile(`Fatal error|signaled to death|terminated abnormally|exited, status [1-9]`)
	shutdownKill = regexp.MustCompile(`signaled to death by signal 15 \(Terminated\)`)
)

// TestPackagedConf starts a real Cyrus with packaging/cyrus's fragment
// merged into its imapd.conf (its notifysocket pointed at a Listener of the
// form the fragment chooses) and checks that the evidence mailevents reads
// appears: auditlog lines in the syslog and native notifications on the
// socket. It also crosses a quota and checks that no Cyrus process died
// doing it: with the "quota" event group on, Cyrus 3.6.1's lmtpd dies there
// (parsers/cyrus/README.md, "Known Cyrus defects"), which is why the
// fragment leaves that group out.
func TestPackagedConf(t *testing.T) {
	raw, err := os.ReadFile(packagedConf)
	must(t, err)
	var conf strings.Builder
	stream := false
	for line := range strings.Lines(string(raw)) {
		if v, ok := strings.CutPrefix(line, "notifysocket:"); ok {
			stream = strings.HasPrefix(strings.TrimSpace(v), "dlist:")
			continue // the harness's directory, not /run/cyrus
		}
		conf.WriteString(line)
	}

	var mu sync.Mutex
	var got []string
	handle := func(_ context.Context, n cyrusnotify.Notification) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, string(n.Line.Text))
		return nil
	}
	listen := func(dir string, uid, gid int) (string, error) {
		path := filepath.Join(dir, "mailevents.sock")
		listen, prefix := cyrusnotify.Listen, ""
		if stream {
			listen, prefix = cyrusnotify.ListenStream, "dlist:"
		}
		l, err := listen(path)
		if err != nil {
			return "", err
		}
		if err := os.Chown(path, uid, gid); err != nil {
			return "", err
		}
		go func() { _ = l.Serve(context.Background(), handle) }()
		t.Cleanup(func() { l.Close() })
		return prefix + path, nil
	}
	s := cyrustest.Start(t, cyrustest.Options{Users: []string{"alice"}, NotifyListen: listen, ExtraConf: conf.String()})

	// A 1 KiB storage quota on alice, then deliveries that cross it.
	admin := mailtest.DialIMAP(t, s.IMAPAddr, cyrustest.Admin, cyrustest.Password)
	must(t, admin.SetQuota("user/alice", map[imap.QuotaResourceType]int64{imap.QuotaResourceStorage: 1}).Wait())
	must(t, admin.Logout().Wait())
	body := strings.Repeat("x", 700)
	for i := range 3 {
		msg := fmt.Appendf(nil, "From: a@example.net\r\nSubject: q%d\r\nMessage-ID: <q%d@example.net>\r\n\r\n%s\r\n", i, i, body)
		res := mailtest.DeliverLMTP(t, s.LMTPAddr, "a@example.net", []string{"alice@example.org"}, msg)
		t.Logf("delivery %d: %v", i, res[0])
	}
	s.WaitForLog(t, "Delivered: <q0@example.net>", 10*time.Second)
	s.WaitForLog(t, "auditlog: append ", 10*time.Second)
	c := mailtest.DialIMAP(t, s.IMAPAddr, "alice", cyrustest.Password)
	must(t, c.Logout().Wait())

	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		all := strings.Join(got, "\n")
		mu.Unlock()
		if strings.Contains(all, `"MessageNew"`) && strings.Contains(all, `"Logout"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no MessageNew and Logout notifications; got:\n%s", all)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Stop()
	log := s.Log()
	for line := range bytes.Lines(log) {
		if crashLine.Match(line) && !shutdownKill.Match(line) {
			t.Errorf("a Cyrus process died: %s", bytes.TrimSpace(line))
		}
		if bytes.Contains(line, []byte("Cannot notify")) || bytes.Contains(line, []byte("Fatal error")) {
			t.Logf("%s", bytes.TrimSpace(line))
		}
	}
	mu.Lock()
	defer mu.Unlock()
	var types []string
	for _, n := range got {
		if m := regexp.MustCompile(`"event":"([^"]+)"`).FindStringSubmatch(n); m != nil {
			types = append(types, m[1])
		}
	}
	t.Logf("%s; %d notifications (stream %v): %s", s.Version, len(got), stream, strings.Join(types, " "))
	if !bytes.Contains(log, []byte("auditlog: append ")) {
		t.Errorf("no auditlog line in the syslog")
	}
	for _, want := range []string{"Login", "MessageNew", "Logout"} {
		if !strings.Contains(strings.Join(types, " "), want) {
			t.Errorf("no %s notification", want)
		}
	}
}
