//go:build !race

package impl_test

// raceEnabled: the tests run under the race detector.
const raceEnabled = false
