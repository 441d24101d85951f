package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFormat(t *testing.T) {
	bi := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "roomchat.dev/roomchat", Version: "(devel)"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"},
			{Key: "vcs.time", Value: "2026-12-01T02:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	want := "chatd (devel) 0123456789ab+dirty (2026-12-01T02:00:00Z) go1.26.8"
	if got := format("chatd", bi); got != want {
		t.Errorf("format = %q, want %q", got, want)
	}
	bi.Settings = nil
	if got := format("chatd", bi); got != "chatd (devel) go1.26.8" {
		t.Errorf("without VCS information: %q", got)
	}
}

func TestStringNamesTheProgram(t *testing.T) {
	if got := String("chatd"); !strings.HasPrefix(got, "chatd ") {
		t.Errorf("String = %q", got)
	}
}
