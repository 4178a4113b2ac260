package pipeline_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/mailevents/mailevents/event/eventtest"
	"github.com/mailevents/mailevents/pipeline"
	"github.com/mailevents/mailevents/sinks/stdout"
	"github.com/mailevents/mailevents/source"
	"github.com/mailevents/mailevents/subscription"
)

// One input feeds sinks with different subscriptions: each gets its own
// selection, and one sink's transformation never shows in another's.
func TestOutputsWithSubscriptions(t *testing.T) {
	input := strings.Repeat(loginLine+saveLine, 3)
	compile := func(c subscription.Config) *subscription.Filter {
		f, err := subscription.Compile(c)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	var all, access, tagged bytes.Buffer
	cfg := config(stdout.NewNamed("all", &all), nil, nil)
	cfg.Outputs = []pipeline.Output{
		{Sink: stdout.NewNamed("access", &access), Filter: compile(subscription.Config{Groups: []string{"access"}})},
		{Sink: stdout.NewNamed("tagged", &tagged), Filter: compile(subscription.Config{
			Groups: []string{"message"}, Tags: []string{"archive"}, Suppress: []string{"vnd.mailevents.session"}})},
	}
	r, _ := source.Open("-", source.Options{Stdin: strings.NewReader(input)})
	if err := pipeline.Run(context.Background(), r, cfg); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		out        *bytes.Buffer
		n          int
		has, lacks []string
	}{
		"all":    {&all, 6, []string{`"event":"Login"`, `"event":"MessageAppend"`, `"vnd.mailevents.session"`}, []string{`"tags"`}},
		"access": {&access, 3, []string{`"event":"Login"`}, []string{`"event":"MessageAppend"`, `"tags"`}},
		"tagged": {&tagged, 3, []string{`"event":"MessageAppend"`, `"tags":"archive"`}, []string{`"event":"Login"`, `"vnd.mailevents.session"`}},
	} {
		eventtest.CheckLines(t, tc.out.Bytes())
		text := tc.out.String()
		if got := strings.Count(text, "\n"); got != tc.n {
			t.Errorf("%s: %d events, want %d", name, got, tc.n)
		}
		for _, h := range tc.has {
			if !strings.Contains(text, h) {
				t.Errorf("%s lacks %s:\n%s", name, h, text)
			}
		}
		for _, l := range tc.lacks {
			if strings.Contains(text, l) {
				t.Errorf("%s has %s:\n%s", name, l, text)
			}
		}
	}
}
