//go:build race

package spam

// raceEnabled is set when tests run with the race detector, which makes
// timings meaningless.
const raceEnabled = true
