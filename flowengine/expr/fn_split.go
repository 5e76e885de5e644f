package expr

import (
	"strings"

	"github.com/flowproc/flowproc/flowengine/regex"

	"github.com/flowproc/flowproc/flowengine/dom"
)

// split(subject [, pattern]) splits subject and returns the parts as a
// node-set of detached <token> elements (untyped: each serializes as a JSON
// string). Without a pattern it splits on runs of ASCII whitespace; a
// pattern is a PCRE-style regular expression (inline flags such as (?i)
// work). Empty tokens are dropped. Wrap the result in array() to loop over
// it in a template.
func init() {
	Register(&Func{Name: "split", MinArgs: 1, MaxArgs: 2, Call: splitCall(nil), Bind: func(consts []Value) (CallFunc, error) {
		re, err := bindRegexp(consts, 1, 2)
		if err != nil || re == nil {
			return nil, err
		}
		return splitCall(re), nil
	}})
}

func splitCall(pre *regex.Regexp) CallFunc {
	return func(c *Context, args []Value) (Value, error) {
		s := String(args[0])
		var parts []string
		if len(args) < 2 {
			parts = strings.FieldsFunc(s, func(r rune) bool {
				return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\v'
			})
		} else {
			re, err := runtimeRegexp(pre, args, 1, 2)
			if err != nil {
				return nil, err
			}
			if parts, err = re.Split(c.Budget, s, -1); err != nil {
				return nil, err
			}
		}
		out := make(NodeSet, 0, len(parts))
		for i, p := range parts {
			if err := loopCheck(c, i); err != nil {
				return nil, err
			}
			if p == "" {
				continue
			}
			t := dom.NewElement("token")
			t.AppendChild(dom.NewText(p))
			out = append(out, t)
		}
		return out, nil
	}
}
