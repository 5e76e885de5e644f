package expr

import "time"

// now is the clock of unixtime() and the JWT functions; tests replace
// it.
var now = time.Now

// unixtime() returns the current time in whole seconds since the Unix
// epoch.
func init() {
	Register(&Func{Name: "unixtime", MinArgs: 0, MaxArgs: 0, Call: func(*Context, []Value) (Value, error) {
		return float64(now().Unix()), nil
	}})
}
