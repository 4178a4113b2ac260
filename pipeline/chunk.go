package pipeline

import (
	"context"

	"github.com/mailevents/mailevents/checkpoint"
	"github.com/mailevents/mailevents/source"
)

// Chunk bounds: a chunk is handed over when it holds this many bytes or
// lines, or when its input has nothing more buffered. A line longer than
// the byte bound still fits (the chunk grows for it): one line is never split.
const (
	chunkBytes = 64 << 10
	chunkLines = 1024
)

// chunk carries consecutive lines of one input from its reader goroutine to
// the processor. Lines' Text alias the reader's buffer, so the reader copies
// them into the chunk's arena; chunks are recycled through a fixed free list,
// which is what bounds the memory between readers and the processor.
type chunk struct {
	input int
	text  []byte
	lines []chunkLine
	// eof marks the last chunk of an input that ended (stdin closed).
	eof bool
}

type chunkLine struct {
	pos       source.Position
	start     int // Text is text[start:end]
	end       int
	truncated bool
	key       checkpoint.FileKey // Path "": the line's position is not checkpointed
	cursor    string
}

func (c *chunk) add(l FollowedLine) {
	start := len(c.text)
	c.text = append(c.text, l.Text...)
	c.lines = append(c.lines, chunkLine{
		pos: l.Position, start: start, end: len(c.text), truncated: l.Truncated,
		key: l.Key, cursor: l.Cursor,
	})
}

func (c *chunk) full() bool { return len(c.text) >= chunkBytes || len(c.lines) >= chunkLines }

func (c *chunk) line(i int) source.Line {
	cl := &c.lines[i]
	return source.Line{Position: cl.pos, Text: c.text[cl.start:cl.end:cl.end], Truncated: cl.truncated}
}

func (c *chunk) reset(input int) {
	clear(c.lines) // drop the keys' and cursors' strings
	c.input, c.text, c.lines, c.eof = input, c.text[:0], c.lines[:0], false
}

// chunkPool is the fixed set of chunks in circulation.
type chunkPool chan *chunk

func newChunkPool(n int) chunkPool {
	p := make(chunkPool, n)
	for range n {
		p <- &chunk{}
	}
	return p
}

// get waits for a free chunk: when every chunk is queued or being processed,
// the readers stop reading, which is the back-pressure.
func (p chunkPool) get(ctx context.Context, input int) (*chunk, error) {
	select {
	case c := <-p:
		c.reset(input)
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p chunkPool) put(c *chunk) { p <- c }
