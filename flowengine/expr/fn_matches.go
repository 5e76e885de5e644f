package expr

// matches(input, pattern [, modifiers]) reports whether the PCRE-style
// pattern (no delimiters) matches input. Modifiers: i (case-insensitive),
// m (multi-line), s (dot matches newline), x (extended: whitespace and
// #-comments ignored), u (accepted, no effect), U (ungreedy). Patterns run
// on Go's RE2 engine, or on the bounded backtracking engine of pcre.go when
// they use backreferences or lookaround. A literal pattern is compiled once
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

func matchesCall(pre matcher) CallFunc {
	return func(_ *Context, args []Value) (Value, error) {
		re, err := runtimeRegexp(pre, args, 1, 2)
		if err != nil {
			return nil, err
		}
		return re.MatchString(String(args[0])), nil
	}
}
