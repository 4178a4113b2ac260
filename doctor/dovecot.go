package doctor

import (
	"fmt"
	"strconv"
	"strings"
)

// DovecotConfig is the output of `doveconf -n`: the settings that differ
// from Dovecot's defaults, with sections and filters nested as doveconf
// prints them.
type DovecotConfig struct {
	// Version is the version in doveconf's first line ("2.3.19.1",
	// "2.4.1-4"); "" when the text has none.
	Version string
	// Path is the configuration file doveconf read, from the same line.
	Path string
	// Root holds the top-level settings and sections.
	Root *DovecotSection
}

// DovecotSection is a block: `plugin { }`, `protocol imap { }`,
// `namespace inbox { }`, 2.4's `mail_plugins { }`, …
type DovecotSection struct {
	Kind     string // "plugin", "protocol", "namespace", "mail_plugins", …; "" for the top level
	Name     string // the section's name ("imap" of `protocol imap`); may be ""
	Line     int
	Settings []DovecotSetting
	Sections []*DovecotSection
}

// DovecotSetting is one `key = value` line.
type DovecotSetting struct {
	Key, Value string
	Line       int
}

// Get returns the value of key in s itself (not in its sections).
func (s *DovecotSection) Get(key string) (string, bool) {
	if s == nil {
		return "", false
	}
	for i := len(s.Settings) - 1; i >= 0; i-- {
		if s.Settings[i].Key == key {
			return s.Settings[i].Value, true
		}
	}
	return "", false
}

// Section returns the first section of s of that kind and name.
func (s *DovecotSection) Section(kind, name string) *DovecotSection {
	if s == nil {
		return nil
	}
	for _, c := range s.Sections {
		if c.Kind == kind && c.Name == name {
			return c
		}
	}
	return nil
}

// Label is the section's opening as written, without the brace.
func (s *DovecotSection) Label() string {
	if s.Name == "" {
		return s.Kind
	}
	return s.Kind + " " + quoteName(s.Name)
}

func quoteName(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\"{}#") {
		return strconv.Quote(s)
	}
	return s
}

// Is24 reports whether the configuration is in Dovecot 2.4's syntax: by the
// version line, else by 2.4's mandatory dovecot_config_version.
func (c *DovecotConfig) Is24() bool {
	if major, minor, ok := c.versionNumbers(); ok {
		return major > 2 || major == 2 && minor >= 4
	}
	_, ok := c.Root.Get("dovecot_config_version")
	return ok
}

// is22 reports a Dovecot 2.2 (or older), whose defaults lack the session id.
func (c *DovecotConfig) is22() bool {
	major, minor, ok := c.versionNumbers()
	return ok && (major < 2 || major == 2 && minor <= 2)
}

func (c *DovecotConfig) versionNumbers() (major, minor int, ok bool) {
	parts := strings.SplitN(c.Version, ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	var err1, err2 error
	major, err1 = strconv.Atoi(parts[0])
	minor, err2 = strconv.Atoi(strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	return major, minor, err1 == nil && err2 == nil
}

// ParseDoveconf reads the output of `doveconf -n` (Dovecot 2.2 to 2.4). It
// is not a dovecot.conf reader: doveconf has already resolved !include,
// $variables and the order of definitions, which is why mailevents asks it.
func ParseDoveconf(text string) (*DovecotConfig, error) {
	c := &DovecotConfig{Root: &DovecotSection{}}
	stack := []*DovecotSection{c.Root}
	for n, raw := range strings.Split(text, "\n") {
		n++ // line numbers from 1
		line := strings.TrimSpace(strings.TrimSuffix(raw, "\r"))
		cur := stack[len(stack)-1]
		switch {
		case line == "":
		case strings.HasPrefix(line, "#"):
			if c.Version == "" && len(stack) == 1 && len(c.Root.Settings) == 0 && len(c.Root.Sections) == 0 {
				c.Version, c.Path = parseDoveconfHeader(line)
			}
		case line == "}":
			if len(stack) == 1 {
				return nil, fmt.Errorf("line %d: } without a section to close", n)
			}
			stack = stack[:len(stack)-1]
		case strings.HasPrefix(line, "!include"):
			return nil, fmt.Errorf("line %d: %q: this is a dovecot.conf, not the output of doveconf -n (run doveconf -n and give its output)", n, line)
		case strings.HasSuffix(line, "{") && !strings.Contains(line, "="):
			kind, name, err := sectionHeader(strings.TrimSpace(strings.TrimSuffix(line, "{")))
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			s := &DovecotSection{Kind: kind, Name: name, Line: n}
			cur.Sections = append(cur.Sections, s)
			stack = append(stack, s)
		default:
			key, value, ok := strings.Cut(line, "=")
			key = strings.TrimSpace(key)
			if !ok || key == "" || strings.ContainsAny(key, " \t") {
				return nil, fmt.Errorf("line %d: %q is neither a setting (key = value) nor a section", n, line)
			}
			v, err := settingValue(strings.TrimSpace(value))
			if err != nil {
				return nil, fmt.Errorf("line %d: %s: %w", n, key, err)
			}
			cur.Settings = append(cur.Settings, DovecotSetting{Key: key, Value: v, Line: n})
		}
	}
	if len(stack) > 1 {
		return nil, fmt.Errorf("section %q opened on line %d is not closed", stack[len(stack)-1].Label(), stack[len(stack)-1].Line)
	}
	if c.Version == "" && len(c.Root.Settings) == 0 && len(c.Root.Sections) == 0 {
		return nil, fmt.Errorf("no settings: is this the output of doveconf -n?")
	}
	return c, nil
}

// parseDoveconfHeader reads doveconf's first line,
// "# 2.3.19.1 (9b53102964): /etc/dovecot/dovecot.conf".
func parseDoveconfHeader(line string) (version, path string) {
	rest := strings.TrimSpace(strings.TrimPrefix(line, "#"))
	v, rest, _ := strings.Cut(rest, " ")
	if v == "" || v[0] < '0' || v[0] > '9' || !strings.Contains(v, ".") {
		return "", ""
	}
	v = strings.TrimSuffix(v, ":")
	if _, p, ok := strings.Cut(rest, "): "); ok {
		path = p
	} else if _, p, ok := strings.Cut(rest, ": "); ok {
		path = p
	}
	return v, strings.TrimSpace(path)
}

// sectionHeader splits `protocol imap`, `mailbox "Sent Messages"`, `plugin`.
func sectionHeader(s string) (kind, name string, err error) {
	kind, name, _ = strings.Cut(s, " ")
	name = strings.TrimSpace(name)
	if strings.HasPrefix(name, `"`) {
		if name, err = unquote(name); err != nil {
			return "", "", fmt.Errorf("section %s: %w", kind, err)
		}
	}
	if kind == "" {
		return "", "", fmt.Errorf("section without a name")
	}
	return kind, name, nil
}

// settingValue undoes doveconf's quoting: a value with '#' or white space
// at either end is written in double quotes with \ escapes.
func settingValue(v string) (string, error) {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return unquote(v)
	}
	return v, nil
}

func unquote(s string) (string, error) {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return "", fmt.Errorf("unterminated quoted string %s", s)
	}
	s = s[1 : len(s)-1]
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			i++
			switch s[i] {
			case 'n':
				c = '\n'
			case 't':
				c = '\t'
			case 'r':
				c = '\r'
			default:
				c = s[i]
			}
		} else if c == '"' {
			return "", fmt.Errorf("unescaped quote in %q", s)
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}
