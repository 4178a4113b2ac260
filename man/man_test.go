package man

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cpuguy83/go-md2man/v2/md2man"
	"github.com/russross/blackfriday/v2"

	"github.com/mailevents/mailevents/internal/mailtest"
)

var update = flag.Bool("update", false, "rewrite the roff pages from their Markdown sources")

// TestPages renders every source and compares the result with the committed
// page; -update writes it instead.
func TestPages(t *testing.T) {
	sources, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, p := range Pages {
		want = append(want, p+".md")
	}
	slices.Sort(sources)
	slices.Sort(want)
	if !slices.Equal(sources, want) {
		t.Errorf("Markdown sources %v, but Pages lists %v: add the page to Pages or remove the source", sources, want)
	}
	for _, page := range Pages {
		src, err := os.ReadFile(page + ".md")
		if err != nil {
			t.Fatal(err)
		}
		got := Render(src)
		if *update {
			if err := os.WriteFile(page, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		committed, err := os.ReadFile(page)
		if err != nil {
			t.Errorf("%v (run go generate ./man)", err)
			continue
		}
		if !bytes.Equal(got, committed) {
			t.Errorf("%s is stale: it differs from what %s.md renders to at line %d; run go generate ./man",
				page, page, firstDiffLine(got, committed))
		}
	}
}

func firstDiffLine(a, b []byte) int {
	al, bl := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := range min(len(al), len(bl)) {
		if !bytes.Equal(al[i], bl[i]) {
			return i + 1
		}
	}
	return min(len(al), len(bl)) + 1
}

// TestNoDroppedText fails on Markdown that go-md2man drops: it renders no
// HTML, so "<FILE>" outside a code span would silently vanish from a page.
func TestNoDroppedText(t *testing.T) {
	ext := md2man.NewRoffRenderer().GetExtensions()
	for _, page := range Pages {
		src, err := os.ReadFile(page + ".md")
		if err != nil {
			t.Fatal(err)
		}
		doc := blackfriday.New(blackfriday.WithExtensions(ext)).Parse(src)
		doc.Walk(func(n *blackfriday.Node, entering bool) blackfriday.WalkStatus {
			switch n.Type {
			case blackfriday.HTMLSpan, blackfriday.HTMLBlock, blackfriday.Image:
				if entering && !bytes.HasPrefix(n.Literal, []byte("<!--")) {
					t.Errorf("%s.md: %s %q is not rendered by go-md2man; put it in a code span or escape it", page, n.Type, n.Literal)
				}
			}
			return blackfriday.GoToNext
		})
	}
}

// TestManRenders formats every page as man(1) does and fails on any warning
// from man or groff, on a NAME line that lexgrog (and so mandb and whatis)
// cannot read, and on a line wider than an 80-column terminal.
func TestManRenders(t *testing.T) {
	for _, tool := range []string{"man", "groff", "lexgrog"} {
		if _, err := exec.LookPath(tool); err != nil {
			mailtest.Missing(t, err, tool+" not installed (Debian packages man-db and groff-base)",
				"MAILEVENTS_SKIP_MAN", "scripts/install-test-deps")
		}
	}
	// The user's settings of man and groff (MANOPT, MAN_KEEP_FORMATTING,
	// GROFF_*) would change what is checked.
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MAN") && !strings.HasPrefix(kv, "GROFF") && !strings.HasPrefix(kv, "LC_") && !strings.HasPrefix(kv, "LANG") {
			env = append(env, kv)
		}
	}
	env = append(env, "LC_ALL=C.UTF-8", "MANWIDTH=80")
	run := func(t *testing.T, name string, args ...string) (stdout string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Env = env
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		switch err := cmd.Run(); {
		case err != nil:
			t.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, errOut.String())
		case errOut.Len() > 0:
			t.Errorf("%s %s warns:\n%s", name, strings.Join(args, " "), errOut.String())
		}
		return out.String()
	}
	for _, page := range Pages {
		t.Run(page, func(t *testing.T) {
			if _, err := os.Stat(page); err != nil {
				t.Fatalf("%v (run go generate ./man)", err)
			}
			run(t, "man", "--warnings=w", "-l", "-Tutf8", page) // w: every groff warning
			run(t, "groff", "-t", "-ww", "-man", "-Tutf8", "-z", page)

			name := strings.SplitN(page, ".", 2)[0]
			if page == "mailevents.toml.5" {
				name = "mailevents.toml"
			}
			whatis := run(t, "lexgrog", page)
			if !strings.Contains(whatis, `"`+name+` - `) {
				t.Errorf("lexgrog %s: %q lacks the NAME line %q", page, whatis, name+" - ...")
			}

			text := run(t, "man", "-l", page)
			if !strings.Contains(text, "NAME") || !strings.Contains(text, "SEE ALSO") {
				t.Errorf("man -l %s: no NAME or SEE ALSO section in:\n%s", page, text)
			}
			if strings.ContainsRune(text, '\b') {
				t.Fatalf("man -l %s kept its formatting (backspaces) when writing to a pipe", page)
			}
			for i, line := range strings.Split(text, "\n") {
				if n := utf8.RuneCountInString(line); n > 80 {
					t.Errorf("%s line %d is %d columns wide, over 80 (shorten the code block):\n%s", page, i+1, n, line)
				}
			}
		})
	}
}

