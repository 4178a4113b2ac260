package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mailevents/mailevents/event/eventtest"
	"github.com/mailevents/mailevents/mapping"
	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/parsers/parsertest"
)

var update = flag.Bool("update", false, "rewrite testdata/help/*.txt")

// testEnv runs commands with the test double grammar, so these tests check
// the command line and not a server's grammar.
func testEnv(stdin string) (env, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	g, mappers := parsertest.DoubleGrammar(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	reg := new(parsers.Registry)
	reg.Register(g)
	return env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut,
		grammars: grammarSet{parsers: reg, newMappers: func(mapperOptions) *mapping.Registry { return mappers() }}}, &out, &errOut
}

func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	e, out, errOut := testEnv(stdin)
	code = run(context.Background(), args, e)
	return code, out.String(), errOut.String()
}

//go:generate go test -run ^TestHelp$ -update
func TestHelp(t *testing.T) {
	t.Setenv("COLUMNS", "80") // kong wraps help to the terminal's width
	for _, args := range [][]string{{"--help"}, {"parse", "--help"}, {"run", "--help"}, {"check", "--help"}, {"doctor", "--help"}, {"keygen", "--help"}, {"verify", "--help"}, {"version", "--help"}} {
		name := strings.Join(args[:len(args)-1], "-")
		if name == "" {
			name = "mailevents"
		}
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", args...)
			if code != exitOK || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			path := filepath.Join("testdata", "help", name+".txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if out != string(want) {
				t.Errorf("help differs from %s (run with -update if intended):\n%s", path, out)
			}
		})
	}
}

const sampleInput = "Feb 28 09:00:01 mail mailtest[1]: login user=alice session=s1 rip=192.0.2.10 service=imap\n" +
	"not a log line\n" +
	"Feb 28 09:00:02 mail mailtest[1]: save user=alice session=s1 box=INBOX uid=7 size=10 service=imap\n"

func TestParseStdinToStdout(t *testing.T) {
	code, out, errOut := runCLI(t, sampleInput, "parse")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	eventtest.CheckLines(t, []byte(out))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"event":"Login"`) || !strings.Contains(lines[1], `"event":"MessageAppend"`) {
		t.Fatalf("stdout:\n%s", out)
	}
	if !strings.Contains(lines[0], `"vnd.mailevents.source":{"stream":"stdin","offset":0}`) {
		t.Errorf("stdin events must name the stream: %s", lines[0])
	}
	if errOut != "" {
		t.Errorf("stderr must stay quiet without --stats, got %q", errOut)
	}
}

func TestParseRejectsAndStats(t *testing.T) {
	dir := t.TempDir()
	rejects := filepath.Join(dir, "rejects.jsonl")
	code, out, errOut := runCLI(t, sampleInput, "parse", "--stats", "--rejects", rejects)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if n := strings.Count(out, "\n"); n != 2 {
		t.Errorf("%d events on stdout, want 2", n)
	}
	data, err := os.ReadFile(rejects)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"source":{"stream":"stdin","offset":90},"end":105,"kind":"unknown","reason":"no grammar recognises the line","line":"not a log line"}` + "\n"
	if string(data) != want {
		t.Errorf("rejects file:\n got %s\nwant %s", data, want)
	}
	if fi, _ := os.Stat(rejects); fi.Mode().Perm() != 0o640 {
		t.Errorf("rejects file mode %v, want 0640 (it holds log lines)", fi.Mode().Perm())
	}
	for _, s := range []string{"lines read  3", "test-double  2", "Login", "MessageAppend", "unknown: no grammar recognises the line  1"} {
		if !strings.Contains(errOut, s) {
			t.Errorf("--stats output lacks %q:\n%s", s, errOut)
		}
	}
}

