package expr

import (
	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// fit-document(uri) parses a FLAT location (fit://request/content,
// fit://request/content/<id>, fit://site/…, a file) like XSLT's document()
// and returns its document node: JSON as OXN (…/json/…), XML as a DOM. An
// empty node-set when the location holds nothing or does not parse.
func init() {
	Register(&Func{Name: "fit-document", MinArgs: 1, MaxArgs: 1, Call: fitDocument})
}

func fitDocument(c *Context, args []Value) (Value, error) {
	ls, _ := c.Runtime.(Locations)
	if ls == nil {
		return NodeSet(nil), nil
	}
	b, _, err := ls.ReadLocation(String(args[0]))
	if err != nil || len(b) == 0 {
		return NodeSet(nil), nil
	}
	if c.Budget != nil {
		if err := c.Budget.Decoded(int64(len(b))); err != nil {
			return nil, err
		}
	}
	if doc, err := oxn.Parse(b, jsonMaxDepth); err == nil {
		return NodeSet{doc}, nil
	}
	if doc, err := dom.ParseXML(b, 0); err == nil {
		return NodeSet{doc}, nil
	}
	return NodeSet(nil), nil
}
