package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mailevents/mailevents/config"
)

func TestSealDefaults(t *testing.T) {
	c, err := config.Parse("t.toml", []byte("[[input]]\npaths = [\"/var/log/mail.log\"]\n"+
		"[[sink]]\nname = \"archive\"\npath = \"/var/log/e.jsonl\"\n[sink.seal]\nkey_file = \"/etc/mailevents/seal.key\"\n"+
		"[[sink]]\ntype = \"stdout\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Sinks[0].Seal
	if s == nil || s.KeyFile != "/etc/mailevents/seal.key" || s.Stream != "" || s.Interval.Std() != time.Minute {
		t.Errorf("seal = %+v", s)
	}
	if c.Sinks[1].Seal != nil {
		t.Errorf("a sink without [sink.seal] is sealed: %+v", c.Sinks[1].Seal)
	}
}

// Every problem of a [sink.seal] names its key and line.
func TestSealProblems(t *testing.T) {
	const head = "[[input]]\npaths = [\"/var/log/mail.log\"]\n[[sink]]\npath = \"/var/log/e.jsonl\"\n"
	for _, tc := range []struct {
		name, toml string
		want       []string
	}{
		{"no key", head + "[sink.seal]\nstream = \"s\"\n",
			[]string{"line 5: sink[1].seal.key_file: a sealed sink needs the absolute path"}},
		{"relative key", head + "[sink.seal]\nkey_file = \"seal.key\"\n",
			[]string{`line 6: sink[1].seal.key_file:`, `got "seal.key"`}},
		{"bad stream", head + "[sink.seal]\nkey_file = \"/k\"\nstream = \"a\\nb\"\n",
			[]string{"line 7: sink[1].seal.stream: stream id", "control character"}},
		{"short interval", head + "[sink.seal]\nkey_file = \"/k\"\ninterval = \"10ms\"\n",
			[]string{"line 7: sink[1].seal.interval: must be at least 1s, got 10ms"}},
		{"unknown key", head + "[sink.seal]\nkey_file = \"/k\"\nkey = \"/k\"\n",
			[]string{"line 7: sink.seal.key: unknown key"}},
		{"one stream for two sinks", head + "[sink.seal]\nkey_file = \"/k\"\nstream = \"s\"\n[[sink]]\ntype = \"stdout\"\n[sink.seal]\nkey_file = \"/k\"\nstream = \"s\"\n",
			[]string{`line 12: sink[2].seal.stream: "s" is already the stream of sink[1].seal.stream`}},
		{"sealed dead letters", head + "[dead_letter]\npath = \"/var/log/d.jsonl\"\n[dead_letter.seal]\nkey_file = \"/k\"\n",
			[]string{"dead_letter.seal: dead letters are lines, not events: they cannot be sealed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse("t.toml", []byte(tc.toml))
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("Parse = %v, want a *config.Error", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%s\nlacks %q", err, w)
				}
			}
		})
	}
}