// section is the text under one Markdown heading, up to the next heading of
// any level.
type section struct {
	level int
	title string
	lines []string // fenced code blocks left out
	code  []string // the lines of its fenced code blocks
}

// readSections splits a page's source at its "#" headings.
func readSections(t *testing.T, name string) []section {
	t.Helper()
	src, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var out []section
	cur := &section{}
	inCode := false
	for line := range strings.SplitSeq(string(src), "\n") {
		if strings.HasPrefix(line, "```") {
			inCode = !inCode
			cur.code = append(cur.code, "")
			continue
		}
		if inCode {
			cur.code = append(cur.code, line)
			continue
		}
		if strings.HasPrefix(line, "#") {
			level := len(line) - len(strings.TrimLeft(line, "#"))
			out = append(out, *cur)
			cur = &section{level: level, title: strings.TrimSpace(line[level:])}
			continue
		}
		cur.lines = append(cur.lines, line)
	}
	return append(out, *cur)
}

// find returns the section with the given heading.
func find(t *testing.T, secs []section, title string) section {
	t.Helper()
	for _, s := range secs {
		if s.title == title {
			return s
		}
	}
	t.Fatalf("no section %q", title)
	return section{}
}

// under returns the sections nested in the level-1 section titled title.
func under(secs []section, title string) []section {
	var out []section
	in := false
	for _, s := range secs {
		switch {
		case s.level == 1:
			in = s.title == title
		case in:
			out = append(out, s)
		}
	}
	return out
}

// terms returns the terms of a section's definition lists: the lines
// followed by a ": definition" line.
func (s section) terms() []string {
	var out []string
	for i, l := range s.lines {
		if l != "" && !strings.HasPrefix(l, ":") && !strings.HasPrefix(l, " ") &&
			i+1 < len(s.lines) && strings.HasPrefix(s.lines[i+1], ":") {
			out = append(out, l)
		}
	}
	return out
}

// text is the section's prose.
func (s section) text() string { return strings.Join(s.lines, "\n") }

// codeNames returns the names a term line gives in code spans ("`a`, `b`").
func codeNames(term string) []string {
	var out []string
	parts := strings.Split(term, "`")
	for i := 1; i < len(parts); i += 2 {
		out = append(out, parts[i])
	}
	return out
}

// TestSectionHelpers checks the helpers the completeness tests rely on, so
// that a parsing mistake cannot make those tests pass vacuously.
func TestSectionHelpers(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "x.md")
	src := "T 1\n===\n\n# ONE\n\n`a` (x)\n:   def\n\n" +
		"```\n`b`\n: not a term\n```\n\n## [two]\n\n**--c** *V*, `d`\n:   def\n"
	if err := os.WriteFile(name, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	secs := readSections(t, name)
	one := find(t, secs, "ONE")
	if got := one.terms(); len(got) != 1 || !slices.Equal(codeNames(got[0]), []string{"a"}) {
		t.Errorf("terms of ONE = %q, want the one term `a`", got)
	}
	if len(one.code) == 0 || !slices.Contains(one.code, "`b`") {
		t.Errorf("code of ONE = %q, want the fenced block", one.code)
	}
	two := under(secs, "ONE")
	if len(two) != 1 || two[0].title != "[two]" || two[0].level != 2 {
		t.Fatalf("under ONE = %+v, want [two]", two)
	}
	if got := flagsIn(two[0].terms()); !slices.Equal(got, []string{"--c"}) {
		t.Errorf("flags of [two] = %q, want --c", got)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
