package expr

import "strings"

// replace(input, pattern, replacement [, modifiers]) replaces every match
// of the PCRE-style pattern in input (see matches for patterns and
// modifiers). In replacement, $n, ${n} and \n (n up to 99) insert group n
// (empty when the group does not exist or did not match); any other
// character is literal.
func init() {
	Register(&Func{Name: "replace", MinArgs: 3, MaxArgs: 4, Call: replaceCall(nil), Bind: func(consts []Value) (CallFunc, error) {
		re, err := bindRegexp(consts, 1, 3)
		if err != nil || re == nil {
			return nil, err
		}
		return replaceCall(re), nil
	}})
}

func replaceCall(pre matcher) CallFunc {
	return func(_ *Context, args []Value) (Value, error) {
		re, err := runtimeRegexp(pre, args, 1, 3)
		if err != nil {
			return nil, err
		}
		return regexpReplace(re, String(args[0]), String(args[2])), nil
	}
}

// regexpReplace replaces all matches of re in s, expanding PCRE-style
// group references in repl.
func regexpReplace(re matcher, s, repl string) string {
	matches := re.FindAllStringSubmatchIndex(s, -1)
	if len(matches) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range matches {
		b.WriteString(s[last:m[0]])
		expandReplacement(&b, repl, s, m)
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// expandReplacement writes repl with $n, ${n} and \n replaced by group n
// of the match m in s.
func expandReplacement(b *strings.Builder, repl, s string, m []int) {
	group := func(n int) {
		if 2*n+1 < len(m) && m[2*n] >= 0 {
			b.WriteString(s[m[2*n]:m[2*n+1]])
		}
	}
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		if (c != '$' && c != '\\') || i+1 >= len(repl) {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		braced := c == '$' && repl[j] == '{'
		if braced {
			j++
		}
		n, k := 0, j
		for k < len(repl) && k-j < 2 && repl[k] >= '0' && repl[k] <= '9' {
			n = n*10 + int(repl[k]-'0')
			k++
		}
		if k == j || (braced && (k >= len(repl) || repl[k] != '}')) {
			if c == '\\' && repl[i+1] == '\\' {
				b.WriteByte('\\') // "\\" is a literal backslash
				i++
				continue
			}
			b.WriteByte(c)
			continue
		}
		if braced {
			k++
		}
		group(n)
		i = k - 1
	}
}
