package man

import (
	"bytes"
	"encoding"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mailevents/mailevents/config"
	"github.com/mailevents/mailevents/event"
	"github.com/mailevents/mailevents/parsers"
	"github.com/mailevents/mailevents/pipeline"
	"github.com/mailevents/mailevents/source"
)

// configTable is one table of the configuration file: its leaf keys and the
// keys that hold tables of their own.
type configTable struct {
	path   string // "" for the top level, "sink.kafka", ...
	array  bool   // [[path]] rather than [path]
	keys   []string
	tables []string
	alias  bool // a table of a type documented under another path ([dead_letter])
}

// configTables walks config.Config by its toml tags, as the decoder sees
// the file. A struct type met a second time ([dead_letter] is a Sink) is
// listed without keys: it is documented where it was met first.
func configTables() []configTable {
	var out []configTable
	seen := map[reflect.Type]bool{}
	textUnmarshaler := reflect.TypeFor[encoding.TextUnmarshaler]()
	var walk func(t reflect.Type, path string, array bool)
	walk = func(t reflect.Type, path string, array bool) {
		if seen[t] {
			out = append(out, configTable{path: path, array: array, alias: true})
			return
		}
		seen[t] = true
		i := len(out)
		out = append(out, configTable{path: path, array: array})
		for j := range t.NumField() {
			f := t.Field(j)
			if !f.IsExported() {
				continue
			}
			key, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
			if key == "-" {
				continue
			}
			if key == "" {
				key = f.Name
			}
			ft, isArray := f.Type, false
			for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
				isArray = isArray || ft.Kind() == reflect.Slice
				ft = ft.Elem()
			}
			if ft.Kind() != reflect.Struct || reflect.PointerTo(ft).Implements(textUnmarshaler) {
				out[i].keys = append(out[i].keys, key)
				continue
			}
			out[i].tables = append(out[i].tables, key)
			sub := key
			if path != "" {
				sub = path + "." + key
			}
			walk(ft, sub, isArray)
		}
	}
	walk(reflect.TypeFor[config.Config](), "", false)
	return out
}

// TestConfigKeysDocumented: every key of every table of the configuration
// file is a term of its table's section in mailevents.toml.5.md, and every
// term there is a key.
func TestConfigKeysDocumented(t *testing.T) {
	tables := configTables()
	// The walk must reach the tables the other packages define, or this
	// test would pass while leaving them out.
	var paths []string
	for _, tb := range tables {
		paths = append(paths, tb.path)
	}
	for _, p := range []string{"", "mapping", "input", "sink", "sink.kafka", "sink.kafka.tls", "sink.kafka.sasl", "sink.subscription", "dead_letter"} {
		if !slices.Contains(paths, p) {
			t.Errorf("the walk of config.Config did not reach table %q (it found %q)", p, paths)
		}
	}

	secs := readSections(t, "mailevents.toml.5.md")
	for _, tb := range tables {
		heading := "[" + tb.path + "]"
		if tb.array {
			heading = "[" + heading + "]"
		}
		if tb.path == "" {
			heading = "TOP-LEVEL KEYS"
		}
		sec, ok := lookup(secs, heading)
		if !ok {
			t.Errorf("mailevents.toml.5.md has no section %q", heading)
			continue
		}
		var documented []string
		for _, term := range sec.terms() {
			if names := codeNames(term); len(names) > 0 {
				documented = append(documented, names[0])
			}
		}
		if tb.alias {
			continue
		}
		for _, k := range tb.keys {
			if !slices.Contains(documented, k) {
				t.Errorf("key %q of %s is not documented in its section of mailevents.toml.5.md", k, heading)
			}
		}
		for _, d := range documented {
			if !slices.Contains(tb.keys, d) && !slices.Contains(tb.tables, d) {
				t.Errorf("mailevents.toml.5.md documents %q under %s, which has no such key", d, heading)
			}
		}
	}
}

