package expr

import "github.com/flowproc/flowproc/flowengine/regex"

// replace(input, pattern, replacement [, modifiers]) replaces every match
// of the PCRE-style pattern in input (see matches for patterns and
// modifiers). In replacement, $n, ${n} and \n (n up to 99) insert group n
// (empty when the group does not exist or did not match); any other
// character is literal. Matching and the result are charged to the run's
// budget.
func init() {
	Register(&Func{Name: "replace", MinArgs: 3, MaxArgs: 4, Call: replaceCall(nil), Bind: func(consts []Value) (CallFunc, error) {
		re, err := bindRegexp(consts, 1, 3)
		if err != nil || re == nil {
			return nil, err
		}
		return replaceCall(re), nil
	}})
}

func replaceCall(pre *regex.Regexp) CallFunc {
	return func(c *Context, args []Value) (Value, error) {
		re, err := runtimeRegexp(pre, args, 1, 3)
		if err != nil {
			return nil, err
		}
		return re.Replace(c.Budget, String(args[0]), String(args[2]))
	}
}
