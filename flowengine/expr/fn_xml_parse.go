package expr

import "github.com/flowproc/flowproc/flowengine/dom"

// xml-parse(xml) parses its argument's string as an XML document and
// returns the document node (namespaces flattened as in dom.ParseXML). On
// a parse error it reports a warning (see Warner) and returns an empty
// node-set. The input size is charged to the run's decoded budget.
func init() {
	Register(&Func{Name: "xml-parse", MinArgs: 1, MaxArgs: 1, Call: xmlParse})
}

func xmlParse(c *Context, args []Value) (Value, error) {
	s := String(args[0])
	if err := c.Budget.Decoded(int64(len(s))); err != nil {
		return nil, err
	}
	doc, err := dom.ParseXML([]byte(s), 0)
	if err != nil {
		warn(c, "xml-parse", err.Error())
		return NodeSet(nil), nil
	}
	return NodeSet{doc}, nil
}
