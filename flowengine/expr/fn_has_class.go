package expr

import (
	"strings"

	"github.com/flowproc/flowproc/flowengine/dom"
)

// has-class(class [, context]) reports whether the element context (the
// first node of the node-set; default the context node) has class among
// the whitespace-separated names of its class attribute, compared
// case-insensitively. An empty class or one holding whitespace (several
// names) is not supported: it gives a warning (see Warner) and false. It
// works per node in predicates: //*[has-class('item')].
func init() {
	Register(&Func{Name: "has-class", MinArgs: 1, MaxArgs: 2, UsesContext: true, ContextArity: 1, Call: hasClass})
}

func hasClass(c *Context, args []Value) (Value, error) {
	class := String(args[0])
	if class == "" || strings.ContainsAny(class, " \t\r\n\f") {
		warn(c, "has-class", "class must be one non-empty name; combine several with and/or")
		return false, nil
	}
	var n *dom.Node
	if len(args) > 1 {
		n = firstNode(args[1])
	} else {
		n = c.contextNode()
	}
	if n == nil || n.Type != dom.ElementNode {
		return false, nil
	}
	attr, ok := n.Attr("class")
	if !ok {
		return false, nil
	}
	for _, name := range strings.Fields(attr) {
		if strings.EqualFold(name, class) {
			return true, nil
		}
	}
	return false, nil
}
