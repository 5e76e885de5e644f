package expr

import "github.com/flowproc/flowproc/flowengine/oxn"

// json-parse(string) returns the OXN root element (<json …>, detached from
// its document) of the parsed JSON text, or an empty node-set when the text
// is not valid JSON or nests deeper than 512 levels.
func init() {
	Register(&Func{Name: "json-parse", MinArgs: 1, MaxArgs: 1, Call: jsonParse})
}

func jsonParse(_ *Context, args []Value) (Value, error) {
	doc, err := oxn.ParseString(String(args[0]), jsonMaxDepth)
	if err != nil {
		return NodeSet(nil), nil
	}
	root := doc.FirstChild
	root.Detach()
	return NodeSet{root}, nil
}
