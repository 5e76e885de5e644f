package expr

import "github.com/flowproc/flowproc/flowengine/oxn"

// json-to-xml(string) returns the OXN document node of the parsed JSON text
// (address its members with a leading json step, as for $body), or an
// empty node-set on invalid input.
func init() {
	Register(&Func{Name: "json-to-xml", MinArgs: 1, MaxArgs: 1, Call: jsonToXML})
}

func jsonToXML(_ *Context, args []Value) (Value, error) {
	doc, err := oxn.ParseString(String(args[0]), jsonMaxDepth)
	if err != nil {
		return NodeSet(nil), nil
	}
	return NodeSet{doc}, nil
}
