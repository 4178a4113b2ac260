package stdout

import (
	"bytes"
	"context"
	"errors"
	"syscall"
	"testing"

	"github.com/mailevents/mailevents/sinks"
	"github.com/mailevents/mailevents/sinks/sinktest"
)

func TestConformance(t *testing.T) {
	var out *bytes.Buffer
	sinktest.Run(t, sinktest.Harness{
		New: func(*testing.T) sinks.Sink {
			out = new(bytes.Buffer)
			return New(out)
		},
		ReadBack: func(t *testing.T) [][]byte {
			data := out.Bytes()
			if len(data) == 0 {
				return nil
			}
			if data[len(data)-1] != '\n' {
				t.Fatalf("output does not end in a newline: a consumer would see a partial line")
			}
			return bytes.Split(data[:len(data)-1], []byte("\n"))
		},
	})
}

type failingWriter struct {
	err    error
	writes int
}

func (f *failingWriter) Write(p []byte) (int, error) {
	f.writes++
	return 0, f.err
}

// A closed pipe (`mailevents parse | head`) must surface as an error that
// still says EPIPE, so main can exit quietly, and must stay failed.
func TestBrokenPipeIsStickyAndRecognisable(t *testing.T) {
	fw := &failingWriter{err: syscall.EPIPE}
	s := New(fw)
	batch := []sinks.Record{{Value: []byte(`{"event":"Login"}`)}}
	err := s.Write(context.Background(), batch)
	if !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("Write error = %v, want one wrapping EPIPE", err)
	}
	writes := fw.writes
	if err := s.Write(context.Background(), batch); !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("second Write error = %v, want the sticky EPIPE", err)
	}
	if fw.writes != writes {
		t.Errorf("second Write touched the broken writer again (%d writes, want %d)", fw.writes, writes)
	}
}

func TestFlushesEachBatch(t *testing.T) {
	var out bytes.Buffer
	s := New(&out)
	if err := s.Write(context.Background(), []sinks.Record{{Value: []byte(`{"a":1}`)}}); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "{\"a\":1}\n" {
		t.Fatalf("after one batch, output = %q; the batch must be flushed before Write returns", got)
	}
}
