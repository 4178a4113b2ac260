package main

// The two evidence paths of the Cyrus end-to-end test side by side: which
// RFC 5423 types each delivers on Cyrus 3.6.1, whether they agree where both
// do, and whether `parse --dedup` over both gives each action once.

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mailevents/mailevents/internal/cyrustest"
)

var cyHostRE = regexp.MustCompile(`^imap://([^@/]*@)?[^/]*`)

// cyNeutral is an event as both paths can say it: the server's name (the
// syslog host or Cyrus's servername), UIDVALIDITY (dropped already) and a
// UID in the uri (the native path names only the mailbox for most types,
// with the uidset) left out; sizes and admin left out (see the table).
func cyNeutral(e cyEv) cyEv {
	strip := func(u string) string {
		u = cyHostRE.ReplaceAllString(u, "imap://${1}SERVER")
		u, _, _ = strings.Cut(u, "/;UID=")
		return u
	}
	return cyEv{Event: e.Event, Service: e.Service, User: e.User, URI: strip(e.URI), UIDSet: e.UIDSet,
		Flags: e.Flags, Session: e.Session}
}

// cyComparePaths pairs the events of the actions both paths report and
// prints what each path delivers per type (the table of
// parsers/cyrus/README.md).
func cyComparePaths(t *testing.T, rows []cyRow, paths [2][]cyEv, host string) {
	t.Helper()
	type counts struct{ s, n, both, agree int }
	per := map[string]*counts{}
	var order []string
	var next [2]int
	for _, r := range rows {
		c := per[r.typ]
		if c == nil {
			c = &counts{}
			per[r.typ] = c
			order = append(order, r.typ)
		}
		var ev [2]*cyEv
		for p := range 2 {
			if strings.Contains(r.paths, "SN"[p:p+1]) {
				ev[p] = &paths[p][next[p]]
				next[p]++
			}
		}
		if ev[0] != nil {
			c.s++
		}
		if ev[1] != nil {
			c.n++
		}
		if ev[0] == nil || ev[1] == nil {
			continue
		}
		c.both++
		a, b := cyNeutral(*ev[0]), cyNeutral(*ev[1])
		if r.typ == "MessageAppend" && r.old != "" {
			// COPY: the auditlog gives the new message's flags, the
			// native MessageCopy none.
			a.Flags, b.Flags = "", ""
		}
		if diff := cmp.Diff(a, b); diff != "" {
			t.Errorf("%s: the paths disagree (-syslog +native):\n%s", r.typ, diff)
			continue
		}
		c.agree++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| Type | syslog (auditlog) | native | both: agree |\n|---|---|---|---|\n")
	for _, typ := range order {
		c := per[typ]
		fmt.Fprintf(&b, "| %s | %d | %d | %d/%d |\n", typ, c.s, c.n, c.agree, c.both)
	}
	t.Logf("What each path delivers on Cyrus 3.6.1 (syslog host %s, servername %s):\n%s", host, cyrustest.ServerName, b.String())
}

// cyCheckDedup parses both files with --dedup: every syslog event, then
// only the native events no syslog line reported.
func cyCheckDedup(t *testing.T, rows []cyRow, syslogPath, notifyPath string, inboxUV uint32) {
	t.Helper()
	host := syslogHost(t)
	got := cyProject(t, cyParse(t, "--dedup", "--stats", syslogPath, notifyPath), inboxUV)
	want := cyWant(rows, 0, host)
	onlyNative := slices.DeleteFunc(slices.Clone(rows), func(r cyRow) bool { return r.paths != "N" })
	want = append(want, cyWant(onlyNative, 1, cyrustest.ServerName)...)
	cyLabel(want, got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("--dedup: events differ (-want +got):\n%s", diff)
	}
	both := 0
	for _, r := range rows {
		if r.paths == "SN" {
			both++
		}
	}
	t.Logf("--dedup: %d events from %d actions; %d reported by both paths", len(got), len(rows), both)
}
