// Package racecheck tells tests whether the race detector is on, so that
// the few tests that bound wall-clock time (a cancelled run must stop
// within 50 ms) can scale their bound: the detector slows code 5-20×.
package racecheck

import "time"

// Scale returns d, multiplied by 20 when the race detector is on.
func Scale(d time.Duration) time.Duration {
	if Enabled {
		return 20 * d
	}
	return d
}