func lookup(secs []section, title string) (section, bool) {
	for _, s := range secs {
		if s.title == title {
			return s, true
		}
	}
	return section{}, false
}

// TestConfigExample: the complete example of mailevents.toml.5.md is a
// valid configuration with every table.
func TestConfigExample(t *testing.T) {
	sec := find(t, readSections(t, "mailevents.toml.5.md"), "EXAMPLE")
	example := strings.Join(sec.code, "\n")
	cfg, err := config.Parse("mailevents.toml.5.md EXAMPLE", []byte(example))
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]bool{}
	for _, in := range cfg.Inputs {
		types["input "+in.Type] = true
	}
	for _, s := range cfg.Sinks {
		types["sink "+s.Type] = true
		if s.Kafka != nil && s.Kafka.TLS.Enable && s.Kafka.SASL.Mechanism != "" {
			types["kafka tls sasl"] = true
		}
	}
	for _, want := range []string{"input file", "input journald", "input cyrus-notify", "sink stdout", "sink file", "sink kafka", "kafka tls sasl"} {
		if !types[want] {
			t.Errorf("the example has no %s", want)
		}
	}
	if cfg.DeadLetter == nil || !cfg.Mapping.UIDValidity || cfg.MetricsListen == "" {
		t.Errorf("the example lacks [dead_letter], [mapping] or metrics_listen: %+v", cfg)
	}
}

// TestEventsDocumented: every event type, group and parameter, RFC 5423 or
// vendor, is a term of mailevents-events.7.md, and the page's lists match
// the code.
func TestEventsDocumented(t *testing.T) {
	secs := readSections(t, "mailevents-events.7.md")

	types := find(t, secs, "EVENT TYPES")
	typeTerms := map[string]string{} // term -> its definition's first line
	for i, l := range types.lines {
		if slices.Contains(types.terms(), l) {
			typeTerms[strings.Trim(l, "*")] = strings.TrimSpace(strings.TrimPrefix(types.lines[i+1], ":"))
		}
	}
	all := append(slices.Clone(event.RFCTypes), event.LoginFailed)
	for _, ty := range all {
		if _, ok := typeTerms[string(ty)]; !ok {
			t.Errorf("event type %s is not a term of EVENT TYPES", ty)
		}
	}
	for _, g := range event.Groups {
		def, ok := typeTerms[string(g)]
		if !ok {
			t.Errorf("group %s is not a term of EVENT TYPES", g)
			continue
		}
		var want []string
		for _, ty := range all {
			if ty.Group() == g {
				want = append(want, string(ty))
			}
		}
		if got := strings.Split(def, ", "); !slices.Equal(got, want) {
			t.Errorf("group %s lists %q, but its types are %q", g, got, want)
		}
	}
	for term := range typeTerms {
		if !slices.Contains(all, event.Type(term)) && !slices.Contains(event.Groups, event.Group(term)) {
			t.Errorf("EVENT TYPES documents %q, which is neither an event type nor a group", term)
		}
	}

	params := documentedNames(find(t, secs, "PARAMETERS"))
	for _, p := range event.RFCParams {
		if !slices.Contains(params, string(p)) {
			t.Errorf("parameter %s is not a term of PARAMETERS", p)
		}
	}
	for _, d := range params {
		if !event.Param(d).IsRFC() {
			t.Errorf("PARAMETERS documents %q, which is not an RFC 5423 parameter", d)
		}
	}

	vendor := documentedNames(find(t, secs, "VENDOR PARAMETERS"))
	known := vendorParams(t)
	for _, p := range known {
		if !slices.Contains(vendor, p) {
			t.Errorf("vendor parameter %s is not a term of VENDOR PARAMETERS", p)
		}
	}
	for _, d := range vendor {
		if d != "vnd.mailevents." && !slices.Contains(known, d) {
			t.Errorf("VENDOR PARAMETERS documents %q, which nothing emits", d)
		}
	}
}

// documentedNames returns the names in code spans of a section's terms.
func documentedNames(s section) []string {
	var out []string
	for _, term := range s.terms() {
		out = append(out, codeNames(term)...)
	}
	return out
}

