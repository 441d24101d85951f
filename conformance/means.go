package conformance

// Besides the scripts, two means check the rules of PROTOCOL.md against
// the model of package model, each independently of the scripts:
//
//   - the model checker (package modelcheck, chatconform -model) drives a
//     server with random sequences of clients that connect, send core, ping
//     and input lines (whole, split, coalesced, with CRLF or LF), overlong
//     lines, and drop their connections; every client must receive exactly
//     the lines the model predicts;
//   - the transcripts of PROTOCOL.md, which are normative: the model's tests
//     (model/transcript_test.go) check that the model produces exactly the
//     lines each one writes, and the reference server's tests
//     (impl/transcript_test.go) play each one against the server.
//
// Neither names the rules it checks, so they are listed here by hand, and
// a rule is listed only where the means reaches the situation the rule is
// about and compares the outcome exactly: ModelCheckerRules are the rules
// whose situations the checker's generator steers to (and counts, in
// modelcheck's rule coverage); transcriptRules are, section by section,
// the rules whose situation a transcript of that section shows. Keep them
// in step when the generator or a transcript changes: TestMeans checks
// that every rule listed exists, and that each section listed still holds
// a transcript; TestModelCheckerRules that ModelCheckerRules are the rules
// of modelcheck's rule coverage.
//
// WriteCoverage counts every script as one means, the checker as one and
// the transcripts as one; TestCoverage requires two means for every rule.

// ModelCheckerRules are the rules that the model checker exercises, in the
// order of PROTOCOL.md.
var ModelCheckerRules = []string{
	"FRAME-2", "FRAME-3", "FRAME-4", "FRAME-5", "FRAME-6", "FRAME-7", "FRAME-8", "FRAME-10",
	"GRAM-2", "GRAM-3", "GRAM-4", "GRAM-5",
	"NAME-1", "NAME-2", "NAME-3", "NAME-4", "NAME-5",
	"STATE-2",
	"USER-1", "USER-2",
	"JOIN-1", "JOIN-2", "JOIN-3", "JOIN-4", "JOIN-5", "JOIN-6",
	"LEAVE-1", "LEAVE-2", "LEAVE-3",
	"MSG-1", "MSG-2", "MSG-3",
	"PRIV-1", "PRIV-2", "PRIV-3", "PRIV-4",
	"ROOMS-1", "USERS-1",
	"QUIT-1", "QUIT-2",
	"PING-1",
	"DISC-1", "DISC-2",
	"CAPS-1", "CAPS-2", "CAPS-3",
	"ACCT-1", "ACCT-2", "ACCT-3", "ACCT-4",
	"HIST-1", "HIST-2", "HIST-3", "HIST-4", "HIST-5",
	"MULTI-1", "MULTI-2", "MULTI-3", "MULTI-4", "MULTI-5", "MULTI-6", "MULTI-7",
}

// transcriptRules lists, for each section of PROTOCOL.md that holds
// transcripts, the rules whose situation they show. A section is named by
// one of its own rules, its anchor, so that renaming a heading changes
// nothing.
var transcriptRules = []struct {
	anchor string   // a rule of the section
	rules  []string // the rules its transcripts show
}{
	{"FRAME-1", []string{"FRAME-5", "FRAME-6", "FRAME-7", "FRAME-8"}},
	{"USER-1", []string{"USER-1", "USER-2", "USER-3", "NAME-1", "NAME-3", "NAME-5", "GRAM-2"}},
	{"JOIN-1", []string{"JOIN-1", "JOIN-2", "JOIN-3", "JOIN-4", "JOIN-5", "NAME-2", "NAME-3", "STATE-2"}},
	{"LEAVE-1", []string{"LEAVE-1", "LEAVE-2", "LEAVE-3"}},
	{"MSG-1", []string{"MSG-1", "MSG-2", "MSG-3", "MSG-4", "GRAM-5", "JOIN-6"}},
	{"PRIV-1", []string{"PRIV-1", "PRIV-2", "PRIV-3", "PRIV-4", "GRAM-4"}},
	{"ROOMS-1", []string{"ROOMS-1", "USERS-1"}},
	{"QUIT-1", []string{"QUIT-1", "QUIT-2", "QUIT-3", "NAME-4"}},
	{"PING-1", []string{"PING-1"}},
	{"DISC-1", []string{"DISC-1", "DISC-4"}},
	{"LIMIT-1", []string{"LIMIT-1", "LIMIT-2"}},
	{"LIMIT-7", []string{"LIMIT-7"}},
	{"SHUT-1", []string{"SHUT-1"}},
	{"CAPS-1", []string{"CAPS-1", "CAPS-2", "CAPS-3"}},
	{"ACCT-1", []string{"ACCT-1", "ACCT-2", "ACCT-3", "ACCT-4", "CAPS-2", "CAPS-3"}},
	{"HIST-1", []string{"HIST-1", "HIST-2", "HIST-3", "HIST-4", "HIST-5", "ACCT-3"}},
	{"MULTI-1", []string{"MULTI-1", "MULTI-2", "MULTI-3", "MULTI-4", "MULTI-5", "MULTI-6", "MULTI-7", "GRAM-2"}},
}

// modelMeans returns, for each rule, the means of the model side that
// check it: "model checker" and "transcripts".
func modelMeans() map[string][]string {
	m := map[string][]string{}
	for _, id := range ModelCheckerRules {
		m[id] = append(m[id], meansChecker)
	}
	for _, s := range transcriptRules {
		for _, id := range s.rules {
			if n := len(m[id]); n == 0 || m[id][n-1] != meansTranscripts {
				m[id] = append(m[id], meansTranscripts)
			}
		}
	}
	return m
}

// The means of the model side, as coverage reports name them.
const (
	meansChecker     = "model checker"
	meansTranscripts = "transcripts"
)
