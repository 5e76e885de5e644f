package expr

// AppendString appends the result of e to dst when e is exactly one call
// of a one-argument string function (toupper(name), trim(x), url-encode(x),
// …): the result is always a string, and functions with an appending form
// (toupper, tolower) write it into dst without building it. It is for
// callers that copy the string out at once, such as templates writing it
// as a JSON string. For any other expression ok is false and dst is
// returned unchanged: evaluate it with Eval.
//
// The result and errors are those of Eval.
func (e *Expr) AppendString(c *Context, dst []byte) (out []byte, ok bool, err error) {
	if e.kind != kCall || e.site.str == nil {
		return dst, false, nil
	}
	if c == nil {
		c = &emptyContext
	}
	if err := e.cancelled(c); err != nil {
		return dst, true, err
	}
	defer func() {
		if r := recover(); r != nil {
			out, err = dst, e.panicked(r)
		}
	}()
	a, err := e.site.args[0].EvalString(c)
	if err != nil {
		return dst, true, err
	}
	if e.site.app != nil {
		return e.site.app(dst, a), true, nil
	}
	return append(dst, e.site.str(a)...), true, nil
}
