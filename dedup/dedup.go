// Package dedup drops the second report of one action when a host feeds
// mailevents two evidence paths of one server, such as Cyrus's syslog
// (auditlog) and its native event notifications.
//
// Two events are reports of one action when they have the same key: the
// session id (vnd.mailevents.session), the event type, the mailbox (user
// and name of the uri, without host, UIDVALIDITY or UID) and the uidset
// (the uri's UID when there is no uidset), and come from different origins
// (grammars), within Window of each other. The host is left out because the
// paths name the server differently (syslog's hostname, Cyrus's
// servername), UIDVALIDITY because one path may lack it. Within one origin
// nothing is ever dropped: a session may repeat an action (\Seen set,
// cleared, set again) and each is an event. Reports are matched one to
// one, oldest first, so two repeats on one path and two on the other leave
// two events. Events without a session id are never dropped.
package dedup

import (
	"strconv"
	"time"

	"github.com/mailevents/mailevents/event"
)

// Defaults of New.
const (
	DefaultWindow = 2 * time.Minute
	DefaultMax    = 100000
)

// Key identifies one action across evidence paths.
type Key struct {
	Session, Type, Mailbox, UIDSet string
}

// KeyOf returns e's key; ok is false for an event without a session id.
func KeyOf(e *event.Event) (k Key, ok bool) {
	k.Session = e.GetString(event.Session)
	if k.Session == "" {
		return Key{}, false
	}
	k.Type = string(e.Type)
	k.UIDSet = e.GetString(event.UIDSetParam)
	if u, err := event.ParseURL(e.GetString(event.URI)); err == nil {
		if u.Mailbox != "" {
			k.Mailbox = u.User + "/" + u.Mailbox
		}
		if k.UIDSet == "" && u.UID != 0 {
			k.UIDSet = strconv.FormatUint(uint64(u.UID), 10)
		}
	}
	return k, true
}

// pending is a key's reports from one origin not matched yet, oldest first.
type pending struct {
	origin string
	times  []time.Time
}

type queued struct {
	key Key
	t   time.Time
}

// Set remembers recent events. It is not safe for concurrent use (the
// pipeline calls it from one goroutine).
type Set struct {
	// Window is how far apart in event time two reports of one action may
	// be; Max bounds the reports remembered (the oldest is forgotten).
	Window time.Duration
	Max    int

	m     map[Key]*pending
	queue []queued // every remembered report, in arrival order
	n     int      // remembered reports not yet matched or forgotten
}

// New returns an empty Set; window or max <= 0 take the defaults.
func New(window time.Duration, max int) *Set {
	if window <= 0 {
		window = DefaultWindow
	}
	if max <= 0 {
		max = DefaultMax
	}
	return &Set{Window: window, Max: max, m: map[Key]*pending{}}
}

// Duplicate reports whether e, from origin at time t, repeats an event of
// another origin remembered within Window; that event is then matched and
// forgotten. Otherwise e is remembered and Duplicate returns false.
func (s *Set) Duplicate(e *event.Event, origin string, t time.Time) bool {
	k, ok := KeyOf(e)
	if !ok {
		return false
	}
	if p := s.m[k]; p != nil && p.origin != origin {
		for len(p.times) > 0 {
			first := p.times[0]
			p.times = p.times[1:]
			s.n--
			if within(first, t, s.Window) {
				if len(p.times) == 0 {
					delete(s.m, k)
				}
				return true
			}
		}
		delete(s.m, k)
	}
	p := s.m[k]
	if p == nil {
		p = &pending{origin: origin}
		s.m[k] = p
	}
	p.times = append(p.times, t)
	s.queue = append(s.queue, queued{k, t})
	s.n++
	for s.n > s.Max && len(s.queue) > 0 {
		s.forget()
	}
	// The queue also holds reports matched since: compact it when mostly stale.
	if len(s.queue) > 2*s.Max {
		s.compact()
	}
	return false
}

// forget drops the oldest remembered report.
func (s *Set) forget() {
	q := s.queue[0]
	s.queue = s.queue[1:]
	p := s.m[q.key]
	if p == nil || len(p.times) == 0 || !p.times[0].Equal(q.t) {
		return // matched already
	}
	p.times = p.times[1:]
	s.n--
	if len(p.times) == 0 {
		delete(s.m, q.key)
	}
}

func (s *Set) compact() {
	live := s.queue[:0]
	for _, q := range s.queue {
		if p := s.m[q.key]; p != nil {
			live = append(live, q)
		}
	}
	s.queue = append([]queued(nil), live...)
}

// Len returns the number of reports remembered and not matched.
func (s *Set) Len() int { return s.n }

func within(a, b time.Time, w time.Duration) bool {
	if a.IsZero() || b.IsZero() {
		return true
	}
	d := a.Sub(b)
	return d <= w && d >= -w
}
