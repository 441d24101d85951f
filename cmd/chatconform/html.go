package main

import "roomchat.dev/roomchat/conformance"

// report makes the HTML report of one server's run.
func (r suiteRun) report() conformance.Report {
	return conformance.Report{
		Server: r.server.name, Target: r.server.describe(), Seed: r.seed, Started: r.started,
		Strict: r.strict, Summary: r.sum, Results: r.results,
	}
}

// writeReport writes the HTML report of one server's run into dir (-html).
func writeReport(dir string, run suiteRun) error {
	return conformance.WriteHTML(dir, run.report())
}

// writeMatrix writes the matrix of several servers' runs into dir
// (-servers), each server's own report in a directory of its name.
func writeMatrix(dir string, runs []suiteRun) error {
	var cols []conformance.MatrixColumn
	for _, r := range runs {
		cols = append(cols, conformance.MatrixColumn{Name: r.server.name, Report: r.report()})
	}
	return conformance.WriteMatrix(dir, cols)
}