// vendorParams are the vnd.mailevents. parameters the program emits: those
// of the output schema and the constants of the mappers.
func vendorParams(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../event/schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	var out []string
	for p := range schema.Properties {
		if strings.HasPrefix(p, "vnd.") {
			out = append(out, p)
		}
	}
	for _, p := range []event.Param{event.ID, event.Source, event.Server, event.Session} {
		out = append(out, string(p))
	}
	files, err := filepath.Glob("../mapping/*.go")
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`"(vnd\.mailevents\.[A-Za-z]+)"`)
	comment := regexp.MustCompile(`(?m)//.*$`)
	found := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src = comment.ReplaceAll(src, nil) // "hdr_count" -> "vnd.mailevents.hdrCount" in a comment
		for _, m := range name.FindAllSubmatch(src, -1) {
			out = append(out, string(m[1]))
			found++
		}
	}
	if found < 10 {
		t.Fatalf("found only %d vnd.mailevents. names in ../mapping: has the mapping moved?", found)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestEventsFormatOrder: the parameter order that FORMAT lists is the order
// in which events are written.
func TestEventsFormatOrder(t *testing.T) {
	sec := find(t, readSections(t, "mailevents-events.7.md"), "FORMAT")
	text := strings.Join(strings.Fields(sec.text()), " ")
	_, list, ok := strings.Cut(text, "in the order Cyrus IMAP emits them: ")
	list, _, ok2 := strings.Cut(list, ".")
	if !ok || !ok2 {
		t.Fatalf("FORMAT does not list the order (\"in the order Cyrus IMAP emits them: ...\"):\n%s", text)
	}
	documented := strings.Split(list, ", ")

	e := event.New(event.MessageNew)
	for _, p := range slices.Backward(event.RFCParams) {
		e.SetString(p, "x")
	}
	var written []string
	for p := range e.All() {
		written = append(written, string(p))
	}
	if written[len(written)-1] != string(event.MessageContent) {
		t.Errorf("messageContent is not written last: %q", written)
	}
	written = written[:len(written)-1]
	if !slices.Equal(documented, written) {
		t.Errorf("FORMAT lists the order\n%q\nbut events are written in the order\n%q", documented, written)
	}
}

// TestDeadLettersDocumented: every key of a dead-letter record and every
// kind is described in DEAD LETTERS.
func TestDeadLettersDocumented(t *testing.T) {
	sec := find(t, readSections(t, "mailevents-events.7.md"), "DEAD LETTERS")
	r := pipeline.Reject{
		Pos:  source.Position{Source: "/var/log/mail.log", Offset: 1, End: 9},
		Kind: "unknown", Reason: "r", Detail: "d", Grammar: "g",
		Line: []byte{0xff, '\n'}, Truncated: true,
	}
	dec := json.NewDecoder(bytes.NewReader(r.AppendJSON(nil)))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
	}
	if len(keys) < 8 {
		t.Fatalf("a dead letter with every field set has only the keys %q", keys)
	}
	var terms []string
	for _, term := range sec.terms() {
		terms = append(terms, strings.Trim(term, "*"))
	}
	if !slices.Equal(terms, keys) {
		t.Errorf("DEAD LETTERS describes the keys %q; a dead letter has %q, in that order", terms, keys)
	}
	for _, kind := range []string{parsers.Unknown.String(), parsers.Malformed.String(),
		pipeline.KindUnmapped, pipeline.KindInvalid, pipeline.KindInternal, "oversize"} {
		if !strings.Contains(sec.text(), "**"+kind+"**") && !strings.Contains(sec.text(), `"kind":"`+kind+`"`) {
			t.Errorf("dead-letter kind %q is not described in DEAD LETTERS", kind)
		}
	}
}

// Commands and flags documented ahead of the program: the page may name
// them while the binary lacks them. Remove an entry once the binary has it.
var ahead = map[string][]string{}

