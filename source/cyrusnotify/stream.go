package cyrusnotify

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/mailevents/mailevents/source"
)

// msgTrunc is the recvmsg flag of a datagram longer than the buffer.
const msgTrunc = syscall.MSG_TRUNC

// requestTimeout bounds how long a stream connection may take to send one
// request; Cyrus writes its request at once and then waits for the answer.
const requestTimeout = 30 * time.Second

// okAnswer is what Cyrus's notify_dlist() reads with dlist_parse(): a key
// (the answer's name, which it logs) and a value. It has no other meaning
// to Cyrus.
const okAnswer = "OK NIL\r\n"

func (l *Listener) serveStream(ctx context.Context, h Handler) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	defer func() {
		// Close reading connections so their goroutines end; a Handler
		// already running finishes first.
		mu.Lock()
		for c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	}()
	for {
		c, err := l.ln.AcceptUnix()
		if err != nil {
			return err
		}
		mu.Lock()
		conns[c] = true
		mu.Unlock()
		wg.Go(func() {
			l.serveConn(ctx, h, c)
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
		})
	}
}

// serveConn answers the requests of one connection (Cyrus sends one and
// closes; more are accepted in the same way).
func (l *Listener) serveConn(ctx context.Context, h Handler, c *net.UnixConn) {
	defer c.Close()
	r := bufio.NewReader(io.LimitReader(c, MaxStreamMessage))
	for {
		_ = c.SetReadDeadline(time.Now().Add(requestTimeout))
		nt, ok := nextRequest(r)
		if !ok {
			return // the peer closed between requests
		}
		if nt.Malformed {
			// Never silently: the bytes go to the dead letters, and
			// the request gets no answer.
			_ = l.hand(ctx, h, nt)
			return
		}
		if err := l.hand(ctx, h, nt); err != nil {
			return // no answer: Cyrus logs that the notification failed
		}
		if _, err := io.WriteString(c, okAnswer); err != nil {
			return
		}
	}
}

// nextRequest decodes the next request of a stream connection. ok is false
// only when the stream ended cleanly between requests (nothing but ASCII
// whitespace was read). A request that does not decode comes back Malformed
// with the bytes read up to the error; the rest of the connection is not
// read (it is closed unanswered, so Cyrus logs the failure).
func nextRequest(r *bufio.Reader) (nt Notification, ok bool) {
	rec := recorder{r: r}
	nt, err := readRequest(&rec)
	if errors.Is(err, io.EOF) && isBlank(rec.buf.Bytes()) {
		return Notification{}, false
	}
	if err != nil {
		return Notification{Line: source.Line{Text: rec.buf.Bytes()}, Malformed: true}, true
	}
	return nt, true
}

// isBlank reports whether b holds only the ASCII whitespace that may
// separate requests. Only ASCII: bytes.TrimSpace would also take a Unicode
// space (U+2001, NBSP, …) for a separator and drop it silently (found by
// FuzzDlist).
func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

// recorder keeps what was read, for a malformed request's dead letter.
type recorder struct {
	r   *bufio.Reader
	buf bytes.Buffer
}

func (r *recorder) ReadByte() (byte, error) {
	b, err := r.r.ReadByte()
	if err == nil {
		r.buf.WriteByte(b)
	}
	return b, err
}

