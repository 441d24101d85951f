package conformance

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Tags are the tags a script may carry: the extension tags of PROTOCOL.md
// 1.1, core first, then TagRobustness.
var Tags = []string{"core", "ping", "input", "limits", "ratelimit", "shutdown", "tls", "framed", "ws",
	"caps", "accounts", "history", "durable", "rooms", TagCluster, TagRobustness}

// TagCluster marks the scripts of the cluster profile (PROTOCOL.md 14):
// they run only on a cluster that the suite starts for each of them
// (ExecCluster, chatconform -cluster-nodes), and every other script runs
// against its node 1.
const TagCluster = "cluster"

// isTransport reports whether tag names a transport of PROTOCOL.md 2.1: its
// scripts run only over that transport.
func isTransport(tag string) bool { return tag == "tls" || tag == "framed" || tag == "ws" }

// TagRobustness marks the robustness scripts: hostile clients (slowloris,
// floods, churn, hostile bytes, thousands of names) beside well-behaved
// ones, which must lose nothing. It is not an extension of the protocol but
// a part of the suite: a manifest need not declare it, and -tags can leave
// it out, for instance against a server that is not built for load.
const TagRobustness = "robustness"

// isExtension reports whether tag names an extension of PROTOCOL.md 1.1,
// which a manifest declares.
func isExtension(tag string) bool { return tag != TagRobustness }

// A Script is one conformance script with its header.
type Script struct {
	Name string // file name without .txtar
	File string // file name in its file system
	Text []byte // the whole file

	// Header lines at the top of the script:
	//
	//	# tags: core, ping
	//	# rules: JOIN-3 JOIN-4
	//	# server: -max-clients 2
	Tags  []string // the extensions the server must implement to run it
	Rules []string // the PROTOCOL.md requirements it checks
	// Fresh is true when the script has a "# server:" line: it runs only on
	// a server started for it, with ServerFlags.
	Fresh       bool
	ServerFlags []string
	// Restarts is true when the script uses the restart command: it runs
	// only on a server that the suite started for it and can restart
	// (-exec, Restarter). Such a script must have a "# server:" line.
	Restarts bool
	// Nodes is the highest node of a cluster the script names (connect
	// -node N, killnode N, stopnode N), 0 if none: it runs only on a
	// cluster of that many nodes or more that the suite starts for it.
	Nodes int
	// StopsLog is true when the script uses stoplog: it runs only on a
	// cluster whose log service the suite controls (-cluster-log).
	StopsLog bool
}

// LoadScripts reads every *.txtar file at the top of fsys, sorted by name,
// and parses its header.
func LoadScripts(fsys fs.FS) ([]*Script, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var scripts []*Script
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".txtar") {
			continue
		}
		data, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		sc, err := parseScript(e.Name(), data)
		if err != nil {
			return nil, err
		}
		scripts = append(scripts, sc)
	}
	if len(scripts) == 0 {
		return nil, fmt.Errorf("no *.txtar scripts found")
	}
	return scripts, nil
}

// parseScript parses the header of a script. Every script must name its
// tags and rules; tags must be known.
func parseScript(file string, data []byte) (*Script, error) {
	sc := &Script{
		Name: strings.TrimSuffix(path.Base(file), ".txtar"),
		File: file,
		Text: data,
	}
	// The header is at the top of the file's comment; it is read from the
	// raw text, which also keeps a malformed file marker further down (one
	// that txtar.Parse of go-internal v1.16.0 panics on, such as "-- --")
	// from stopping the load: testscript reports it when the script runs.
	hasTags := false
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, "#") {
			break // the header ends at the first command
		}
		key, value, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "#")), ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(key) {
		case "tags":
			hasTags = true
			for _, t := range strings.FieldsFunc(value, isListSep) {
				if !slices.Contains(Tags, t) {
					return nil, fmt.Errorf("%s: unknown tag %q (known: %s)", file, t, strings.Join(Tags, ", "))
				}
				sc.Tags = append(sc.Tags, t)
			}
		case "rules":
			sc.Rules = append(sc.Rules, strings.FieldsFunc(value, isListSep)...)
		case "server":
			sc.Fresh = true
			flags, err := SplitWords(value)
			if err != nil {
				return nil, fmt.Errorf("%s: server header: %v", file, err)
			}
			sc.ServerFlags = append(sc.ServerFlags, flags...)
		}
	}
	if !hasTags || len(sc.Tags) == 0 {
		return nil, fmt.Errorf("%s: no '# tags:' header line", file)
	}
	if len(sc.Rules) == 0 {
		return nil, fmt.Errorf("%s: no '# rules:' header line", file)
	}
	sc.Restarts = restartCommand.Match(data)
	if sc.Restarts && !sc.Fresh {
		return nil, fmt.Errorf("%s: it uses restart, which needs a server of its own: add a '# server:' header line", file)
	}
	for _, m := range nodeCommand.FindAllStringSubmatch(string(data), -1) {
		if n, _ := strconv.Atoi(m[3]); n > sc.Nodes {
			sc.Nodes = n
		}
	}
	sc.StopsLog = logCommand.Match(data)
	if (sc.Nodes > 0 || sc.StopsLog) && !sc.Fresh {
		return nil, fmt.Errorf("%s: it uses the nodes of a cluster, which needs a cluster of its own: add a '# server:' header line", file)
	}
	if (sc.Nodes > 0 || sc.StopsLog) && !slices.Contains(sc.Tags, TagCluster) {
		return nil, fmt.Errorf("%s: it uses the nodes of a cluster: give it the %s tag", file, TagCluster)
	}
	return sc, nil
}

// Strength is what a failure of the script breaks: Should if every rule it
// names is a SHOULD of PROTOCOL.md (Requirements), else Must. A script that
// checks both marks its SHOULD assertions with the should command, and the
// result of a failure there is NON-STRICT.
func (sc *Script) Strength() Strength {
	for _, id := range sc.Rules {
		if r, ok := requirement(id); !ok || r.Strength != Should {
			return Must
		}
	}
	return Should
}

// restartCommand matches a restart command of a script, after any
// conditions.
var restartCommand = regexp.MustCompile(`(?m)^[ \t]*(\[[^\]\n]*\][ \t]*)*restart([ \t]|$)`)

// nodeCommand matches a command of a script that names a node of a
// cluster, after any conditions; the node's number is submatch 3.
var nodeCommand = regexp.MustCompile(`(?m)^[ \t]*(\[[^\]\n]*\][ \t]*)*(!?[ \t]*connect[ \t][^\n]*-node[ \t]+|killnode[ \t]+|stopnode[ \t]+)([0-9]+)`)

// logCommand matches a stoplog command of a script, after any conditions.
var logCommand = regexp.MustCompile(`(?m)^[ \t]*(\[[^\]\n]*\][ \t]*)*stoplog([ \t]|$)`)

// shouldCommand matches a should command of a script, with its rule.
var shouldCommand = regexp.MustCompile(`(?m)^\s*should\s+(\S+)\s*$`)

// ShouldRules returns the rules the script's should commands name, in
// order.
func (sc *Script) ShouldRules() []string {
	var ids []string
	for _, m := range shouldCommand.FindAllStringSubmatch(string(sc.Text), -1) {
		ids = append(ids, strings.ToUpper(m[1]))
	}
	return ids
}

func isListSep(r rune) bool { return r == ',' || r == ' ' || r == '\t' }
