package journald

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"strings"
	"time"

	"github.com/mailevents/mailevents/source"
)

// position is where the next run of journalctl starts.
type position struct {
	cursor string    // after this entry, when set
	offset int64     // the running count of bytes read
	since  time.Time // Open's time, for a restart before any entry
	first  bool      // no run has started yet
}

// args returns journalctl's command line for a run starting at p.
func (c *config) args(p position) []string {
	a := []string{"--output=json", "--all", "--follow"}
	if !c.AllFields {
		a = append(a, "--output-fields="+strings.Join(c.Fields, ","))
	}
	for _, u := range c.Units {
		a = append(a, "--unit="+u)
	}
	for _, id := range c.Identifiers {
		a = append(a, "--identifier="+id)
	}
	// --no-tail everywhere but at the end: with --follow, journalctl
	// otherwise shows at most 10 entries before it waits for new ones.
	switch {
	case p.cursor != "":
		a = append(a, "--after-cursor="+p.cursor, "--no-tail")
	case c.FromStart:
		a = append(a, "--no-tail")
	case p.first:
		a = append(a, "--lines=0")
	default:
		a = append(a, fmt.Sprintf("--since=@%d.%06d", p.since.Unix(), p.since.Nanosecond()/1e3), "--no-tail")
	}
	return append(a, c.Args...)
}

// run starts journalctl, and starts it again each time it exits, until
// Close.
func (r *Reader) run(cursor string, offset int64, since time.Time) {
	defer close(r.done)
	p := position{cursor: cursor, offset: offset, since: since, first: true}
	backoff := r.cfg.MinBackoff
	for {
		n, err := r.runOnce(&p)
		p.first = false
		select {
		case <-r.closed:
			return
		default:
		}
		if n > 0 {
			backoff = r.cfg.MinBackoff // it worked for a while
		}
		if err == nil {
			err = ErrExited
		}
		err = fmt.Errorf("journald %s: %w; restarting in %v", r.cfg.Name, err, backoff)
		if !r.send(item{err: err}) {
			return
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-r.closed:
			t.Stop()
			return
		}
		backoff = min(2*backoff, r.cfg.MaxBackoff)
	}
}

// runOnce runs journalctl until it exits (or Close kills it), delivering
// its records; n counts them.
func (r *Reader) runOnce(p *position) (n int, err error) {
	args := r.cfg.args(*p)
	r.cfg.log.Debug("starting journalctl", "path", r.cfg.bin, "args", args)
	cmd := exec.Command(r.cfg.bin, args...)
	stderr := &stderrLog{log: r.cfg.log}
	cmd.Stderr = stderr
	ownGroup(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, fmt.Errorf("start %s: %w", r.cfg.bin, err)
	}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", r.cfg.bin, err)
	}
	r.started(cmd.Process)
	n, readErr := r.deliver(stdout, p)
	if readErr != nil {
		kill(cmd.Process) // it cannot be read any more, so it is no use
	}
	waitErr := cmd.Wait()
	r.exited()
	stderr.flush()
	if readErr != nil {
		return n, readErr
	}
	if waitErr != nil {
		return n, fmt.Errorf("%w: %w", ErrExited, waitErr)
	}
	return n, nil
}

// deliver reads records from journalctl's output until it ends.
func (r *Reader) deliver(out io.Reader, p *position) (n int, err error) {
	br := bufio.NewReaderSize(out, 64<<10)
	for {
		text, size, truncated, err := readLine(br, r.cfg.MaxLineBytes)
		if errors.Is(err, io.EOF) {
			if size > 0 {
				// Cut short by the exit; the next run prints the whole
				// entry again, since the cursor has not moved.
				r.cfg.log.Debug("dropping an unterminated last record", "bytes", size)
			}
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("read output: %w", err)
		}
		start := p.offset
		p.offset += size
		if len(text) == 0 || text[0] != '{' {
			// Not a record: journalctl's "-- Journal begins at …" and
			// "-- Boot …" banners go to stdout too.
			r.cfg.log.Debug("skipping a line that is not a record", "line", string(text))
			continue
		}
		cursor, _ := cursorOf(text)
		if cursor != "" {
			p.cursor = cursor
		}
		l := Line{
			Line: source.Line{
				Position:  source.Position{Source: r.cfg.source, Offset: start, End: p.offset},
				Text:      text,
				Truncated: truncated,
			},
			Cursor: cursor,
		}
		if !r.send(item{line: l}) {
			return n, nil
		}
		n++
	}
}

// readLine returns the next line without its "\n", copied, and the bytes
// it took (with the "\n"). A line over limit is cut to limit bytes and the
// rest skipped. At the end, err is io.EOF and size counts an unterminated
// rest, which is not returned.
func readLine(br *bufio.Reader, limit int) (text []byte, size int64, truncated bool, err error) {
	for {
		frag, err := br.ReadSlice('\n')
		size += int64(len(frag))
		whole := err == nil
		if whole {
			frag = frag[:len(frag)-1]
		}
		keep := min(len(frag), limit-len(text))
		truncated = truncated || keep < len(frag)
		text = append(text, frag[:keep]...)
		switch {
		case whole:
			return text, size, truncated, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return nil, size, false, err
		}
	}
}

// stderrLog logs journalctl's stderr line by line.
type stderrLog struct {
	log *slog.Logger
	buf []byte
}

// maxStderrLine bounds a logged line, so that a flood without newlines
// cannot grow the buffer.
const maxStderrLine = 4 << 10

func (w *stderrLog) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.line(w.buf[:i])
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > maxStderrLine {
		w.flush()
	}
	return len(p), nil
}

func (w *stderrLog) line(b []byte) {
	if len(b) > maxStderrLine {
		b = b[:maxStderrLine]
	}
	if s := strings.TrimSpace(string(b)); s != "" {
		w.log.Warn("journalctl", "stderr", s)
	}
}

// flush logs an unterminated rest.
func (w *stderrLog) flush() {
	if len(w.buf) > 0 {
		w.line(w.buf)
		w.buf = w.buf[:0]
	}
}