func (r *recorder) peek() (byte, error) {
	b, err := r.r.Peek(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

// dval is one dlist value: an atom or string (nil for NIL), a list, or a
// key-value list.
type dval struct {
	str  *string
	list []dval
	keys []string // for a kvlist, the keys of list's values
	kv   bool
}

// readRequest reads `NOTIFY %(METHOD m CLASS c … MESSAGE msg FILEPATH f)`
// and its CRLF, as Cyrus's dlist_print() writes it.
func readRequest(r *recorder) (Notification, error) {
	name, err := readAString(r)
	if err != nil {
		return Notification{}, err
	}
	if name == nil || *name != "NOTIFY" {
		return Notification{}, errors.New("not a NOTIFY request")
	}
	if b, err := r.ReadByte(); err != nil || b != ' ' {
		return Notification{}, errors.New("no space after the name")
	}
	v, err := readValue(r, 0)
	if err != nil {
		return Notification{}, err
	}
	if !v.kv {
		return Notification{}, errors.New("NOTIFY is not a kvlist")
	}
	if err := readEOL(r); err != nil {
		return Notification{}, err
	}
	var nt Notification
	var haveMessage bool
	for i, k := range v.keys {
		item := v.list[i]
		s := ""
		if item.str != nil {
			s = *item.str
		}
		switch k {
		case "METHOD":
			nt.Method = s
		case "CLASS":
			nt.Class = s
		case "PRIORITY":
			nt.Priority = s
		case "USER":
			nt.User = s
		case "MAILBOX":
			nt.Mailbox = s
		case "FILEPATH":
			nt.FilePath = s
		case "MESSAGE":
			nt.Line.Text, haveMessage = []byte(s), item.str != nil
		case "OPTIONS":
			for _, o := range item.list {
				if o.str != nil {
					nt.Options = append(nt.Options, *o.str)
				}
			}
		}
	}
	if !haveMessage {
		return Notification{}, errors.New("no MESSAGE")
	}
	return nt, nil
}

func readEOL(r *recorder) error {
	b, err := r.ReadByte()
	if err == nil && b == '\r' {
		b, err = r.ReadByte()
	}
	if err != nil || b != '\n' {
		return errors.New("no CRLF after the request")
	}
	return nil
}

// maxDepth bounds nesting: Cyrus's NOTIFY has two levels.
const maxDepth = 8

func readValue(r *recorder, depth int) (dval, error) {
	if depth > maxDepth {
		return dval{}, errors.New("dlist nested too deeply")
	}
	b, err := r.peek()
	if err != nil {
		return dval{}, err
	}
	switch b {
	case '(':
		_, _ = r.ReadByte()
		var v dval
		for {
			if b, err := r.peek(); err != nil {
				return dval{}, err
			} else if b == ')' {
				_, _ = r.ReadByte()
				return v, nil
			} else if b == ' ' {
				_, _ = r.ReadByte()
				continue
			}
			item, err := readValue(r, depth+1)
			if err != nil {
				return dval{}, err
			}
			v.list = append(v.list, item)
		}
	case '%':
		_, _ = r.ReadByte()
		if b, err := r.ReadByte(); err != nil || b != '(' {
			return dval{}, errors.New("unknown % type")
		}
		v := dval{kv: true}
		for {
			b, err := r.peek()
			switch {
			case err != nil:
				return dval{}, err
			case b == ')':
				_, _ = r.ReadByte()
				return v, nil
			case b == ' ':
				_, _ = r.ReadByte()
				continue
			}
			key, err := readAString(r)
			if err != nil || key == nil {
				return dval{}, errors.New("bad kvlist key")
			}
			if b, err := r.ReadByte(); err != nil || b != ' ' {
				return dval{}, errors.New("no space after a key")
			}
			item, err := readValue(r, depth+1)
			if err != nil {
				return dval{}, err
			}
			v.keys = append(v.keys, *key)
			v.list = append(v.list, item)
		}
	}
	s, err := readAString(r)
	return dval{str: s}, err
}

// readAString reads an atom, a quoted string or a literal ({n} or {n+}
// CRLF then n bytes); NIL is nil.
func readAString(r *recorder) (*string, error) {
	b, err := r.peek()
	if err != nil {
		return nil, err
	}
	var out []byte
	switch b {
	case '"':
		_, _ = r.ReadByte()
		for {
			c, err := r.ReadByte()
			if err != nil {
				return nil, err
			}
			if c == '"' {
				break
			}
			if c == '\\' {
				if c, err = r.ReadByte(); err != nil {
					return nil, err
				}
			}
			out = append(out, c)
		}
	case '{':
		_, _ = r.ReadByte()
		var digits []byte
		for {
			c, err := r.ReadByte()
			if err != nil {
				return nil, err
			}
			if c == '}' {
				break
			}
			if c != '+' {
				digits = append(digits, c)
			}
		}
		n, err := strconv.Atoi(string(digits))
		if err != nil || n < 0 || n > MaxStreamMessage {
			return nil, fmt.Errorf("bad literal length %q", digits)
		}
		if err := readEOL(r); err != nil {
			return nil, err
		}
		out = make([]byte, n)
		for i := range out {
			if out[i], err = r.ReadByte(); err != nil {
				return nil, err
			}
		}
	default:
		for {
			c, err := r.peek()
			if err != nil {
				return nil, err
			}
			if c == ' ' || c == '(' || c == ')' || c == '\r' || c == '\n' {
				break
			}
			_, _ = r.ReadByte()
			out = append(out, c)
		}
		if len(out) == 0 {
			return nil, errors.New("empty atom")
		}
		if string(out) == "NIL" {
			return nil, nil
		}
	}
	s := string(out)
	return &s, nil
}
