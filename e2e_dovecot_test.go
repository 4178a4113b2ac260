package main

// End-to-end: a real Dovecot, configured with the snippet we ship to admins,
// is driven by real IMAP, POP3 and LMTP clients; `mailevents parse` must turn
// the log it wrote into exactly the events the scenario's steps imply.

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mailevents/mailevents/event/eventtest"
	"github.com/mailevents/mailevents/internal/dovecottest"
)

var updateReal = flag.Bool("update-real", false,
	"copy the logs of the e2e Dovecot runs to parsers/dovecot/testdata/real-<mode>.log")

// wantEvent is what the test asserts of one event: its type and the
// parameters that carry meaning. Session is a label ("main", "lmtp-bob")
// that must stand for one session id throughout, and for no other label's.
type wantEvent struct {
	Event, Service, User                        string
	URI, MailboxID, OldMailboxID, UIDSet, Flags string
	ClientIP, ServerDomain                      string
	ClientPort, ServerPort, MessageSize         int64
	MsgID, Disconnect, Session                  string
}

// project reads the parameters wantEvent compares from one JSON event.
func project(t *testing.T, line []byte) wantEvent {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatalf("event is not JSON: %v: %s", err, line)
	}
	str := func(k string) string { s, _ := m[k].(string); return s }
	num := func(k string) int64 { n, _ := m[k].(float64); return int64(n) }
	return wantEvent{
		Event: str("event"), Service: str("service"), User: str("user"),
		URI: str("uri"), MailboxID: str("mailboxID"), OldMailboxID: str("oldMailboxID"),
		UIDSet: str("uidset"), Flags: str("flagNames"),
		ClientIP: str("clientIP"), ServerDomain: str("serverDomain"),
		ClientPort: num("clientPort"), ServerPort: num("serverPort"), MessageSize: num("messageSize"),
		MsgID: str("vnd.mailevents.msgid"), Disconnect: str("vnd.mailevents.disconnect"),
		Session: str("vnd.mailevents.session"),
	}
}

// labelSessions replaces got's session ids by want's labels where the
// pairing is consistent (one id per label, one label per id), so that a
// diff shows only the events that break it.
func labelSessions(want, got []wantEvent) {
	byLabel, byID := map[string]string{}, map[string]string{}
	for i := range got {
		if i >= len(want) || got[i].Session == "" {
			continue
		}
		label, id := want[i].Session, got[i].Session
		l, idSeen := byID[id]
		d, labelSeen := byLabel[label]
		switch {
		case !idSeen && !labelSeen:
			byID[id], byLabel[label] = label, id
		case idSeen && l == label && d == id:
		default:
			continue // left as the raw id: the diff shows it
		}
		got[i].Session = label
	}
}

// parseLog runs `mailevents parse` on path as a user would, checks every
// event against the schema and that no line was rejected, and returns the
// raw output.
func parseLog(t *testing.T, path string, extra ...string) []byte {
	t.Helper()
	var out, errOut bytes.Buffer
	rejects := filepath.Join(t.TempDir(), "rejects.jsonl")
	args := append([]string{"parse", "--host", "mail.test", "--rejects", rejects}, extra...)
	e := env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, grammars: defaultGrammars()}
	if code := run(context.Background(), append(args, path), e); code != exitOK {
		t.Fatalf("parse exit %d: %s", code, errOut.String())
	}
	if errOut.Len() > 0 {
		t.Errorf("parse wrote to stderr: %s", errOut.String())
	}
	// Every line Dovecot wrote is an event or a line the grammar knows to
	// carry none: nothing may be dead-lettered.
	if rej, err := os.ReadFile(rejects); err != nil || len(rej) > 0 {
		t.Errorf("rejected lines (%v):\n%s", err, rej)
	}
	eventtest.CheckLines(t, out.Bytes())
	return out.Bytes()
}

func projectAll(t *testing.T, out []byte) []wantEvent {
	var got []wantEvent
	for line := range bytes.Lines(out) {
		got = append(got, project(t, bytes.TrimSuffix(line, []byte("\n"))))
	}
	return got
}

