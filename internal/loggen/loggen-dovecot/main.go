// Command loggen-dovecot writes a realistic Dovecot mail.log for benchmarks:
//
//	go run ./internal/loggen/loggen-dovecot -lines 1000000 > mail.log
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/mailevents/mailevents/internal/loggen"
)

func main() {
	lines := flag.Int("lines", 1000000, "number of lines")
	seed := flag.Uint64("seed", 1, "random seed; the same seed gives the same log")
	flag.Parse()
	if err := loggen.Dovecot(os.Stdout, *lines, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "loggen-dovecot:", err)
		os.Exit(1)
	}
}
