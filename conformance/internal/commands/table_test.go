package commands

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestTable checks the table: every command has a summary and a run
// function, and Cmds serves every command of the table.
func TestTable(t *testing.T) {
	var names, negs []string
	for _, sec := range table {
		if !strings.HasSuffix(sec.title, ":") {
			t.Errorf("section %q: the title introduces a list, so it ends in a colon", sec.title)
		}
		for _, cmd := range sec.cmds {
			names = append(names, cmd.name)
			if cmd.summary == "" || cmd.run == nil {
				t.Errorf("%s: no summary or no run function", cmd.name)
			}
			if cmd.neg != nil {
				negs = append(negs, cmd.name)
				if cmd.neg.summary == "" {
					t.Errorf("! %s: no summary", cmd.name)
				}
			}
		}
	}
	if got := slices.Sorted(maps.Keys(Cmds())); !slices.Equal(got, slices.Sorted(slices.Values(names))) {
		t.Errorf("Cmds serves %v, the table has %v", got, names)
	}
	if want := []string{"connect", "recv", "expect"}; !slices.Equal(negs, want) {
		t.Errorf("the commands with a ! form are %v, want %v", negs, want)
	}
}

// describe formats a syntax for comparison: the options, then the number of
// arguments.
func (sy *syntax) describe() string {
	var opts []string
	for _, o := range sy.opts {
		s := o.name
		if o.value != "" {
			s += " " + o.value
		}
		if o.repeat {
			s += "..."
		}
		if o.group.alt {
			var alts []string
			for _, a := range o.group.opts {
				alts = append(alts, a.name)
			}
			s += " (not with " + strings.Join(slices.DeleteFunc(alts, func(a string) bool { return a == o.name }), ", ") + ")"
		}
		opts = append(opts, "["+s+"]")
	}
	sort.Strings(opts)
	max := fmt.Sprint(sy.max)
	if sy.max < 0 {
		max = "any"
	}
	return strings.TrimSpace(strings.Join(opts, " ") + fmt.Sprintf(" %d..%s", sy.min, max))
}

// TestSyntaxOfTable pins what the parser reads in the synopsis of every
// command: its options and how many arguments it takes.
func TestSyntaxOfTable(t *testing.T) {
	want := map[string]string{
		"connect":      "[-node N] [-rcvbuf BYTES] 1..any",
		"! connect":    "1..1",
		"connectmany":  "2..2",
		"disconnect":   "1..any",
		"reset":        "1..any",
		"halfclose":    "1..any",
		"stopread":     "1..any",
		"resumeread":   "1..any",
		"readrate":     "2..2",
		"churn":        "[-join ROOM] [-name] [-quit (not with -reset, -refused)] [-refused (not with -quit, -reset)] [-reset (not with -quit, -refused)] [-send QUOTED] 2..2",
		"send":         "2..2",
		"sendlf":       "2..2",
		"sendraw":      "2..2",
		"sendsplit":    "2..2",
		"sendlong":     "[-lf (not with -noterm)] [-noterm (not with -lf)] [-prefix TEXT] 2..2",
		"sendmany":     "2..any",
		"floodsend":    "[-bg] [-rate N] 3..any",
		"floodwait":    "1..1",
		"sendeach":     "[-raw] 2..2",
		"sendframe":    "[-binary (not with -length)] [-length N (not with -binary)] 2..2",
		"recv":         "2..2",
		"! recv":       "2..2",
		"expect":       "2..2",
		"! expect":     "2..2",
		"recvmany":     "[-also LINE...] [-from NAME] [-skip REGEXP] [-spread DURATION] [-within DURATION] 3..any",
		"recveach":     "2..2",
		"recvmerge":    "3..any",
		"recvrooms":    "1..any",
		"recvmsg":      "[-count N] [-id ID] [-new] [-set VAR] [-stored] 4..4",
		"unseen":       "1..any",
		"quiet":        "1..any",
		"closed":       "[-partial] [-reset] [-skip REGEXP] 1..any",
		"await":        "[-fresh] [-node N] 3..3",
		"killnode":     "1..1",
		"stopnode":     "1..1",
		"stoplog":      "0..0",
		"startlog":     "0..0",
		"shutdown":     "0..0",
		"restart":      "[-kill] 0..0",
		"sleep":        "1..1",
		"mark":         "1..1",
		"arrived":      "[-after DURATION] [-before DURATION] 2..2",
		"should":       "1..1",
		"must":         "0..0",
		"serializable": "0..0",
	}
	got := map[string]string{}
	for name, cmd := range byName {
		got[name] = cmd.syntax.describe()
		if cmd.neg != nil {
			got["! "+name] = cmd.negSyntax.describe()
		}
	}
	for _, name := range slices.Sorted(maps.Keys(got)) {
		if got[name] != want[name] {
			t.Errorf("%s: parsed %q, want %q", name, got[name], want[name])
		}
	}
	for name := range want {
		if _, ok := got[name]; !ok {
			t.Errorf("%s: not in the table", name)
		}
	}
}

func TestParseSyntaxErrors(t *testing.T) {
	for _, bad := range []string{"[-a", "-a]", "NAME]", "[-a] [-a]", "| NAME", "[]"} {
		if sy, err := parseSyntax(bad); err == nil {
			t.Errorf("parseSyntax(%q) = %s, want an error", bad, sy.describe())
		}
	}
}

// TestParse checks the shared option parser.
func TestParse(t *testing.T) {
	const synopsis = "[-also LINE]... [-bg] [-from NAME [-within DURATION]] [-lf | -noterm] NAME N [ROOM...]"
	sy, err := parseSyntax(synopsis)
	if err != nil {
		t.Fatal(err)
	}
	upper := strings.ToUpper
	for _, tc := range []struct {
		words string
		opts  string // the options parsed, formatted by %v
		args  string
		err   string
	}{
		{words: "a 1", opts: "map[]", args: "a 1"},
		{words: "a 1 #r #s", opts: "map[]", args: "a 1 #r #s"},
		{words: "-bg -also x -lf -also y a 1", opts: "map[-also:[X Y] -bg:[] -lf:[]]", args: "a 1"},
		{words: "-from b -within 2s a -1", opts: "map[-from:[B] -within:[2S]]", args: "a -1"},
		{words: "-bg", err: "usage"},
		{words: "a", err: "usage"},
		{words: "-nosuch a 1", err: "usage"},
		{words: "-from", err: "usage"},
		{words: "-lf -noterm a 1", err: "usage"},
		{words: "-noterm -lf a 1", err: "usage"},
		{words: "-bg -bg a 1", err: "-bg given twice"},
		{words: "-from a -from b a 1", err: "-from given twice"},
	} {
		opts, args, err := sy.parse(strings.Fields(tc.words), upper)
		switch {
		case tc.err == "usage" && !errors.Is(err, errUsage), tc.err != "usage" && tc.err != "" && (err == nil || err.Error() != tc.err):
			t.Errorf("parse %q: error %v, want %q", tc.words, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("parse %q: %v", tc.words, err)
		case tc.err == "" && (fmt.Sprint(map[string][]string(opts)) != tc.opts || strings.Join(args, " ") != tc.args):
			t.Errorf("parse %q = %v, %q; want %s, %q", tc.words, opts, args, tc.opts, tc.args)
		}
	}
	// A command without options takes words that begin with - as arguments.
	sy, _ = parseSyntax("NAME LINE")
	if _, args, err := sy.parse([]string{"a", "-x"}, upper); err != nil || len(args) != 2 {
		t.Errorf("NAME LINE: parse a -x = %q, %v", args, err)
	}
}
