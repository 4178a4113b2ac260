package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// Problem is one thing wrong with a config file.
type Problem struct {
	Key  string // e.g. "input[2].grammar" (tables of an array counted from 1)
	Line int    // 0 when the key is not in the file (a missing required key)
	Msg  string
}

func (p Problem) String() string {
	switch {
	case p.Line > 0 && p.Key != "":
		return fmt.Sprintf("line %d: %s: %s", p.Line, p.Key, p.Msg)
	case p.Key != "":
		return fmt.Sprintf("%s: %s", p.Key, p.Msg)
	case p.Line > 0:
		return fmt.Sprintf("line %d: %s", p.Line, p.Msg)
	default:
		return p.Msg
	}
}

// Error lists every problem found in a file, so that an admin fixes them in
// one round rather than one per restart.
type Error struct {
	File     string
	Problems []Problem
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: ", e.File)
	if len(e.Problems) > 1 {
		fmt.Fprintf(&b, "%d problems:", len(e.Problems))
		for _, p := range e.Problems {
			b.WriteString("\n  ")
			b.WriteString(p.String())
		}
		return b.String()
	}
	if len(e.Problems) == 1 {
		b.WriteString(e.Problems[0].String())
	}
	return b.String()
}

// Load reads, decodes and validates the file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes and validates a config held in memory; name is used in
// messages.
func Parse(name string, data []byte) (*Config, error) {
	var c Config
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	var ps []Problem
	if err := dec.Decode(&c); err != nil {
		ps = decodeProblems(data, err)
		var strict *toml.StrictMissingError
		if !errors.As(err, &strict) {
			return nil, &Error{File: name, Problems: ps}
		}
		// Unknown keys leave the rest decoded: validate it too, so that
		// every problem is reported in one round.
	}
	c.applyDefaults()
	if vs := c.validate(); len(vs) > 0 {
		lines := keyLines(data)
		for i := range vs {
			vs[i].Line = lines.find(vs[i].Key)
		}
		ps = append(ps, vs...)
	}
	if len(ps) > 0 {
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].Line < ps[j].Line })
		return nil, &Error{File: name, Problems: ps}
	}
	return &c, nil
}

// decodeProblems turns go-toml's errors into problems with lines.
func decodeProblems(data []byte, err error) []Problem {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		var ps []Problem
		for _, e := range strict.Errors {
			line, _ := e.Position()
			ps = append(ps, Problem{Key: strings.Join(e.Key(), "."), Line: line, Msg: "unknown key"})
		}
		return ps
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, _ := de.Position()
		return []Problem{{Key: strings.Join(de.Key(), "."), Line: line, Msg: strings.TrimPrefix(de.Error(), "toml: ")}}
	}
	var pe *unstable.ParserError
	if errors.As(err, &pe) {
		return []Problem{{Line: syntaxErrorLine(data), Msg: pe.Message}}
	}
	return []Problem{{Msg: err.Error()}}
}

// syntaxErrorLine parses data again to find where its syntax error is: the
// decoder's error carries the offending bytes but not their line.
func syntaxErrorLine(data []byte) int {
	var p unstable.Parser
	p.Reset(data)
	for p.NextExpression() {
	}
	var pe *unstable.ParserError
	if !errors.As(p.Error(), &pe) || len(pe.Highlight) == 0 {
		return 0
	}
	return p.Shape(p.Range(pe.Highlight)).Start.Line
}

// lineIndex maps key paths, as Problem.Key spells them, to the line where
// the key (or its table) appears.
type lineIndex map[string]int

// find returns the line of key, or of the nearest enclosing table present.
func (l lineIndex) find(key string) int {
	for key != "" {
		if n, ok := l[key]; ok {
			return n
		}
		i := strings.LastIndexAny(key, ".[")
		if i < 0 {
			break
		}
		key = key[:i]
	}
	return 0
}

// keyLines walks the document once, naming each key as validate does:
// "input[2].paths" for the second [[input]] table's paths.
func keyLines(data []byte) lineIndex {
	idx := lineIndex{}
	counts := map[string]int{}
	var p unstable.Parser
	p.Reset(data)
	table := ""
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			name, first := keyName(e.Key())
			if e.Kind == unstable.ArrayTable {
				counts[name]++
				name += "[" + strconv.Itoa(counts[name]) + "]"
			} else {
				name = withIndexes(name, counts)
			}
			table = name
			if first != nil {
				addLine(idx, table, p.Shape(first.Raw).Start.Line)
			}
		case unstable.KeyValue:
			name, first := keyName(e.Key())
			if first == nil {
				continue
			}
			full := name
			if table != "" {
				full = table + "." + name
			}
			addLine(idx, full, p.Shape(first.Raw).Start.Line)
		}
	}
	return idx
}

// withIndexes gives a sub-table of an array table ([input.journald] after
// [[input]]) the index of the current element.
func withIndexes(name string, counts map[string]int) string {
	parts := strings.Split(name, ".")
	out := ""
	for i, part := range parts {
		if i > 0 {
			out += "."
		}
		out += part
		if n, ok := counts[strings.Join(parts[:i+1], ".")]; ok && i < len(parts)-1 {
			out += "[" + strconv.Itoa(n) + "]"
		}
	}
	return out
}

func keyName(it unstable.Iterator) (string, *unstable.Node) {
	var parts []string
	var first *unstable.Node
	for it.Next() {
		n := it.Node()
		if first == nil {
			first = n
		}
		parts = append(parts, string(n.Data))
	}
	return strings.Join(parts, "."), first
}

func addLine(idx lineIndex, key string, line int) {
	if _, ok := idx[key]; !ok {
		idx[key] = line
	}
}
