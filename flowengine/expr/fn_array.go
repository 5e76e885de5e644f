package expr

import (
	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// array([nodes …]) returns a new OXN array, <json array="">, whose items
// are copies of the given nodes renamed to <value>: an element keeps its
// attributes (so its OXN type) and subtree; a document contributes its
// root element; an attribute (as the expression layer returns it) becomes
// <value name="attr" string="">val</value>; a text node a string item.
// Scalar arguments become string, number or boolean items.
func init() {
	Register(&Func{Name: "array", MinArgs: 0, MaxArgs: -1, Call: array})
}

func array(c *Context, args []Value) (Value, error) {
	arr := oxn.NewArray(oxn.RootName)
	for _, a := range args {
		switch x := a.(type) {
		case NodeSet:
			for i, n := range x {
				if err := loopCheck(c, i); err != nil {
					return nil, err
				}
				if item := arrayItem(n); item != nil {
					oxn.AddValue(arr, item)
				}
			}
		case string:
			oxn.AddValue(arr, oxn.NewString(oxn.ValueName, x))
		case float64:
			oxn.AddValue(arr, oxn.NewNumber(oxn.ValueName, x))
		case bool:
			oxn.AddValue(arr, oxn.NewBool(oxn.ValueName, x))
		}
	}
	return NodeSet{arr}, nil
}

func arrayItem(n *dom.Node) *dom.Node {
	switch n.Type {
	case dom.ElementNode:
		return n.Clone()
	case dom.DocumentNode:
		if e := n.FirstElement(); e != nil {
			return e.Clone()
		}
		return nil
	}
	v := oxn.NewString(oxn.ValueName, n.Data)
	if n.Name != "" {
		v.Attrs = append([]dom.Attr{{Name: "name", Value: n.Name}}, v.Attrs...)
	}
	return v
}
