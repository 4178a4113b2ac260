package main

import (
	"fmt"
	"runtime/debug"
)

type versionCmd struct{}

// version is set by the release build (-ldflags "-X main.version=...");
// otherwise the module version from the build info is used.
var version = ""

func (versionCmd) Run(e env) error {
	v, details := buildVersion()
	_, err := fmt.Fprintf(e.stdout, "mailevents %s\n%s", v, details)
	return err
}

func buildVersion() (string, string) {
	v := version
	info, ok := debug.ReadBuildInfo()
	if !ok {
		if v == "" {
			v = "(unknown)"
		}
		return v, ""
	}
	if v == "" {
		v = info.Main.Version
	}
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	details := fmt.Sprintf("go: %s\n", info.GoVersion)
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision", "vcs.time", "vcs.modified":
			details += fmt.Sprintf("%s: %s\n", s.Key, s.Value)
		}
	}
	return v, details
}
