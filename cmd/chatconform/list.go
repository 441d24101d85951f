package main

import (
	"fmt"
	"io"
	"strings"

	"roomchat.dev/roomchat/conformance"
)

// writeList prints the scripts that cfg selects, one a line, with their
// strength, tags and rules, without running anything (-list).
func writeList(w io.Writer, cfg conformance.Config) error {
	cfg.Addr = "127.0.0.1:1" // never contacted: NewRunner only checks its form
	r, err := conformance.NewRunner(cfg)
	if err != nil {
		return err
	}
	defer r.Close()
	scripts := r.Selected()
	for _, sc := range scripts {
		fmt.Fprintf(w, "%-32s %-6s %-24s %s\n", sc.Name, sc.Strength(), strings.Join(sc.Tags, ","), strings.Join(sc.Rules, " "))
	}
	fmt.Fprintf(w, "%d scripts\n", len(scripts))
	return nil
}
