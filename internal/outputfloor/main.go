// Command outputfloor does, for each line of a log, the least that output
// format v1 asks of mailevents parse: it reads the line, computes an event
// id from it (event.ComputeID: SHA-256 of the line) and writes an output
// line of the given size holding the id and the line's offset. No parser
// or mapper can make parse faster than this; scripts/bench times it beside
// parse on the same file, so that the distance between the two is known.
//
//	go run ./internal/outputfloor -event-bytes 648 mail.log > /dev/null
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/mailevents/mailevents/event"
)

func main() {
	size := flag.Int("event-bytes", 648, "size of each output line, newline included")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: outputfloor [-event-bytes N] FILE")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *size, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "outputfloor:", err)
		os.Exit(1)
	}
}

func run(path string, size int, out io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 256<<10)
	w := bufio.NewWriterSize(out, 256<<10)
	filler := bytes.Repeat([]byte{'x'}, max(size, 1))
	var buf []byte
	offset := int64(0)
	for {
		line, err := r.ReadSlice('\n')
		if len(line) > 0 {
			buf = append(buf[:0], `{"vnd.mailevents.id":"`...)
			buf = append(buf, event.ComputeID(bytes.TrimSuffix(line, []byte{'\n'}), 0, event.MessageNew)...)
			buf = append(buf, `","offset":`...)
			buf = strconv.AppendInt(buf, offset, 10)
			if n := size - 1 - len(buf); n > 0 {
				buf = append(buf, filler[:n]...)
			}
			buf = append(buf, '\n')
			if _, err := w.Write(buf); err != nil {
				return err
			}
			offset += int64(len(line))
		}
		switch {
		case errors.Is(err, io.EOF):
			return w.Flush()
		case errors.Is(err, bufio.ErrBufferFull):
			for errors.Is(err, bufio.ErrBufferFull) { // a line longer than the buffer: its rest
				_, err = r.ReadSlice('\n')
			}
			if errors.Is(err, io.EOF) {
				return w.Flush()
			}
			if err != nil {
				return err
			}
		case err != nil:
			return err
		}
	}
}
