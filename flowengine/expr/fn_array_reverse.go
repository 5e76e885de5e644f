package expr

import (
	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// array-reverse(array) returns a copy of the OXN array (the first node of
// its argument) with the items in reverse order. A non-array argument
// gives an empty array.
func init() {
	Register(&Func{Name: "array-reverse", MinArgs: 1, MaxArgs: 1, Call: func(_ *Context, args []Value) (Value, error) {
		items := arrayItems(args[0])
		out := oxn.NewArray(oxn.RootName)
		for i := len(items) - 1; i >= 0; i-- {
			oxn.AddValue(out, items[i].Clone())
		}
		return NodeSet{out}, nil
	}})
}

// arrayItems returns the items of the OXN array that is v's first node (a
// document contributes its root element), or nil.
func arrayItems(v Value) []*dom.Node {
	n := firstNode(v)
	if n != nil && n.Type == dom.DocumentNode {
		n = n.FirstElement()
	}
	if n == nil || oxn.TypeOf(n) != oxn.Array {
		return nil
	}
	return n.Elements()
}
