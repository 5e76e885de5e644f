package expr

// get-log() returns the access-log fields registered so far, standard and
// custom (the log action), as an OXN object: for tests of custom logging.
func init() {
	Register(&Func{Name: "get-log", MinArgs: 0, MaxArgs: 0, Call: getLog})
}

func getLog(c *Context, _ []Value) (Value, error) {
	l, _ := c.Runtime.(RunLog)
	if l == nil {
		return NodeSet(nil), nil
	}
	n := l.AccessLog()
	if n == nil {
		return NodeSet(nil), nil
	}
	return NodeSet{n}, nil
}
