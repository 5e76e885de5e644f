package expr

// body([request-id = 'main']) returns the raw body of the upstream request
// with that ID (FLAT's fit://request/content/<id>) as a string; "" when
// there is none.
func init() {
	Register(&Func{Name: "body", MinArgs: 0, MaxArgs: 1, Call: body})
}

func body(c *Context, args []Value) (Value, error) {
	id := "main"
	if len(args) == 1 {
		id = String(args[0])
	}
	cs := contents(c)
	if cs == nil {
		return "", nil
	}
	b, _, ok := cs.ContentBody(id)
	if !ok {
		return "", nil
	}
	return string(b), nil
}
