package bench

import (
	"flag"
	"fmt"
	"slices"
	"strings"
)

// A scenario is a row of the table of BENCHMARKS.md, "Close to the floor": a name
// for a set of flag defaults. Flags given on the command line override
// them. Lines carry a 32-byte payload in all of them; the rows that can
// run against a plain relay take -floor for their ratio to it.
type scenario struct {
	name, doc string
	flags     [][2]string // flag name, value
}

var scenarios = []scenario{
	{"flat", "50 clients in one room, all 50 send 2,000 lines flat out (100,000 lines, 5 M deliveries); " +
		"run chatd with -max-queue-bytes 16777216 so that no burst is dropped",
		[][2]string{{"clients", "50"}, {"senders", "50"}, {"lines", "2000"}, {"size", "32"}, {"rate", "0"}}},
	{"many", "500 clients in one room, 10 senders × 1,000 lines flat out (5 M deliveries); " +
		"chatd with -max-queue-bytes 16777216",
		[][2]string{{"clients", "500"}, {"senders", "10"}, {"lines", "1000"}, {"size", "32"}, {"rate", "0"}}},
	{"paced", "50 clients in one room, each sends a line every 20 ms, each line its own write (2,500 lines/s), for 5 s",
		[][2]string{{"clients", "50"}, {"senders", "50"}, {"lines", "250"}, {"size", "32"}, {"rate", "50"}}},
	{"sparse", "a big sparse room: 2,000 members, one sender, a line every 10 ms for 5 s (each line its own fan-out)",
		[][2]string{{"clients", "2000"}, {"senders", "1"}, {"lines", "500"}, {"size", "32"}, {"rate", "100"}, {"timeout", "2m"}}},
	{"idle", "3,000 members idle in one room after joining it, against as many connections in the lobby " +
		"(and the floor's, with -floor): RSS per connection after -hold; -idle 10000 -idle-rooms 100 for the other row",
		[][2]string{{"clients", "0"}, {"idle", "3000"}, {"idle-rooms", "1"}, {"hold", "3s"}, {"timeout", "5m"}}},
	{"joinstorm", "2,000 members join one room one after another: the server's CPU time and the lines delivered " +
		"(-idle 4000 for the other row)",
		[][2]string{{"clients", "0"}, {"idle", "2000"}, {"idle-rooms", "1"}, {"idle-serial", "true"}, {"hold", "0s"}, {"timeout", "10m"}}},
}

// scenarioNames lists the scenarios' names for the usage text.
func scenarioNames() string {
	var names []string
	for _, s := range scenarios {
		names = append(names, s.name)
	}
	return strings.Join(names, ", ")
}

// applyScenario sets the defaults of the scenario called name on fs, for
// every flag not in set (those given on the command line), and adds them
// to set.
func applyScenario(fs *flag.FlagSet, name string, set map[string]bool) error {
	if name == "" {
		return nil
	}
	i := slices.IndexFunc(scenarios, func(s scenario) bool { return s.name == name })
	if i < 0 {
		return fmt.Errorf("-scenario: unknown %q (known: %s)", name, scenarioNames())
	}
	for _, f := range scenarios[i].flags {
		if set[f[0]] {
			continue
		}
		if err := fs.Set(f[0], f[1]); err != nil {
			return fmt.Errorf("-scenario %s: -%s %s: %v", name, f[0], f[1], err)
		}
		set[f[0]] = true
	}
	return nil
}

// scenarioUsage describes every scenario for the usage text.
func scenarioUsage() string {
	var b strings.Builder
	for _, s := range scenarios {
		var flags []string
		for _, f := range s.flags {
			flags = append(flags, "-"+f[0]+" "+f[1])
		}
		text := s.doc + " (" + strings.Join(flags, " ") + ")"
		label := s.name
		for _, line := range wrap(text, 84) {
			fmt.Fprintf(&b, "  %-10s%s\n", label, line)
			label = ""
		}
	}
	return b.String()
}

// wrap splits text into lines of at most width bytes, at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return append(lines, line)
}
