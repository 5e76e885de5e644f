package expr

// fit-log(message) writes the message to the server log (FLAT's
// fit_engine.log; flowproc's log as a flat_log record) and returns true.
func init() {
	Register(&Func{Name: "fit-log", MinArgs: 1, MaxArgs: 1, Call: fitLog})
}

func fitLog(c *Context, args []Value) (Value, error) {
	if l, _ := c.Runtime.(RunLog); l != nil {
		l.FitLog(String(args[0]))
	}
	return true, nil
}
