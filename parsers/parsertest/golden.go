package parsertest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mailevents/mailevents/event/eventtest"
	"github.com/mailevents/mailevents/mapping"
	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/pipeline"
	"github.com/mailevents/mailevents/sinks/stdout"
	"github.com/mailevents/mailevents/source"
)

// Golden runs every dir/<case>.log through the grammars and compares the
// events with dir/<case>.golden.jsonl and the dead letters with
// dir/<case>.rejects.jsonl. With update set (each test package's -update
// flag) it rewrites those files instead. Every event is also checked against
// the output schema, so a golden file can never enshrine an invalid event.
//
// Adding a case means adding a .log file and running the test with -update.
func Golden(t *testing.T, dir string, update bool, grammars []parsers.Parser, newMappers func() *mapping.Registry) {
	t.Helper()
	logs, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil || len(logs) == 0 {
		t.Fatalf("no golden cases (*.log) in %s: %v", dir, err)
	}
	for _, log := range logs {
		name := strings.TrimSuffix(filepath.Base(log), ".log")
		t.Run(name, func(t *testing.T) {
			events, rejects := Run(t, log, grammars, newMappers())
			eventtest.CheckLines(t, events)
			compareOrUpdate(t, strings.TrimSuffix(log, ".log")+".golden.jsonl", events, update)
			compareOrUpdate(t, strings.TrimSuffix(log, ".log")+".rejects.jsonl", rejects, update)
		})
	}
}

// Run parses one file with the pipeline and returns the event and
// dead-letter output.
func Run(t testing.TB, path string, grammars []parsers.Parser, mappers *mapping.Registry) (events, rejects []byte) {
	t.Helper()
	var evBuf, rejBuf bytes.Buffer
	r, err := source.Open(path, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cfg := pipeline.Config{
		Parsers: grammars,
		Mappers: mappers,
		Events:  stdout.NewNamed("events", &evBuf),
		Rejects: stdout.NewNamed("rejects", &rejBuf),
	}
	if err := pipeline.Run(context.Background(), r, cfg); err != nil {
		t.Fatalf("pipeline on %s: %v", path, err)
	}
	for _, s := range []interface{ Close(context.Context) error }{cfg.Events, cfg.Rejects} {
		if err := s.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return evBuf.Bytes(), rejBuf.Bytes()
}

func compareOrUpdate(t *testing.T, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n")); diff != "" {
		t.Errorf("%s differs (-want +got); if the change is intended, run with -update:\n%s", path, diff)
	}
}
