//go:build race

package impl_test

// raceEnabled: the tests run under the race detector, whose frames make
// every goroutine's stack bigger.
const raceEnabled = true