// snippet is the configuration we ship to admins; the e2e server includes
// it instead of the harness's own mail_log and login_log_format settings.
func snippet(t *testing.T) string {
	p, err := filepath.Abs(filepath.Join("packaging", "dovecot", "95-mailevents.conf"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// syslogHost is the host rsyslogd writes in its lines (the short host name
// by default), which the events' URLs carry instead of --host.
func syslogHost(t *testing.T) string {
	h, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	h, _, _ = strings.Cut(h, ".")
	return h
}

func TestE2EDovecot(t *testing.T) {
	modes := []struct {
		name string
		opts dovecottest.Options
	}{
		{"file", dovecottest.Options{}},
		{"iso", dovecottest.Options{LogTimestamp: dovecottest.ISOTimestamp}},
		{"syslog", dovecottest.Options{Log: dovecottest.LogSyslog}},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			// Each mode has its own server and ports; syslog mode takes
			// the /dev/log lock itself.
			t.Parallel()
			opts := m.opts
			opts.QuotaUsers = map[string]int64{"bob": 1}
			opts.Autoexpunge = 1e9 // 1s
			opts.Include = []string{snippet(t)}
			srv := dovecottest.Start(t, opts)
			sc := &scenario{t: t, srv: srv, host: "mail.test"}
			if m.opts.Log == dovecottest.LogSyslog {
				sc.host = syslogHost(t)
			}
			sc.run()
			if m.name == "file" {
				// doveadm needs the running server (its auth socket).
				checkUIDValidity(t, sc)
			}
			srv.Stop()

			got := projectAll(t, parseLog(t, srv.LogPath))
			labelSessions(sc.want, got)
			if diff := cmp.Diff(sc.want, got); diff != "" {
				t.Errorf("events differ (-want +got):\n%s\nlog:\n%s", diff, srv.Log())
			}
			if *updateReal && !t.Failed() {
				dst := filepath.Join("parsers", "dovecot", "testdata", "real-"+m.name+".log")
				if err := os.WriteFile(dst, srv.Log(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

var uidValidityRE = regexp.MustCompile(`;UIDVALIDITY=(\d+)`)

// checkUIDValidity runs parse --uidvalidity with the server's doveadm and
// checks each URL's UIDVALIDITY against what IMAP STATUS said, and that
// mailboxes that no longer exist get none. Apart from that, the events must
// be exactly the scenario's.
func checkUIDValidity(t *testing.T, sc *scenario) {
	// The log is complete up to the scenario's last line, which it waited for.
	out := parseLog(t, sc.srv.LogPath, "--uidvalidity", "--doveadm", "doveadm -c "+sc.srv.Conf)
	got := projectAll(t, out)
	prefix := "imap://alice@" + sc.host + "/"
	for i := range got {
		for _, u := range []*string{&got[i].URI, &got[i].MailboxID, &got[i].OldMailboxID} {
			if *u == "" || got[i].Event == "Login" || got[i].Event == "Logout" || got[i].Event == "vnd.mailevents.LoginFailed" {
				continue
			}
			checkOneUIDValidity(t, sc, prefix, *u)
			*u = uidValidityRE.ReplaceAllString(*u, "")
		}
	}
	labelSessions(sc.want, got)
	if diff := cmp.Diff(sc.want, got); diff != "" {
		t.Errorf("with --uidvalidity, events differ beyond UIDVALIDITY (-want +got):\n%s", diff)
	}
}

func checkOneUIDValidity(t *testing.T, sc *scenario, prefix, u string) {
	t.Helper()
	var have uint32
	if m := uidValidityRE.FindStringSubmatch(u); m != nil {
		n, _ := strconv.ParseUint(m[1], 10, 32)
		have = uint32(n)
	}
	if !strings.HasPrefix(u, prefix) {
		// bob's and carol's mailboxes exist; IMAP as them is not part of
		// the scenario, so only presence is checked.
		if have == 0 {
			t.Errorf("%s: no UIDVALIDITY", u)
		}
		return
	}
	box, _, _ := strings.Cut(uidValidityRE.ReplaceAllString(strings.TrimPrefix(u, prefix), ""), "/;UID=")
	name := decodeBox(t, box)
	want, exists := sc.uidvalidity[name]
	for _, g := range sc.gone {
		if g == name {
			exists = false
		}
	}
	switch {
	case !exists && have != 0:
		t.Errorf("%s: UIDVALIDITY for mailbox %q, which no longer exists", u, name)
	case exists && have != want:
		t.Errorf("%s: UIDVALIDITY %d, IMAP STATUS says %d", u, have, want)
	}
}

// decodeBox undoes percent-encoding by hand (no url package: a mailbox is
// not a URL path segment, "/" is its hierarchy).
func decodeBox(t *testing.T, s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			n, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				t.Fatalf("bad escape in %q", s)
			}
			b.WriteByte(byte(n))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
