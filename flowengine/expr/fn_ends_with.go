package expr

import "strings"

// ends-with(haystack, needle) reports whether haystack ends with needle.
func init() {
	Register(&Func{Name: "ends-with", MinArgs: 2, MaxArgs: 2, Call: func(_ *Context, args []Value) (Value, error) {
		return strings.HasSuffix(String(args[0]), String(args[1])), nil
	}})
}
