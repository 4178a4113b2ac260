// Command loggen writes a realistic mail server log for benchmarks:
//
//	go run ./internal/loggen/loggen -server dovecot -lines 1000000 > mail.log
//	go run ./internal/loggen/loggen -server cyrus -lines 1000000 > cyrus.log
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/mailevents/mailevents/internal/loggen"
)

var generators = map[string]func(w io.Writer, n int, seed uint64) error{
	"dovecot": loggen.Dovecot, // a Dovecot 2.3 mail.log
	"cyrus":   loggen.Cyrus,   // a Cyrus IMAP 3.6 syslog
}

func main() {
	server := flag.String("server", "dovecot", "whose log: dovecot or cyrus")
	lines := flag.Int("lines", 1000000, "number of lines")
	seed := flag.Uint64("seed", 1, "random seed; the same seed gives the same log")
	flag.Parse()
	gen, ok := generators[*server]
	if !ok {
		fmt.Fprintf(os.Stderr, "loggen: unknown -server %q (dovecot or cyrus)\n", *server)
		os.Exit(2)
	}
	if err := gen(os.Stdout, *lines, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "loggen:", err)
		os.Exit(1)
	}
}
