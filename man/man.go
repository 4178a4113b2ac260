// Package man holds the manual pages of mailevents: Markdown sources
// (NAME.SECTION.md) and the roff pages made from them with go-md2man
// (NAME.SECTION), which are committed so that packaging needs no Go
// tool to install them.
//
// After editing a source, regenerate the pages with
//
//	go generate ./man
//
// (which runs go test ./man -update). The tests fail while a committed page
// differs from its source, while man(1) or groff warns about a page, and
// while a configuration key, an event type, a parameter, a subcommand or a
// flag of the program is missing from the pages.
package man

import "github.com/cpuguy83/go-md2man/v2/md2man"

//go:generate go test -run TestPages -update

// Pages are the manual pages, by the file name of their roff form; the
// source of each is the same name with ".md" added.
var Pages = []string{
	"mailevents.1",
	"mailevents.toml.5",
	"mailevents-events.7",
}

// Render turns the Markdown source of a page into roff.
func Render(markdown []byte) []byte { return md2man.Render(markdown) }
