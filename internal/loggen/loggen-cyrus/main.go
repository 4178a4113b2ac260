// Command loggen-cyrus writes a realistic Cyrus IMAP 3.6 syslog for
// benchmarks:
//
//	go run ./internal/loggen/loggen-cyrus -lines 1000000 > cyrus.log
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
	if err := loggen.Cyrus(os.Stdout, *lines, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "loggen-cyrus:", err)
		os.Exit(1)
	}
}
