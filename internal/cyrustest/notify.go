package cyrustest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
)

// Notification is one datagram Cyrus sent to notifysocket. notify() in
// imap/notify.c builds it as NUL-terminated fields: method, class, priority,
// user, mailbox, the number of options, the options, the message and a
// file name. For native event notifications (mboxevent) the method is
// imapd.conf's event_notifier and the message is the event as JSON.
type Notification struct {
	Raw    []byte   // the datagram as received
	Fields []string // Raw split at NUL bytes, the trailing empty one dropped
}

// Message returns the notification's message: the field after the options,
// or "" if the datagram is shorter than notify() makes them.
func (n Notification) Message() string {
	const fixed = 5 // method class priority user mailbox
	if len(n.Fields) <= fixed {
		return ""
	}
	var nopt int
	if _, err := fmt.Sscanf(n.Fields[fixed], "%d", &nopt); err != nil || nopt < 0 {
		return ""
	}
	i := fixed + 1 + nopt
	if i >= len(n.Fields) {
		return ""
	}
	return n.Fields[i]
}

// notifyListener receives on notifysocket in place of notifyd.
type notifyListener struct {
	conn *net.UnixConn
	done chan struct{}
	mu   sync.Mutex
	got  []Notification
}

// listenNotify binds the datagram socket at path, writable by the Cyrus
// user (the services run as uid:gid and sendto() needs write permission).
func listenNotify(path string, uid, gid int) (*notifyListener, error) {
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("listen on notifysocket: %w", err)
	}
	if err := os.Chown(path, uid, gid); err != nil {
		conn.Close()
		return nil, fmt.Errorf("chown notifysocket: %w", err)
	}
	l := &notifyListener{conn: conn, done: make(chan struct{})}
	go l.loop()
	return l, nil
}

func (l *notifyListener) loop() {
	defer close(l.done)
	buf := make([]byte, 1<<20)
	for {
		n, _, err := l.conn.ReadFromUnix(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		raw := bytes.Clone(buf[:n])
		fields := bytes.Split(bytes.TrimSuffix(raw, []byte{0}), []byte{0})
		nt := Notification{Raw: raw, Fields: make([]string, len(fields))}
		for i, f := range fields {
			nt.Fields[i] = string(f)
		}
		l.mu.Lock()
		l.got = append(l.got, nt)
		l.mu.Unlock()
	}
}

// close stops receiving; what was received stays readable. A nil
// *notifyListener is valid and does nothing.
func (l *notifyListener) close() {
	if l == nil {
		return
	}
	l.conn.Close()
	<-l.done
	os.Remove(l.conn.LocalAddr().String())
}

// Notifications returns the datagrams Cyrus has sent to NotifySocket so far,
// in the order received.
func (s *Server) Notifications() []Notification {
	if s.notify == nil {
		return nil
	}
	s.notify.mu.Lock()
	defer s.notify.mu.Unlock()
	return append([]Notification(nil), s.notify.got...)
}
