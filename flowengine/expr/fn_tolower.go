package expr

import "strings"

// tolower([s]) returns s lower-cased (Unicode); without an argument the
// context node's string-value. Inside a predicate it is evaluated by the
// XPath engine's lower-case() so that it works per node.
func init() {
	Register(&Func{Name: "tolower", MinArgs: 0, MaxArgs: 1, UsesContext: true,
		Call: func(c *Context, args []Value) (Value, error) {
			if len(args) == 0 {
				return strings.ToLower(contextString(c)), nil
			}
			return strings.ToLower(String(args[0])), nil
		}, str: strings.ToLower, appendStr: appendLower})
}

// appendLower appends strings.ToLower(s) to dst (see appendASCIICase).
func appendLower(dst []byte, s string) []byte {
	return appendASCIICase(dst, s, 'A', 'Z', strings.ToLower)
}
