//go:build race

package main

// raceEnabled: the race detector runs in the test process, which slows the
// concurrent checker's search about twentyfold (TestClusterConcurrent).
const raceEnabled = true
