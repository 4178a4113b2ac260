package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"

	"github.com/mailevents/mailevents/doctor"
)

const (
	defaultDoveconf  = "doveconf"
	defaultImapdConf = "/etc/imapd.conf"
)

type doctorCmd struct {
	Doveconf      string `help:"The doveconf to run, with -n added; split at spaces, so \"doveconf -c /etc/dovecot/other.conf\" works. Empty: do not look at Dovecot." default:"doveconf" placeholder:"CMD"`
	DovecotConfig string `help:"Read this saved doveconf -n output instead of running doveconf." placeholder:"FILE"`
	ImapdConf     string `help:"Cyrus IMAP's configuration. Empty: do not look at Cyrus." default:"/etc/imapd.conf" placeholder:"FILE"`
	JSON          bool   `name:"json" help:"Print the report as one JSON document."`
}

func (c *doctorCmd) Help() string {
	return `Reads the local Dovecot configuration (the output of doveconf -n, when
doveconf is installed) and Cyrus IMAP's imapd.conf (when it exists), and tells
per RFC 5423 event type whether mailevents will see it in what the server
writes: seen, partly (what is missing and why), not seen, or n/a (the server never
reports it, or it cannot happen as configured). For what is not seen it names
the setting and prints the lines to add. Nothing is changed.

Exit status 0 when every event type is seen or n/a, 1 when one is not (or
the configuration has an error), 2 for a command-line mistake. doveconf reads
the files, not the running server, so a change can be checked before a reload:

    mailevents doctor && systemctl reload dovecot`
}

// errIncomplete is returned after the report was printed, so that run exits
// 1 without a message of its own.
var errIncomplete = errors.New("some event types are not (fully) seen")

func (c *doctorCmd) Run(ctx context.Context, e env) error {
	if c.DovecotConfig != "" && c.Doveconf != defaultDoveconf {
		return usageError{errors.New("give --doveconf or --dovecot-config, not both")}
	}
	var servers []doctor.ServerReport
	var looked []string

	dovecot, found, err := c.dovecot(ctx)
	switch {
	case err != nil:
		return err
	case found:
		servers = append(servers, dovecot)
	case c.Doveconf != "":
		looked = append(looked, "no "+c.Doveconf+" on PATH")
	}

	var text []byte
	if c.ImapdConf != "" {
		text, err = os.ReadFile(c.ImapdConf)
	}
	switch {
	case c.ImapdConf == "":
	case err == nil:
		servers = append(servers, doctor.CheckCyrus(doctor.CyrusInput{Source: c.ImapdConf, Text: text, Include: os.ReadFile}))
	case errors.Is(err, fs.ErrNotExist) && c.ImapdConf == defaultImapdConf:
		looked = append(looked, "no "+c.ImapdConf)
	default:
		return err
	}

	if len(servers) == 0 {
		if len(looked) == 0 {
			return errors.New("nothing to look at: --doveconf and --imapd-conf are both empty")
		}
		return fmt.Errorf("no Dovecot or Cyrus IMAP configuration found (%s): give --dovecot-config FILE (a saved doveconf -n output) or --imapd-conf FILE", strings.Join(looked, ", "))
	}
	report := doctor.NewReport(servers...)
	if c.JSON {
		err = report.WriteJSON(e.stdout)
	} else {
		err = report.WriteText(e.stdout)
	}
	if err != nil {
		return err
	}
	if !report.OK {
		return silentError{errIncomplete}
	}
	return nil
}

// dovecot examines the saved doveconf -n output, or runs doveconf -n; found
// is false when doveconf is not installed and was not asked for by name.
func (c *doctorCmd) dovecot(ctx context.Context) (r doctor.ServerReport, found bool, err error) {
	if c.DovecotConfig != "" {
		text, err := os.ReadFile(c.DovecotConfig)
		if err != nil {
			return r, false, err
		}
		r, err = doctor.CheckDovecot(doctor.DovecotInput{Source: c.DovecotConfig, Text: string(text)})
		if err != nil {
			return r, false, fmt.Errorf("%s: %w", c.DovecotConfig, err)
		}
		return r, true, nil
	}
	argv := strings.Fields(c.Doveconf)
	if len(argv) == 0 {
		return r, false, nil
	}
	bin, err := exec.LookPath(argv[0])
	if err != nil {
		if c.Doveconf != defaultDoveconf {
			return r, false, fmt.Errorf("--doveconf %s: %w", c.Doveconf, err)
		}
		return r, false, nil
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, append(argv[1:], "-n")...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	source := c.Doveconf + " -n"
	if err := cmd.Run(); err != nil {
		return r, false, fmt.Errorf("%s: %w: %s", source, err, strings.TrimSpace(stderr.String()))
	}
	r, err = doctor.CheckDovecot(doctor.DovecotInput{Source: source, Text: stdout.String(), Stderr: stderr.String()})
	if err != nil {
		return r, false, fmt.Errorf("%s: %w", source, err)
	}
	return r, true, nil
}
