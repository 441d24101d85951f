package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"roomchat.dev/roomchat/conformance"
)

// serverName is the form of a server's name in a -servers file: it names a
// column, a directory of the report and a key of the expectations.
var serverName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// parseServers parses a -servers file: one server a line,
//
//	NAME -exec 'COMMAND {port}' [-manifest FILE]
//	NAME -addr HOST:PORT [-manifest FILE]
//
// with words quoted as in -exec; # starts a comment line. A relative
// manifest path is relative to the file's directory.
func parseServers(file string) ([]server, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var out []server
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		words, err := conformance.SplitWords(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", file, n, err)
		}
		s := server{name: words[0]}
		if !serverName.MatchString(s.name) {
			return nil, fmt.Errorf("%s:%d: %q is not a server name (letters, digits, . _ -)", file, n, s.name)
		}
		if seen[s.name] {
			return nil, fmt.Errorf("%s:%d: server %s is listed twice", file, n, s.name)
		}
		seen[s.name] = true
		for i := 1; i < len(words); i += 2 {
			if i+1 >= len(words) {
				return nil, fmt.Errorf("%s:%d: %s needs a value", file, n, words[i])
			}
			switch v := words[i+1]; words[i] {
			case "-exec":
				s.exec = v
			case "-addr":
				s.addr = v
			case "-manifest":
				s.manifest = v
				if !filepath.IsAbs(v) {
					s.manifest = filepath.Join(filepath.Dir(file), v)
				}
			default:
				return nil, fmt.Errorf("%s:%d: unknown option %s (want -exec, -addr or -manifest)", file, n, words[i])
			}
		}
		if (s.exec == "") == (s.addr == "") {
			return nil, fmt.Errorf("%s:%d: give %s either -exec or -addr", file, n, s.name)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no servers", file)
	}
	return out, nil
}

// runMatrix runs the suite against every server of the -servers file, one
// after the other, and writes the matrix. A server that cannot be tested
// gets a column with one failed result that says why.
func runMatrix(o options, base conformance.Config, want conformance.Expectations, stdout, stderr io.Writer) int {
	servers, err := parseServers(o.servers)
	if err != nil {
		fmt.Fprintf(stderr, "chatconform: -servers: %v\n", err)
		return exitUsage
	}
	var runs []suiteRun
	got := conformance.Expectations{}
	failed := false
	for i, s := range servers {
		fmt.Fprintf(stdout, "== server %d of %d: %s (%s)\n", i+1, len(servers), s.name, s.describe())
		cfg := base
		if s.manifest != "" {
			data, err := os.ReadFile(s.manifest)
			if err != nil {
				fmt.Fprintf(stderr, "chatconform: %s: %v\n", s.name, err)
				return exitUsage
			}
			if cfg.Manifest, err = conformance.ParseManifest(data, base.Scripts); err != nil {
				fmt.Fprintf(stderr, "chatconform: %s: %s: %v\n", s.name, s.manifest, err)
				return exitUsage
			}
		}
		if cfg, err = s.config(cfg, o.startTimeout); err != nil {
			fmt.Fprintf(stderr, "chatconform: %s: %v\n", s.name, err)
			return exitUsage
		}
		var errOut bytes.Buffer
		run, status := runSuite(o, cfg, s, s.name+": ", stdout, io.MultiWriter(stderr, &errOut))
		switch status {
		case exitUsage:
			return exitUsage
		case exitUntestable:
			sc := &conformance.Script{Name: "preflight", Tags: []string{"core"}}
			run.results = []conformance.Result{{Script: sc, Status: conformance.Fail,
				Reason: "the server could not be tested", Log: errOut.String()}}
			run.sum = conformance.Summarize(cfg.Seed, run.results)
		}
		fmt.Fprintf(stdout, "%s: %s\n", s.name, run.sum)
		failed = failed || run.sum.Failed > 0
		runs = append(runs, run)
		for k, v := range conformance.ResultExpectations(s.name, run.results) {
			got[k] = v
		}
	}
	if err := writeMatrix(o.htmlDir, runs); err != nil {
		fmt.Fprintf(stderr, "chatconform: -html: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(stdout, "matrix: %s and %s\n", filepath.Join(o.htmlDir, "index.html"), filepath.Join(o.htmlDir, "matrix.json"))
	return verdict(o, want, got, failed, stdout, stderr)
}
