package expr

import "github.com/flowproc/flowproc/flowengine/regex"

// matches(input, pattern [, modifiers]) reports whether the PCRE-style
// pattern (no delimiters) matches input. Modifiers: i (case-insensitive),
// m (multi-line), s (dot matches newline), x (extended: whitespace and
// #-comments ignored), u (accepted, no effect), U (ungreedy). Patterns run
// on Go's RE2 engine, or on the backtracking engine of package regex when
// they use backreferences or lookaround; the work is charged to the run's
// budget (Context.Budget). A literal pattern is compiled once
// with the expression (an invalid one is a compile error); computed
// patterns are cached. An invalid computed pattern is an evaluation error.
func init() {
	Register(&Func{Name: "matches", MinArgs: 2, MaxArgs: 3, Call: matchesCall(nil), Bind: func(consts []Value) (CallFunc, error) {
		re, err := bindRegexp(consts, 1, 2)
		if err != nil || re == nil {
			return nil, err
		}
		return matchesCall(re), nil
	}})
}

func matchesCall(pre *regex.Regexp) CallFunc {
	return func(c *Context, args []Value) (Value, error) {
		re, err := runtimeRegexp(pre, args, 1, 2)
		if err != nil {
			return nil, err
		}
		return re.Match(c.Budget, String(args[0]))
	}
}
