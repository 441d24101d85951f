// Package buildinfo tells which build of a program is running, for the
// -version flag of every command of this module.
package buildinfo

import (
	"fmt"
	"runtime/debug"
)

// String returns one line naming the program, the module version and the
// version-control revision it was built from, with "+dirty" when the tree
// had uncommitted changes, and the Go version. What the build did not
// record (go run, a build outside a checkout) is left out.
func String(program string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return program + " (no build information)"
	}
	return format(program, bi)
}

// format is String for the given build information.
func format(program string, bi *debug.BuildInfo) string {
	s := program + " " + bi.Main.Version
	var rev, when string
	dirty := false
	for _, kv := range bi.Settings {
		switch kv.Key {
		case "vcs.revision":
			rev = kv.Value
		case "vcs.time":
			when = kv.Value
		case "vcs.modified":
			dirty = kv.Value == "true"
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if dirty {
			rev += "+dirty"
		}
		s += " " + rev
		if when != "" {
			s += " (" + when + ")"
		}
	}
	return fmt.Sprintf("%s %s", s, bi.GoVersion)
}
