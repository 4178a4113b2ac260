package config_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mailevents/mailevents/config"
)

func TestExampleConfigIsValid(t *testing.T) {
	c, err := config.Load("../packaging/mailevents.toml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Inputs) != 1 || c.Inputs[0].Paths[0] != "/var/log/mail.log" || c.Inputs[0].Type != config.InputFile {
		t.Errorf("inputs = %+v", c.Inputs)
	}
	if len(c.Sinks) != 1 || c.Sinks[0].Type != config.SinkFile || c.Sinks[0].Sync != "batch" {
		t.Errorf("sinks = %+v", c.Sinks)
	}
	if c.DeadLetter == nil || c.DeadLetter.Name != "dead_letter" {
		t.Errorf("dead letter = %+v", c.DeadLetter)
	}
	if c.CheckpointInterval.Std() != 2*time.Second || c.BatchLatency.Std() != 100*time.Millisecond {
		t.Errorf("durations = %v %v", c.CheckpointInterval, c.BatchLatency)
	}
}

func TestDefaults(t *testing.T) {
	c, err := config.Parse("t.toml", []byte("[[input]]\npaths = [\"/var/log/mail.log\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	in := c.Inputs[0]
	if c.StateDir != config.DefaultStateDir || in.Type != "file" || in.Grammar != "auto" || in.Name != "file1" {
		t.Errorf("defaults: state_dir %q, input %+v", c.StateDir, in)
	}
	if len(c.Sinks) != 1 || c.Sinks[0].Type != config.SinkStdout {
		t.Errorf("default sink = %+v", c.Sinks)
	}
}

// Every message names the key and, when the key is in the file, its line.
func TestProblems(t *testing.T) {
	const input = "[[input]]\npaths = [\"/var/log/mail.log\"]\n"
	for _, tc := range []struct {
		name, toml string
		want       []string
	}{
		{"unknown top-level key", "stat_dir = \"/x\"\n" + input,
			[]string{"t.toml: line 1: stat_dir: unknown key"}},
		{"unknown key in an array table", input + "grammer = \"dovecot\"\n",
			[]string{"line 3: input.grammer: unknown key"}},
		{"syntax error", "state_dir = \n",
			[]string{"t.toml: line 1:"}},
		{"wrong kind", "batch_size = \"big\"\n" + input,
			[]string{"line 1", "batch_size"}},
		{"bad duration", "batch_latency = \"soon\"\n" + input,
			[]string{"line 1", "not a duration"}},
		{"no inputs", "state_dir = \"/var/lib/m\"\n",
			[]string{"input: no [[input]]"}},
		{"relative state dir", "state_dir = \"state\"\n" + input,
			[]string{"line 1: state_dir: must be an absolute path"}},
		{"unknown grammar", input + "grammar = \"postfix\"\n",
			[]string{`line 3: input[1].grammar: unknown grammar "postfix"`}},
		{"second input's relative path", input + "[[input]]\npaths = [\"mail.log\"]\n",
			[]string{`line 4: input[2].paths[1]: must be an absolute path, got "mail.log"`}},
		{"bad glob", "[[input]]\npaths = [\"/var/log/[mail\"]\n",
			[]string{`input[1].paths[1]: bad glob`}},
		{"journald without units", "[[input]]\ntype = \"journald\"\n",
			[]string{"line 1: input[1].units: a journald input needs units or identifiers"}},
		{"key of another input type", input + "units = [\"dovecot.service\"]\n",
			[]string{"line 3: input[1].units: only applies to inputs of type journald"}},
		{"duplicate input names", "[[input]]\nname = \"a\"\npaths = [\"/a\"]\n[[input]]\nname = \"a\"\npaths = [\"/b\"]\n",
			[]string{`line 5: input[2].name: "a" is already the name of input[1]`}},
		{"file sink without path", input + "[[sink]]\ntype = \"file\"\n",
			[]string{"line 3: sink[1].path: a file sink needs an absolute path"}},
		{"bad sync", input + "[[sink]]\npath = \"/var/log/e.jsonl\"\nsync = \"sometimes\"\n",
			[]string{`line 5: sink[1].sync: must be batch, interval or never, got "sometimes"`}},
		{"interval without interval", input + "[[sink]]\npath = \"/var/log/e.jsonl\"\nsync = \"interval\"\n",
			[]string{"sink[1].sync_interval: sync = \"interval\" needs sync_interval"}},
		{"two stdout sinks", input + "[[sink]]\ntype = \"stdout\"\n[[sink]]\ntype = \"stdout\"\n",
			[]string{"line 6: sink[2].type: a second stdout sink would interleave"}},
		{"kafka sink without kafka table", input + "[[sink]]\ntype = \"kafka\"\n",
			[]string{"line 3: sink[1].kafka: a kafka sink needs a [sink.kafka] table"}},
		{"unknown sink type", input + "[[sink]]\ntype = \"syslog\"\n",
			[]string{`line 4: sink[1].type: unknown sink type "syslog"`}},
		{"bad subscription", input + "[[sink]]\ntype = \"stdout\"\n[sink.subscription]\ngroups = [\"mesage\"]\n",
			[]string{`line 6: sink[1].subscription.groups: unknown group "mesage"`}},
		{"subscription on the dead letters", input + "[dead_letter]\ntype = \"stdout\"\n[dead_letter.subscription]\ngroups = [\"message\"]\n",
			[]string{"line 5: dead_letter.subscription: dead letters are lines, not events"}},
		{"all problems at once", "state_dir = \"x\"\n[[input]]\ngrammar = \"x\"\n",
			[]string{"3 problems", "state_dir", "input[1].grammar", "input[1].paths"}},
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

func TestSinkFromURL(t *testing.T) {
	for _, tc := range []struct {
		url, typ, path, err string
	}{
		{url: "-", typ: "stdout"},
		{url: "file:/var/log/e.jsonl", typ: "file", path: "/var/log/e.jsonl"},
		{url: "file:", err: "needs a path"},
		{url: "kafka://127.0.0.1:9092/mail-events", typ: "kafka"},
		{url: "kafka://127.0.0.1:9092/", err: "topic"},
		{url: "http://x", err: "want -, file:PATH or kafka://"},
	} {
		s, err := config.SinkFromURL(tc.url)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("SinkFromURL(%q) = %v, want an error with %q", tc.url, err, tc.err)
			}
			continue
		}
		if err != nil || s.Type != tc.typ || s.Path != tc.path {
			t.Errorf("SinkFromURL(%q) = %+v, %v", tc.url, s, err)
		}
	}
}

// The configuration the README shows is valid.
func TestREADMEConfig(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "```toml\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("README has no ```toml block")
	}
	c, err := config.Parse("README.md", []byte(block))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Sinks) != 3 || c.Sinks[2].Kafka == nil || len(c.Sinks[2].Subscription.Groups) != 3 || c.DeadLetter == nil {
		t.Errorf("README config read as %+v", c)
	}
}
