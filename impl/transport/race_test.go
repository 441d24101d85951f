//go:build race

package transport

// raceEnabled: the race detector runs, and sync.Pool drops some of what is
// put in it, so allocations are no measure of what the code holds.
const raceEnabled = true
