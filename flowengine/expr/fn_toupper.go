package expr

import "strings"

// toupper([s]) returns s upper-cased (Unicode); without an argument the
// context node's string-value.
func init() {
	Register(&Func{Name: "toupper", MinArgs: 0, MaxArgs: 1, UsesContext: true,
		Call: func(c *Context, args []Value) (Value, error) {
			if len(args) == 0 {
				return strings.ToUpper(contextString(c)), nil
			}
			return strings.ToUpper(String(args[0])), nil
		}, str: strings.ToUpper})
}
