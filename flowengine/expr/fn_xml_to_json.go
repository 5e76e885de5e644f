package expr

// xml-to-json(node) serializes the first node of its argument as JSON like
// json-stringify, but returns "" on error and for an empty node-set.
// Scalars are serialized as JSON scalars.
func init() {
	Register(&Func{Name: "xml-to-json", MinArgs: 1, MaxArgs: 1, Call: xmlToJSON})
}

func xmlToJSON(_ *Context, args []Value) (Value, error) {
	if ns, ok := args[0].(NodeSet); ok && len(ns) == 0 {
		return "", nil
	}
	s, ok := stringifyValue(args[0], false)
	if !ok {
		return "", nil
	}
	return s, nil
}