func TestParseFilesAndGzip(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "mail.log")
	if err := os.WriteFile(plain, []byte(sampleInput), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "", "parse", plain, filepath.Join("testdata", "double.log.gz"))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	eventtest.CheckLines(t, []byte(out))
	if n := strings.Count(out, `"event":`); n != 4 {
		t.Errorf("%d events from a plain and a gzip file, want 4:\n%s", n, out)
	}
	if !strings.Contains(out, `{"file":"testdata/double.log.gz","offset":110}`) {
		t.Errorf("gzip offsets must be those of the decompressed text:\n%s", out)
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		errorHas string
	}{
		{"unknown flag", []string{"parse", "--nope"}, exitUsage, "unknown flag --nope"},
		{"unknown command", []string{"frobnicate"}, exitUsage, "unexpected argument frobnicate"},
		{"bad enum", []string{"parse", "--server", "exim"}, exitUsage, "--server must be one of"},
		{"no command", []string{}, exitUsage, "expected one of"},
		{"missing file", []string{"parse", "/nonexistent/mail.log"}, exitRuntime, "/nonexistent/mail.log"},
		{"server without grammar", []string{"parse", "--server", "cyrus"}, exitRuntime, `no grammar for server "cyrus"`},
		{"unwritable rejects", []string{"parse", "--rejects", "/nonexistent/dir/r.jsonl"}, exitRuntime, "--rejects"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, "", tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.errorHas) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, errOut, tt.code, tt.errorHas)
			}
		})
	}
}

type brokenPipe struct{}

func (brokenPipe) Write([]byte) (int, error) { return 0, syscall.EPIPE }

// `mailevents parse mail.log | head` must end quietly when head exits.
func TestBrokenPipeExitsQuietly(t *testing.T) {
	e, _, errOut := testEnv(sampleInput)
	e.stdout = brokenPipe{}
	if code := run(context.Background(), []string{"parse"}, e); code != exitOK {
		t.Fatalf("exit %d, want 0", code)
	}
	if errOut.Len() != 0 {
		t.Errorf("stderr %q, want nothing", errOut.String())
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, "", "version")
	if code != exitOK || !strings.HasPrefix(out, "mailevents ") || !strings.Contains(out, "go: go1.") {
		t.Fatalf("exit %d, output %q", code, out)
	}
}

// The README's first command must keep working and printing events: its
// output is pinned here.
func TestBundledExample(t *testing.T) {
	var out, errOut bytes.Buffer
	e := env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, grammars: defaultGrammars()}
	if code := run(context.Background(), []string{"parse", "--host", "mail.example.org", "testdata/dovecot/mail.log"}, e); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	eventtest.CheckLines(t, out.Bytes())
	golden := filepath.Join("testdata", "dovecot", "mail.golden.jsonl")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("output differs from %s (run with -update if intended):\n%s", golden, out.String())
	}
	if n := bytes.Count(out.Bytes(), []byte("\n")); n < 10 {
		t.Errorf("only %d events from the bundled example", n)
	}
}

// RFC 5423 §4.2: whether \Seen and \Deleted give MessageRead/MessageTrash or
// FlagsSet SHOULD be configurable; the simpler events are the default.
func TestPlainFlagsSet(t *testing.T) {
	log := "Mar  2 09:14:15 mail dovecot: imap(alice)<1><s>: flag_change: box=INBOX, uid=388, msgid=<a@b>, size=3, flags=()\n" +
		"Mar  2 09:14:16 mail dovecot: imap(alice)<1><s>: flag_change: box=INBOX, uid=388, msgid=<a@b>, size=3, flags=(\\Seen \\Deleted)\n"
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"parse"}, []string{`"event":"MessageRead"`, `"event":"MessageTrash"`}},
		{[]string{"parse", "--plain-flagsset"}, []string{`"event":"FlagsSet"`, `"flagNames":"\\Deleted \\Seen"`}},
	} {
		var out, errOut bytes.Buffer
		e := env{stdin: strings.NewReader(log), stdout: &out, stderr: &errOut, grammars: defaultGrammars()}
		if code := run(context.Background(), tt.args, e); code != exitOK {
			t.Fatalf("%v: exit %d: %s", tt.args, code, errOut.String())
		}
		eventtest.CheckLines(t, out.Bytes())
		for _, w := range tt.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%v: output lacks %s:\n%s", tt.args, w, out.String())
			}
		}
	}
}