// cli is the command line of the built program, read from its --help.
type cli struct {
	global   []string            // flags of every command
	commands map[string][]string // each command's own flags
}

var (
	cliOnce sync.Once
	cliHelp cli
	cliErr  error
)

// programCLI builds the program once and reads its commands and flags from
// "mailevents --help" and "mailevents CMD --help".
func programCLI(t *testing.T) cli {
	t.Helper()
	cliOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mailevents-man-")
		if err != nil {
			cliErr = err
			return
		}
		defer os.RemoveAll(dir)
		bin := filepath.Join(dir, "mailevents")
		build := exec.Command("go", "build", "-o", bin, "github.com/mailevents/mailevents")
		if out, err := build.CombinedOutput(); err != nil {
			cliErr = &buildError{out: string(out), err: err}
			return
		}
		help := func(args ...string) string {
			out, err := exec.Command(bin, append(args, "--help")...).Output()
			if err != nil && cliErr == nil {
				cliErr = err
			}
			return string(out)
		}
		top := help()
		cliHelp = cli{global: helpFlags(top), commands: map[string][]string{}}
		for _, c := range helpCommands(top) {
			var own []string
			for _, f := range helpFlags(help(c)) {
				if !slices.Contains(cliHelp.global, f) {
					own = append(own, f)
				}
			}
			cliHelp.commands[c] = own
		}
	})
	if cliErr != nil {
		t.Fatal(cliErr)
	}
	return cliHelp
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return "go build: " + e.err.Error() + "\n" + e.out }

// helpFlag matches a flag's line in kong's help ("  -h, --help",
// "      --log-level=LEVEL"), not the wrapped description lines below it.
var helpFlag = regexp.MustCompile(`^  (?:(-[a-zA-Z]), |    )(--[a-z0-9][a-z0-9-]*)`)

func helpFlags(help string) []string {
	var out []string
	for line := range strings.SplitSeq(help, "\n") {
		if m := helpFlag.FindStringSubmatch(line); m != nil {
			if m[1] != "" {
				out = append(out, m[1])
			}
			out = append(out, m[2])
		}
	}
	return out
}

var helpCommand = regexp.MustCompile(`^  ([a-z][a-z0-9-]*)(?:\s|$)`)

func helpCommands(help string) []string {
	var out []string
	in := false
	for line := range strings.SplitSeq(help, "\n") {
		switch {
		case line == "Commands:":
			in = true
		case in && line != "" && !strings.HasPrefix(line, " "):
			in = false
		case in:
			if m := helpCommand.FindStringSubmatch(line); m != nil {
				out = append(out, m[1])
			}
		}
	}
	return out
}

var docFlag = regexp.MustCompile(`(?:^|[^\w-])(--?[a-z0-9][a-z0-9-]*)`)

// flagsIn returns the flags named by definition terms ("**--server** *G*").
func flagsIn(terms []string) []string {
	var out []string
	for _, term := range terms {
		for _, m := range docFlag.FindAllStringSubmatch(strings.ReplaceAll(term, "*", " "), -1) {
			out = append(out, m[1])
		}
	}
	return out
}

// TestHelpParsing checks the parsing of kong's help on a sample.
func TestHelpParsing(t *testing.T) {
	help := `Usage: mailevents <command> [flags]

Flags:
  -h, --help               Show context-sensitive help.
      --log-level=LEVEL    Level of the program's own log on stderr (debug,
                           --not-a-flag info, warn, error).

Commands:
  parse      Parse log files (plain or gzip) or stdin once and print RFC 5423
             events as JSON lines.
  version    Print the version.

Run "mailevents <command> --help" for more information on a command.
`
	if got, want := helpFlags(help), []string{"-h", "--help", "--log-level"}; !slices.Equal(got, want) {
		t.Errorf("helpFlags = %q, want %q", got, want)
	}
	if got, want := helpCommands(help), []string{"parse", "version"}; !slices.Equal(got, want) {
		t.Errorf("helpCommands = %q, want %q", got, want)
	}
}

