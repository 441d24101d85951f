package commands

import (
	"regexp"
	"strings"
)

// ruleIDForm is the form of a rule ID of PROTOCOL.md, such as DISC-5.
var ruleIDForm = regexp.MustCompile(`^[A-Za-z]+-[0-9]+$`)

// cmdShould marks the assertions that follow as checks of a SHOULD rule, so
// that a failure among them is reported as NON-STRICT (PROTOCOL.md 1.1).
func cmdShould(c *call) {
	id := c.args[0]
	if !ruleIDForm.MatchString(id) {
		c.ts.Fatalf("should: %q is not a rule ID such as DISC-5", id)
	}
	c.s.should = strings.ToUpper(id)
}

// cmdMust ends a should region.
func cmdMust(c *call) { c.s.should = "" }
