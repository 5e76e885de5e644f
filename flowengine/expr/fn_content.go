package expr

// content([id]) returns the document node of FLAT's main content
// (fit://request/content, for no argument or "") or of the body of the
// upstream request with that ID; an empty node-set when there is none or
// it is neither JSON nor XML. content() and content('main') differ: the
// main content starts as a copy of request main's body, but actions change
// it (FLAT docs: fit:// locations).
func init() {
	Register(&Func{Name: "content", MinArgs: 0, MaxArgs: 1, Call: contentFn})
}

func contentFn(c *Context, args []Value) (Value, error) {
	id := ""
	if len(args) == 1 {
		id = String(args[0])
	}
	cs := contents(c)
	if cs == nil {
		return NodeSet(nil), nil
	}
	doc, err := cs.ContentDoc(id)
	if err != nil {
		return nil, err
	}
	if doc == nil {
		return NodeSet(nil), nil
	}
	return NodeSet{doc}, nil
}