// TestCLIDocumented: every command of the program has a section under
// COMMANDS in mailevents.1.md that describes each of its flags, the
// options of every command are under OPTIONS, and the page describes no
// command or flag the program lacks (but those in ahead).
func TestCLIDocumented(t *testing.T) {
	prog := programCLI(t)
	if len(prog.commands) < 4 || len(prog.global) < 2 {
		t.Fatalf("read too little from the program's help: %+v", prog)
	}
	secs := readSections(t, "mailevents.1.md")

	docGlobal := flagsIn(find(t, secs, "OPTIONS").terms())
	compare(t, "OPTIONS", prog.global, docGlobal, nil)

	docCommands := map[string][]string{}
	for _, s := range under(secs, "COMMANDS") {
		docCommands[s.title] = flagsIn(s.terms())
	}
	for _, c := range sortedKeys(prog.commands) {
		doc, ok := docCommands[c]
		if !ok {
			t.Errorf("command %s has no section under COMMANDS in mailevents.1.md", c)
			continue
		}
		compare(t, "command "+c, prog.commands[c], doc, ahead[c])
	}
	for _, c := range sortedKeys(docCommands) {
		if _, ok := prog.commands[c]; ok {
			continue
		}
		if _, ok := ahead[c]; !ok {
			t.Errorf("mailevents.1.md documents a command %q that the program does not have", c)
			continue
		}
		t.Logf("command %s is documented ahead of the program", c)
	}

	// The synopsis and the examples use only documented commands and flags.
	var uses []string
	uses = append(uses, find(t, secs, "SYNOPSIS").lines...)
	uses = append(uses, find(t, secs, "EXAMPLES").code...)
	for _, use := range commandLines(uses) {
		cmd, flags := use[0], use[1:]
		doc, ok := docCommands[cmd]
		if !ok {
			t.Errorf("%q uses the undocumented command %q", strings.Join(use, " "), cmd)
			continue
		}
		for _, f := range flags {
			if !slices.Contains(doc, f) && !slices.Contains(docGlobal, f) {
				t.Errorf("%q uses %s, which the section of %s does not describe", strings.Join(use, " "), f, cmd)
			}
		}
	}
}

// compare reports the flags the program has and the page lacks, and those
// the page has and the program lacks (allowed for those in ahead).
func compare(t *testing.T, where string, prog, doc, ahead []string) {
	t.Helper()
	for _, f := range prog {
		if !slices.Contains(doc, f) {
			t.Errorf("%s: the program has %s, which mailevents.1.md does not describe there", where, f)
		}
	}
	for _, f := range doc {
		switch {
		case slices.Contains(prog, f):
		case slices.Contains(ahead, f):
			t.Logf("%s: %s is documented ahead of the program", where, f)
		default:
			t.Errorf("%s: mailevents.1.md describes %s, which the program does not have", where, f)
		}
	}
}

// commandLines finds the invocations of mailevents in lines of shell (with
// Markdown emphasis): for each, the command and the flags it uses.
func commandLines(lines []string) [][]string {
	joined := strings.ReplaceAll(strings.Join(lines, "\n"), "\\\n", " ")
	joined = strings.NewReplacer("*", " ", "[", " ", "]", " ").Replace(joined)
	var out [][]string
	for _, part := range regexp.MustCompile(`\||&&|;|\n`).Split(joined, -1) {
		fields := strings.Fields(part)
		if len(fields) < 2 || fields[0] != "mailevents" {
			continue
		}
		i := 1
		for i < len(fields) && strings.HasPrefix(fields[i], "-") {
			i += 2 // a global option and its value: --log-level LEVEL
		}
		if i >= len(fields) {
			continue
		}
		use := []string{fields[i]}
		for _, f := range fields[1:] {
			if strings.HasPrefix(f, "--") {
				name, _, _ := strings.Cut(f, "=")
				use = append(use, name)
			}
		}
		out = append(out, use)
	}
	return out
}
