// Package cyrusnotify stands in for Cyrus IMAP's notifyd on the Unix socket
// that imapd.conf's notifysocket names, so that Cyrus's native event
// notifications (event_notifier) reach mailevents without notifyd or syslog.
//
// Cyrus's notify() (imap/notify.c) has two forms, both handled here:
//
//   - datagram (the default, Listen): one SOCK_DGRAM datagram per
//     notification, NUL-separated fields method, class, priority, user,
//     mailbox, the number of options, the options, the message (the event's
//     JSON) and an optional file name. Fire and forget: Cyrus neither waits
//     nor learns whether anyone read it, and drops (with a syslog error) a
//     notification larger than min(SO_SNDBUF/10-32, 8192) bytes.
//   - acknowledged stream (ListenStream, notifysocket "dlist:PATH"): one
//     SOCK_STREAM connection per notification carrying a Cyrus dlist
//     "NOTIFY %(METHOD … MESSAGE … FILEPATH …)"; Cyrus waits for a one-line
//     dlist answer, logs it, and closes.
//
// Every notification becomes a source.Line (Text the message, Source the
// socket path, Offset a per-listener sequence number) handed to a Handler.
//
// Delivery contract: in stream mode a notification is answered "OK" only
// after the Handler returned nil, i.e. after mailevents took it over; if the
// Handler fails, the connection is closed without an answer and Cyrus logs
// "NOTIFY(…): error sending". Cyrus 3.x never resends, so the guarantee is
// that an acknowledged notification was handed over (and a notification
// handed over may still be unacknowledged, when the answer is lost: the
// handover is at least once, Cyrus's side at most once). Datagrams cannot be
// acknowledged at all. Nothing received is dropped silently: an oversize or
// malformed notification is handed over too, as a line the grammar rejects.
package cyrusnotify

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/mailevents/mailevents/source"
)

// MaxDatagram is the largest datagram read whole. Cyrus sends at most 8192
// bytes (NOTIFY_MAXSIZE); a larger one is handed over marked Truncated.
const MaxDatagram = 64 << 10

// MaxStreamMessage bounds one stream notification, to protect memory from a
// misbehaving peer; Cyrus's messages are events of a few KiB (more with
// messageContent).
const MaxStreamMessage = 16 << 20

// Notification is one request Cyrus sent.
type Notification struct {
	// Line carries the message: the event's JSON for native events.
	Line source.Line
	// The other fields of notify(). For native events Method is
	// imapd.conf's event_notifier and Class is "EVENT".
	Method, Class, Priority, User, Mailbox string
	Options                                []string
	FilePath                               string
	// Malformed is set when the request did not have notify()'s shape;
	// Line.Text is then the raw request, for the dead letters.
	Malformed bool
}

// Handler takes a notification over. A nil error means mailevents has it;
// in stream mode only then does Cyrus get its "OK". Serve calls it from one
// goroutine at a time, in the order the notifications arrived.
type Handler func(ctx context.Context, n Notification) error

// Listener is a bound notify socket.
type Listener struct {
	path   string
	stream bool
	dgram  *net.UnixConn
	ln     *net.UnixListener
	seq    atomic.Int64
	mu     sync.Mutex // serialises Handler calls, so Offsets arrive in order
	closed atomic.Bool
}

// Listen binds a datagram socket at path, as notifyd does (notifysocket:
// PATH). A stale socket file at path is replaced. The Cyrus services must be
// able to write to it: chown or chmod it after Listen.
func Listen(path string) (*Listener, error) {
	_ = removeSocket(path)
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("cyrusnotify: %w", err)
	}
	return &Listener{path: path, dgram: c}, nil
}

// ListenStream binds a stream socket at path for Cyrus's acknowledged form
// (notifysocket: dlist:PATH).
func ListenStream(path string) (*Listener, error) {
	_ = removeSocket(path)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("cyrusnotify: %w", err)
	}
	ln.SetUnlinkOnClose(true)
	return &Listener{path: path, stream: true, ln: ln}, nil
}

// removeSocket removes a leftover socket, never a regular file.
func removeSocket(path string) error {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&os.ModeSocket == 0 {
		return err
	}
	return os.Remove(path)
}

// Path returns the socket's path.
func (l *Listener) Path() string { return l.path }

// Close stops Serve. It is idempotent.
func (l *Listener) Close() error {
	if l.closed.Swap(true) {
		return nil
	}
	if l.stream {
		return l.ln.Close()
	}
	err := l.dgram.Close()
	_ = os.Remove(l.path)
	return err
}

// Serve receives notifications until ctx ends or Close, handing each to h.
// It returns nil after Close or the end of ctx, else the socket's error. In
// datagram mode an error of h is returned at once (the notification cannot
// be refused); in stream mode it only refuses that notification.
func (l *Listener) Serve(ctx context.Context, h Handler) error {
	stop := context.AfterFunc(ctx, func() { _ = l.Close() })
	defer stop()
	var err error
	if l.stream {
		err = l.serveStream(ctx, h)
	} else {
		err = l.serveDatagrams(ctx, h)
	}
	if l.closed.Load() {
		return nil
	}
	return err
}

func (l *Listener) serveDatagrams(ctx context.Context, h Handler) error {
	buf := make([]byte, MaxDatagram)
	for {
		n, _, flags, _, err := l.dgram.ReadMsgUnix(buf, nil)
		if err != nil {
			return err
		}
		nt := ParseDatagram(buf[:n])
		nt.Line.Truncated = flags&msgTrunc != 0
		if err := l.hand(ctx, h, nt); err != nil {
			return err
		}
	}
}

// hand numbers a notification and hands it over.
func (l *Listener) hand(ctx context.Context, h Handler, nt Notification) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	off := l.seq.Add(1) - 1
	nt.Line.Position = source.Position{Source: l.path, Offset: off, End: off + 1}
	return h(ctx, nt)
}

// ParseDatagram splits a datagram as notifyd's do_notify() does. The
// message is copied, so the buffer can be reused.
func ParseDatagram(b []byte) Notification {
	raw := bytes.Clone(b)
	fields := bytes.Split(bytes.TrimSuffix(raw, []byte{0}), []byte{0})
	bad := Notification{Line: source.Line{Text: raw}, Malformed: true}
	if len(fields) < 7 {
		return bad
	}
	nopt, err := strconv.Atoi(string(fields[5]))
	if err != nil || nopt < 0 || 6+nopt >= len(fields) || len(fields) > 8+nopt {
		return bad
	}
	nt := Notification{
		Method: string(fields[0]), Class: string(fields[1]), Priority: string(fields[2]),
		User: string(fields[3]), Mailbox: string(fields[4]),
		Line: source.Line{Text: fields[6+nopt]},
	}
	for _, o := range fields[6 : 6+nopt] {
		nt.Options = append(nt.Options, string(o))
	}
	if len(fields) == 8+nopt {
		nt.FilePath = string(fields[7+nopt])
	}
	return nt
}
