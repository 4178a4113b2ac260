package subscription

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mailevents/mailevents/event"
	"github.com/mailevents/mailevents/event/eventtest"
	"github.com/mailevents/mailevents/mapping"
	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/parsers/cyrus"
	"github.com/mailevents/mailevents/parsers/cyrusjson"
	"github.com/mailevents/mailevents/parsers/dovecot"
	"github.com/mailevents/mailevents/parsers/dovecotpush"
	"github.com/mailevents/mailevents/parsers/syslog"
	"github.com/mailevents/mailevents/source"
)

// mappedEvents runs the project's golden inputs through the real grammars
// and mappers, as the pipeline does, both with and without the mappers'
// plain FlagsSet option, and returns the events that pass Validate (the
// pipeline dead-letters the others before any sink sees them).
func mappedEvents(t *testing.T) []event.Event {
	t.Helper()
	logs, err := filepath.Glob("../parsers/*/testdata/*.log")
	if err != nil {
		t.Fatal(err)
	}
	logs = append(logs, "../testdata/dovecot/mail.log")
	var out []event.Event
	for _, plain := range []bool{false, true} {
		for _, log := range logs {
			text, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			env := syslog.Parser{}
			det := parsers.NewDetector([]parsers.Parser{dovecot.New(env), dovecotpush.New(), cyrus.New(env), cyrusjson.New(env)})
			reg := new(mapping.Registry)
			reg.Register("dovecot", mapping.NewDovecot(mapping.DovecotOptions{PlainFlagsSet: plain}))
			reg.RegisterGrammar("dovecot-push", mapping.NewDovecotPush(mapping.DovecotPushOptions{PlainFlagsSet: plain}))
			reg.Register("cyrus", mapping.NewCyrus(mapping.CyrusOptions{PlainFlagsSet: plain}))
			reg.RegisterGrammar("cyrus-json", mapping.NewCyrusJSON(mapping.CyrusJSONOptions{}))
			var offset int64
			for raw := range bytes.Lines(text) {
				line := source.Line{Position: source.Position{Source: log, Offset: offset}, Text: bytes.TrimRight(raw, "\r\n")}
				offset += int64(len(raw))
				g, rec, err := det.Parse(line)
				if err != nil {
					continue
				}
				rec.Pos = line.Position
				if rec.Grammar == "" {
					rec.Grammar = g.Name()
				}
				evs, err := reg.Map(nil, &rec)
				if err != nil {
					continue
				}
				for i := range evs {
					// What the pipeline stamps before validating.
					evs[i].SetString(event.ID, event.ComputeID(line.Text, i, evs[i].Type))
					evs[i].Set(event.Source, event.SourceFile(log, line.Offset))
					evs[i].SetString(event.Server, rec.Server)
					if evs[i].Validate() == nil {
						out = append(out, evs[i].Clone())
					}
				}
			}
		}
	}
	return out
}

// TestApplyKeepsMappedEventsValid is the property the pipeline relies on:
// whatever a valid subscription does to a valid mapped event, the result
// still passes Validate and the output schema.
func TestApplyKeepsMappedEventsValid(t *testing.T) {
	events := mappedEvents(t)
	seen := map[event.Type]bool{}
	var params []string
	for i := range events {
		seen[events[i].Type] = true
		for p := range events[i].All() {
			if !slices.Contains(params, string(p)) {
				params = append(params, string(p))
			}
		}
	}
	for _, ty := range []event.Type{event.MessageNew, event.MessageRead, event.MessageTrash, event.FlagsSet, event.Login, event.MailboxRename} {
		if !seen[ty] {
			t.Fatalf("the golden inputs gave no %s: the property would be checked on too little", ty)
		}
	}
	// Suppress every parameter that some config may legally drop, so each
	// transform is exercised at its most destructive.
	maximal := func(base Config) Config {
		for _, p := range params {
			try := base
			try.Suppress = append(slices.Clone(base.Suppress), p)
			if _, err := Compile(try); err == nil {
				base.Suppress = try.Suppress
			}
		}
		return base
	}
	configs := map[string]Config{
		"flags-only tagged": {FlagEvents: "flags-only", Tags: []string{"audit", "eu"}},
		"most suppressed":   maximal(Config{Tags: []string{"x"}}),
		"flags-only most suppressed": maximal(Config{
			FlagEvents: "flags-only", Groups: []string{"flags"}, Tags: []string{"flags"},
		}),
		"access most suppressed": maximal(Config{Groups: []string{"access"}}),
		"filters": {
			ExcludeGroups: []string{"quota"}, Users: []string{"*"}, ExcludeMailboxes: []string{"Trash/**"},
			Suppress: []string{"messageContent", "vnd.mailevents.subject"},
		},
	}
	for name, cfg := range configs {
		t.Run(name, func(t *testing.T) {
			f := mustCompile(t, cfg)
			kept, converted := 0, 0
			for i := range events {
				e := events[i].Clone()
				if !f.Apply(&e) {
					if !e.Equal(&events[i]) {
						t.Errorf("dropped event changed: %s", e.AppendJSON(nil))
					}
					continue
				}
				kept++
				if e.Type != events[i].Type {
					converted++
				}
				if err := e.Validate(); err != nil {
					t.Errorf("%v\nfrom %s", err, events[i].AppendJSON(nil))
					continue
				}
				if err := eventtest.CheckLine(e.AppendJSON(nil)); err != nil {
					t.Error(err)
				}
			}
			if kept == 0 {
				t.Errorf("kept none of %d events: the property was not exercised", len(events))
			}
			if cfg.FlagEvents == "flags-only" && converted == 0 {
				t.Error("flags-only converted no event")
			}
			t.Logf("%d of %d events kept, %d converted, suppress %v", kept, len(events), converted, f.suppress)
		})
	}
}
