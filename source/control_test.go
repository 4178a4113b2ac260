package source

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

// readerKinds covers both implementations over the same content "a\nb\nc\n".
func readerKinds(t *testing.T) []struct {
	name string
	open func() Reader
} {
	dir := t.TempDir()
	plain := writeFile(t, dir, "plain", []byte("a\nb\nc\n"))
	gz := writeFile(t, dir, "log.gz", gzipBytes(t, []byte("a\nb\nc\n")))
	return []struct {
		name string
		open func() Reader
	}{
		{"file", func() Reader { return mustOpen(t, plain, Options{}) }},
		{"gzip", func() Reader { return mustOpen(t, gz, Options{}) }},
		{"stdin", func() Reader {
			return mustOpen(t, "-", Options{Stdin: strings.NewReader("a\nb\nc\n")})
		}},
		{"OpenAll", func() Reader { return OpenAll([]string{plain}, Options{}) }},
	}
}

func TestContextCancel(t *testing.T) {
	for _, k := range readerKinds(t) {
		t.Run(k.name, func(t *testing.T) {
			r := k.open()
			defer r.Close()
			ctx, cancel := context.WithCancel(context.Background())
			if l, err := r.Next(ctx); err != nil || string(l.Text) != "a" {
				t.Fatalf("first line: %q, %v", l.Text, err)
			}
			cancel()
			for range 2 {
				if _, err := r.Next(ctx); !errors.Is(err, context.Canceled) {
					t.Fatalf("Next with cancelled ctx: got %v, want context.Canceled", err)
				}
			}
			// Cancellation must not have consumed anything.
			l, err := r.Next(context.Background())
			if err != nil || string(l.Text) != "b" || l.Offset != 2 {
				t.Fatalf("after cancellation: %q at %d, %v; want \"b\" at 2", l.Text, l.Offset, err)
			}
		})
	}
}

func TestBufferedFile(t *testing.T) {
	for _, k := range readerKinds(t) {
		t.Run(k.name, func(t *testing.T) {
			r := k.open()
			defer r.Close()
			for i, want := range []struct {
				text     string
				buffered bool
			}{{"a", true}, {"b", true}, {"c", false}} {
				l, err := r.Next(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if got := r.Buffered(); got != want.buffered {
					t.Errorf("line %d: Buffered() = %v, want %v", i, got, want.buffered)
				}
				// Buffered must not disturb the line it was asked about.
				if string(l.Text) != want.text {
					t.Errorf("line %d: Text %q after Buffered, want %q", i, l.Text, want.text)
				}
			}
			if _, err := r.Next(context.Background()); err != io.EOF {
				t.Fatalf("got %v, want io.EOF", err)
			}
			if r.Buffered() {
				t.Error("Buffered() = true at io.EOF")
			}
		})
	}
}

func TestBufferedPipe(t *testing.T) {
	pr, pw := io.Pipe()
	r := mustOpen(t, "-", Options{Stdin: pr})
	if r.Buffered() {
		t.Error("Buffered() = true before anything was written")
	}
	// io.Pipe hands each Write to a single Read, so every step below ends
	// exactly at a pipe boundary.
	steps := []struct {
		writes   []string // written in order before the reads of this step
		lines    []string
		buffered []bool // Buffered() after each line
	}{
		{[]string{"one\n"}, []string{"one"}, []bool{false}},
		{[]string{"two\nthree\n"}, []string{"two", "three"}, []bool{true, false}},
		// A partial line is not a line: Next must wait for its end.
		{[]string{"fo", "ur\nfive"}, []string{"four"}, []bool{false}},
		{[]string{"\n"}, []string{"five"}, []bool{false}},
	}
	for _, s := range steps {
		written := make(chan error, 1)
		go func() {
			for _, w := range s.writes {
				if _, err := pw.Write([]byte(w)); err != nil {
					written <- err
					return
				}
			}
			written <- nil
		}()
		for i, want := range s.lines {
			l, err := r.Next(context.Background())
			if err != nil || string(l.Text) != want {
				t.Fatalf("Next = %q, %v; want %q", l.Text, err, want)
			}
			if got := r.Buffered(); got != s.buffered[i] {
				t.Errorf("after %q: Buffered() = %v, want %v", want, got, s.buffered[i])
			}
		}
		if err := <-written; err != nil {
			t.Fatal(err)
		}
	}
	pw.Close()
	if _, err := r.Next(context.Background()); err != io.EOF {
		t.Fatalf("after the writer closed: got %v, want io.EOF", err)
	}
}

func TestBufferedBetweenSources(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a", []byte("a\n"))
	r := OpenAll([]string{a, a}, Options{})
	defer r.Close()
	if r.Buffered() {
		t.Error("Buffered() = true before the first file is open")
	}
	if _, err := r.Next(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r.Buffered() {
		t.Error("Buffered() = true at the end of the first file")
	}
	if l, err := r.Next(context.Background()); err != nil || string(l.Text) != "a" {
		t.Fatalf("second file: %q, %v", l.Text, err)
	}
}

func TestClose(t *testing.T) {
	for _, k := range readerKinds(t) {
		for _, readFirst := range []bool{false, true} {
			name := k.name + "/unread"
			if readFirst {
				name = k.name + "/partly-read"
			}
			t.Run(name, func(t *testing.T) {
				r := k.open()
				if readFirst {
					if _, err := r.Next(context.Background()); err != nil {
						t.Fatal(err)
					}
				}
				for i := range 2 {
					if err := r.Close(); err != nil {
						t.Fatalf("Close #%d: %v", i+1, err)
					}
				}
				if _, err := r.Next(context.Background()); !errors.Is(err, ErrClosed) {
					t.Errorf("Next after Close: got %v, want ErrClosed", err)
				}
				if r.Buffered() {
					t.Error("Buffered() = true after Close")
				}
			})
		}
	}
}
