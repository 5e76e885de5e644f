package expr

import (
	"strings"

	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// join(glue, in1, in2, …) joins the string values of its inputs with glue:
// a node-set contributes each node's string-value, an OXN array node
// contributes each of its items, a scalar its string value.
func init() {
	Register(&Func{Name: "join", MinArgs: 2, MaxArgs: -1, Call: join})
}

func join(c0 *Context, args []Value) (Value, error) {
	glue := String(args[0])
	var b strings.Builder
	first := true
	count := 0
	add := func(s string) {
		count++
		if !first {
			b.WriteString(glue)
		}
		first = false
		b.WriteString(s)
	}
	for _, a := range args[1:] {
		ns, ok := a.(NodeSet)
		if !ok {
			add(String(a))
			continue
		}
		for _, n := range ns {
			if err := loopCheck(c0, count); err != nil {
				return nil, err
			}
			if oxn.TypeOf(n) == oxn.Array {
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					if c.Type == dom.ElementNode {
						add(c.StringValue())
					}
					if err := loopCheck(c0, count); err != nil {
						return nil, err
					}
				}
				continue
			}
			add(n.StringValue())
		}
	}
	return output(c0, b.String())
}
