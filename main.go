// Command mailevents turns what Dovecot and Cyrus IMAP write into a stream of
// RFC 5423 message store events, one JSON object per line.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"
)

// Exit codes.
const (
	exitOK      = 0
	exitRuntime = 1 // the command ran and failed
	exitUsage   = 2 // the command line was wrong
)

type cli struct {
	LogLevel slog.Level `help:"Level of the program's own log on stderr (debug, info, warn, error)." default:"info" placeholder:"LEVEL"`

	Parse   parseCmd   `cmd:"" help:"Parse log files (plain or gzip) or stdin once and print RFC 5423 events as JSON lines."`
	Run     runCmd     `cmd:"" help:"Follow log files as a daemon and stream their events without losing any across rotation, restarts and outages."`
	Check   checkCmd   `cmd:"" help:"Check a configuration file for mailevents run; every problem is named with its key and line."`
	Doctor  doctorCmd  `cmd:"" help:"Tell, per RFC 5423 event type, whether the local Dovecot or Cyrus configuration lets mailevents see it, and what to change."`
	Keygen  keygenCmd  `cmd:"" help:"Write a new Ed25519 key pair for sealed sinks: the private key and FILE.pub."`
	Verify  verifyCmd  `cmd:"" help:"Verify sealed archives (files, stdin or a Kafka topic): every chain link and seal, gaps, reordering, edits and truncation."`
	Version versionCmd `cmd:"" help:"Print the version and build information."`
}

// env is what a command needs from the outside world, injected so that tests
// run commands in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	log            *slog.Logger
	grammars       grammarSet
	// signals feeds the daemon SIGHUP, SIGTERM and SIGINT; nil: the
	// process's own (tests inject theirs).
	signals <-chan os.Signal
	exit    func(code int) // os.Exit; tests inject theirs
}

func main() {
	// A write to a closed stdout must come back as EPIPE (and end the run
	// quietly) instead of killing the process with SIGPIPE mid-batch.
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, grammars: defaultGrammars(), exit: os.Exit})
	stop()
	os.Exit(code)
}

// run parses args, runs the command and returns the exit code.
func run(ctx context.Context, args []string, e env) int {
	var c cli
	exitCode := -1
	parser, err := kong.New(&c,
		kong.Name("mailevents"),
		kong.Description("Turn Dovecot and Cyrus IMAP logs into RFC 5423 message store events (JSON lines)."),
		kong.Writers(e.stdout, e.stderr),
		kong.Exit(func(code int) { exitCode = code }),
		kong.UsageOnError(),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
	)
	if err != nil {
		fmt.Fprintf(e.stderr, "mailevents: %v\n", err)
		return exitRuntime
	}
	kctx, err := parser.Parse(args)
	if exitCode >= 0 { // --help and friends end here
		return exitCode
	}
	if err != nil {
		parser.Errorf("%s", err)
		var pe *kong.ParseError
		if errors.As(err, &pe) {
			_ = pe.Context.PrintUsage(true)
		}
		return exitUsage
	}
	e.log = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: c.LogLevel}))
	kctx.BindTo(ctx, (*context.Context)(nil))
	kctx.Bind(e)
	if err := kctx.Run(); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(e.stderr, "mailevents: error: %v\n", err)
			return exitUsage
		}
		var se silentError
		if errors.As(err, &se) {
			return exitRuntime // the command has reported it
		}
		if errors.Is(err, syscall.EPIPE) {
			return exitOK // the reader went away (| head): nothing to report
		}
		fmt.Fprintf(e.stderr, "mailevents: error: %v\n", err)
		return exitRuntime
	}
	return exitOK
}

// silentError marks an error the command has already reported in its own
// words (mailevents check lists problems); only the exit status is left.
type silentError struct{ error }

// usageError marks an error in what the user asked for that kong cannot see
// (a bad combination of flags), so it exits with the usage code.
type usageError struct{ error }
