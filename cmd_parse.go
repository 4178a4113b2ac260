package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mailevents/mailevents/config"
	"github.com/mailevents/mailevents/dedup"
	"github.com/mailevents/mailevents/enrich"
	"github.com/mailevents/mailevents/pipeline"
	"github.com/mailevents/mailevents/sinks"
	"github.com/mailevents/mailevents/sinks/stdout"
	"github.com/mailevents/mailevents/source"
)

type parseCmd struct {
	Server  string   `help:"Grammar to use; auto detects it line by line." enum:"auto,dovecot,cyrus" default:"auto"`
	Output  []string `sep:"none" help:"Where events go: -, file:PATH or kafka://HOST:PORT[,HOST:PORT]/TOPIC; repeatable (default -)." placeholder:"URL"`
	Rejects string   `help:"Write each line that yields no event to FILE, one JSON object per line with its source, offset and reason." placeholder:"FILE"`
	Stats   bool     `help:"At the end, print counts per grammar, event type and reject reason to stderr."`
	Host    string   `help:"Server name for IMAP URLs when a line names none (Dovecot's own log files); default: this machine's name." placeholder:"NAME"`
	Files   []string `arg:"" optional:"" help:"Log files, plain or gzip-compressed; '-' or none reads stdin." placeholder:"FILE"`

	PlainFlagsSet bool   `name:"plain-flagsset" help:"Emit FlagsSet for \\Seen and \\Deleted too, instead of MessageRead and MessageTrash (RFC 5423 §4.2)."`
	UIDValidity   bool   `name:"uidvalidity" help:"Ask doveadm for each mailbox's UIDVALIDITY, which Dovecot's logs lack (run on the Dovecot host)."`
	Doveadm       string `help:"The doveadm command for --uidvalidity, with any leading options." default:"doveadm" placeholder:"CMD"`
	Explain       bool   `help:"Instead of the events, print for each line what every grammar made of it (the rule that matched and its fields, or why none did) and what the line became: the tool for a missing event."`
	Dedup         bool   `help:"Drop an event that repeats one another grammar reported for the same action (same session, type, mailbox and uidset, within 2 minutes), e.g. Cyrus's syslog and native notifications read together; --stats counts the drops."`
	SealKey       string `name:"seal-key" help:"Seal every output with this Ed25519 private key (mailevents keygen): each event gets a seq and a hash chain value, and a signed seal ends the run, which is a stream of its own; see mailevents verify." placeholder:"FILE" type:"path"`
}

func (c *parseCmd) Help() string {
	return `Each line is parsed with the grammar that recognises it and mapped to RFC 5423
events, written to stdout as JSON lines. Lines that yield no event are counted;
with --rejects they are also written, with their file and byte offset, so that
nothing read is lost silently. The exit status is 0 even when lines were
rejected: 1 means a file could not be read or output could not be written.

Examples:
  mailevents parse /var/log/mail.log | jq -c 'select(.event == "MessageNew")'
  zcat -f /var/log/mail.log.*.gz | mailevents parse --stats --rejects rejects.jsonl
  mailevents parse --output kafka://broker:9092/mail-events /var/log/mail.log.*.gz`
}

func (c *parseCmd) Run(ctx context.Context, e env) error {
	grammars, err := e.grammars.parsers.ForServer(c.Server)
	if err != nil {
		return err
	}
	files := c.Files
	if len(files) == 0 {
		files = []string{"-"}
	}
	in := source.OpenAll(files, source.Options{Stdin: e.stdin})
	defer in.Close()

	outs, err := c.openOutputs(e)
	if err != nil {
		return err
	}
	if c.Explain {
		if len(c.Output) > 0 {
			return usageError{errors.New("--explain prints explanations, not events: drop --output")}
		}
		// The explanation takes stdout; the events are made (so that the
		// explanation shows what they would be) and dropped.
		outs.events = []pipeline.Output{{Sink: stdout.NewNamed("discard", io.Discard)}}
	}
	cfg := pipeline.Config{
		Parsers: grammars,
		Mappers: e.grammars.newMappers(mapperOptions{host: c.serverHost(), plainFlagsSet: c.PlainFlagsSet}),
		Outputs: outs.events,
		Stats:   pipeline.NewStats(),
		Logger:  e.log,
	}
	if c.Explain {
		cfg.Explain = e.stdout
	}
	if c.Dedup {
		cfg.Dedup = dedup.New(0, 0)
	}
	if c.UIDValidity {
		cfg.Enrichers = append(cfg.Enrichers, &enrich.UIDValidity{Doveadm: strings.Fields(c.Doveadm)})
	}
	var rejectFile *os.File
	if c.Rejects != "" {
		rejectFile, err = os.OpenFile(c.Rejects, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
		if err != nil {
			return fmt.Errorf("opening --rejects file: %w", err)
		}
		cfg.Rejects = stdout.NewNamed("rejects", rejectFile)
	}

	runErr := pipeline.Run(ctx, in, cfg)
	closeErr := errors.Join(outs.close(context.WithoutCancel(ctx)), closeSinks(context.WithoutCancel(ctx), cfg.Rejects))
	if rejectFile != nil {
		closeErr = errors.Join(closeErr, rejectFile.Close())
	}
	if c.Stats {
		if err := cfg.Stats.WriteText(e.stderr); err != nil {
			closeErr = errors.Join(closeErr, err)
		}
	}
	return errors.Join(runErr, closeErr)
}

func closeSinks(ctx context.Context, ss ...sinks.Sink) error {
	var errs []error
	for _, s := range ss {
		if s != nil {
			errs = append(errs, s.Close(ctx))
		}
	}
	return errors.Join(errs...)
}

func (c *parseCmd) serverHost() string {
	if c.Host != "" {
		return c.Host
	}
	if h, err := os.Hostname(); err == nil {
		return h
	}
	return ""
}

// openOutputs opens the --output sinks; stdout when none is given.
func (c *parseCmd) openOutputs(e env) (*outputs, error) {
	cfgs, err := config.OutputSinks(c.Output, c.SealKey)
	if err != nil {
		return nil, usageError{err}
	}
	// The run's start names its streams: a parse run is a stream of its own.
	return openOutputs(e, cfgs, nil, sealing{host: c.serverHost(), run: time.Now().UTC().Format(time.RFC3339Nano)})
}
