// Package enrich adds to mapped events the facts their evidence lacks.
//
// Dovecot's logs never carry a mailbox's UIDVALIDITY, which RFC 5423 §4.1
// requires in the mailbox identifier of MessageNew, MessageExpunge and
// MessageExpire. On a host that runs Dovecot, UIDValidity asks doveadm for it.
package enrich

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailevents/mailevents/event"
)

// UIDValidity fills in ;UIDVALIDITY= in the uri, mailboxID and oldMailboxID
// of events, asking `doveadm mailbox status -u USER uidvalidity MAILBOX`.
//
// Answers are cached per (user, mailbox) for TTL, and failures for a shorter
// time, so a busy mailbox costs one doveadm run per TTL. The value is the
// mailbox's UIDVALIDITY when the event is processed, which is the one at the
// event's time unless the mailbox was deleted and re-created in between; a
// mailbox that no longer exists (after MailboxDelete, or a rename's old name)
// is left without one rather than guessed.
type UIDValidity struct {
	// Doveadm is the command and leading arguments, e.g.
	// {"doveadm"} or {"doveadm", "-c", "/etc/dovecot/dovecot.conf"}.
	Doveadm []string
	// Timeout bounds one doveadm run (default 2s): a stuck doveadm must not
	// stall the stream.
	Timeout time.Duration
	// TTL is how long an answer is reused (default 10m).
	TTL time.Duration
	// MaxEntries bounds the cache (default 10000).
	MaxEntries int

	mu    sync.Mutex
	cache map[mailboxKey]cached
	runs  int
}

type mailboxKey struct{ user, mailbox string }

type cached struct {
	uidvalidity uint32 // 0: doveadm could not tell
	expires     time.Time
}

// negativeTTL is how long a failed lookup is remembered: long enough not to
// run doveadm for every line of a burst, short enough to recover quickly.
const negativeTTL = 30 * time.Second

// Enrich adds UIDVALIDITY to the event's IMAP URLs that lack it.
func (u *UIDValidity) Enrich(ctx context.Context, e *event.Event) {
	for _, p := range []event.Param{event.URI, event.MailboxID, event.OldMailboxID} {
		raw := e.GetString(p)
		if raw == "" {
			continue
		}
		url, err := event.ParseURL(raw)
		if err != nil || url.UIDValidity != 0 || url.Mailbox == "" || url.User == "" {
			continue
		}
		if v := u.lookup(ctx, url.User, url.Mailbox); v != 0 {
			url.UIDValidity = v
			e.SetURL(p, url)
		}
	}
}

// Runs reports how many times doveadm was run (for tests and metrics).
func (u *UIDValidity) Runs() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.runs
}

func (u *UIDValidity) lookup(ctx context.Context, user, mailbox string) uint32 {
	key := mailboxKey{user, mailbox}
	now := time.Now()
	u.mu.Lock()
	if c, ok := u.cache[key]; ok && now.Before(c.expires) {
		u.mu.Unlock()
		return c.uidvalidity
	}
	u.runs++
	u.mu.Unlock()

	v, err := u.ask(ctx, user, mailbox)
	ttl := u.TTL
	if ttl <= 0 {
		ttl = 10 * time.Minute
	}
	if err != nil {
		v, ttl = 0, negativeTTL
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	max := u.MaxEntries
	if max <= 0 {
		max = 10000
	}
	if u.cache == nil || len(u.cache) >= max {
		// Dropping everything is crude but bounded and rare: the cache
		// refills from the mailboxes that are active.
		u.cache = make(map[mailboxKey]cached)
	}
	u.cache[key] = cached{uidvalidity: v, expires: now.Add(ttl)}
	return v
}

// ask runs doveadm once.
func (u *UIDValidity) ask(ctx context.Context, user, mailbox string) (uint32, error) {
	timeout := u.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := u.Doveadm
	if len(cmd) == 0 {
		cmd = []string{"doveadm"}
	}
	args := append(append([]string{}, cmd[1:]...), "-f", "flow", "mailbox", "status", "-u", user, "uidvalidity", mailbox)
	var stdout, stderr bytes.Buffer
	c := exec.CommandContext(ctx, cmd[0], args...)
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		return 0, fmt.Errorf("doveadm mailbox status for %s %q: %w: %s", user, mailbox, err, strings.TrimSpace(stderr.String()))
	}
	val, ok := flowValue(stdout.String(), mailbox)
	if !ok {
		return 0, fmt.Errorf("doveadm mailbox status: unexpected output %q", stdout.String())
	}
	n, err := strconv.ParseUint(val, 10, 32)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("doveadm mailbox status: bad uidvalidity %q", val)
	}
	return uint32(n), nil
}

// flowValue finds mailbox's uidvalidity in `doveadm -f flow mailbox status`
// output. Dovecot 2.3 prints the mailbox name first, untitled, then the
// field: "My Folder uidvalidity=N". The argument is a mask, not a name ('*'
// and '%' are wildcards, so "100%" also matches "100" and "100x"), hence one
// line per matching mailbox: only the line naming mailbox exactly counts.
// A bare "uidvalidity=N" line (a doveadm that omits the name) is accepted
// when it is the only line.
func flowValue(out, mailbox string) (string, bool) {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	for _, line := range lines {
		if v, ok := strings.CutPrefix(line, mailbox+" uidvalidity="); ok {
			return v, true
		}
	}
	if v, ok := strings.CutPrefix(lines[0], "uidvalidity="); ok && len(lines) == 1 {
		return v, true
	}
	return "", false
}
