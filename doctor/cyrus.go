package doctor

import (
	"fmt"
	"path"
	"strings"
)

// CyrusConfig is an imapd.conf as Cyrus's libconfig reads it
// (lib/libconfig.c, config_read_file).
type CyrusConfig struct {
	// Options are the option lines in the order read, @include files in
	// place. Keys are lower-cased, as libconfig stores them; a
	// service-specific key ("lmtp_auditlog") is kept whole.
	Options []CyrusOption
	// Problems are what makes Cyrus refuse the file: it exits at start-up
	// (EX_CONFIG) naming the first one.
	Problems []string
}

// CyrusOption is one `key: value` line.
type CyrusOption struct {
	Key, Value string
	File       string
	Line       int // of the line the option starts on
}

// Get returns the option key (lower case) in its generic form.
func (c *CyrusConfig) Get(key string) (CyrusOption, bool) {
	for i := len(c.Options) - 1; i >= 0; i-- {
		if c.Options[i].Key == key {
			return c.Options[i], true
		}
	}
	return CyrusOption{}, false
}

// ServiceSpecific returns the options that set key for one service only:
// "imap_auditlog: yes" is auditlog for the service named imap in
// cyrus.conf.
func (c *CyrusConfig) ServiceSpecific(key string) []CyrusOption {
	var out []CyrusOption
	for _, o := range c.Options {
		if svc, ok := strings.CutSuffix(o.Key, "_"+key); ok && svc != "" && !strings.HasPrefix(svc, "@") {
			out = append(out, o)
		}
	}
	return out
}

// ParseImapdConf reads imapd.conf text as Cyrus does: a line ending in a
// backslash continues on the next (comments included); leading white space
// is skipped; '#' starts a comment only at the start of a line (elsewhere
// it is part of the value); a key is letters, digits, '-' and '_', case
// insensitive, followed at once by ':'; the value is trimmed and must not
// be empty; "@include: FILE" reads another file, through include (nil
// makes every @include a problem). What Cyrus would refuse is collected in
// Problems, and reading goes on.
func ParseImapdConf(name string, text []byte, include func(file string) ([]byte, error)) *CyrusConfig {
	c := &CyrusConfig{}
	r := cyrusReader{c: c, include: include, seenFiles: map[string]bool{}, seenKeys: map[string]CyrusOption{}}
	r.read(name, text)
	return c
}

type cyrusReader struct {
	c         *CyrusConfig
	include   func(string) ([]byte, error)
	seenFiles map[string]bool
	seenKeys  map[string]CyrusOption
}

func (r *cyrusReader) problem(file string, line int, format string, args ...any) {
	r.c.Problems = append(r.c.Problems, fmt.Sprintf("%s:%d: ", file, line)+fmt.Sprintf(format, args...))
}

func (r *cyrusReader) read(file string, text []byte) {
	r.seenFiles[file] = true
	lines := strings.SplitAfter(string(text), "\n")
	for i := 0; i < len(lines); i++ {
		start := i + 1
		line := lines[i]
		// A backslash right before the newline joins the next line.
		for strings.HasSuffix(line, "\\\n") && i+1 < len(lines) {
			i++
			line = strings.TrimSuffix(line, "\\\n") + lines[i]
		}
		line = strings.TrimSuffix(line, "\n")
		p := strings.TrimLeft(line, cSpace)
		if p == "" || p[0] == '#' {
			continue
		}
		k := 0
		if p[0] == '@' {
			k = 1
		}
		for k < len(p) && isKeyByte(p[k]) {
			k++
		}
		if k >= len(p) || p[k] != ':' {
			r.problem(file, start, "invalid option name: %q (a key is letters, digits, - and _, with ':' right after it)", line)
			continue
		}
		key := strings.ToLower(p[:k])
		value := strings.Trim(p[k+1:], cSpace)
		if value == "" {
			r.problem(file, start, "empty option value for %s", key)
			continue
		}
		if strings.HasPrefix(key, "@") {
			if key != "@include" {
				r.problem(file, start, "invalid directive %s", key)
				continue
			}
			r.includeFile(file, start, value)
			continue
		}
		o := CyrusOption{Key: key, Value: value, File: file, Line: start}
		if prev, dup := r.seenKeys[key]; dup {
			r.problem(file, start, "option %s given twice (first on %s:%d): Cyrus refuses the file", key, prev.File, prev.Line)
			continue
		}
		r.seenKeys[key] = o
		r.c.Options = append(r.c.Options, o)
	}
}

func (r *cyrusReader) includeFile(from string, line int, file string) {
	if r.seenFiles[file] {
		r.problem(from, line, "configuration file %s included twice", file)
		return
	}
	if r.include == nil {
		r.problem(from, line, "@include %s: not read", file)
		return
	}
	text, err := r.include(file)
	if err != nil {
		r.problem(from, line, "@include: %v", err)
		return
	}
	r.read(file, text)
}

// cSpace is what C's isspace() accepts in the C locale.
const cSpace = " \t\n\v\f\r"

func isKeyByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_'
}

// cyrusSwitch reads a switch value as libconfig's config_parse_switch
// does: by its first letters, case-sensitively ("Yes" is not a switch).
func cyrusSwitch(v string) (on, ok bool) {
	switch {
	case v == "":
		return false, false
	case v[0] == '0' || v[0] == 'n' || v[0] == 'f' || strings.HasPrefix(v, "of"):
		return false, true
	case v[0] == '1' || v[0] == 'y' || v[0] == 't' || strings.HasPrefix(v, "on"):
		return true, true
	}
	return false, false
}

// notifydSocket reports whether a notifysocket value is notifyd's socket
// (Cyrus's default {configdirectory}/socket/notify, or Debian's
// /run/cyrus/socket/notify) rather than one mailevents listens on.
func notifydSocket(v, configdir string) bool {
	v = path.Clean(strings.TrimPrefix(v, "dlist:"))
	switch v {
	case "{configdirectory}/socket/notify", "/run/cyrus/socket/notify", "/var/run/cyrus/socket/notify":
		return true
	}
	return configdir != "" && v == path.Join(configdir, "socket", "notify")
}
