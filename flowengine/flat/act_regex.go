package flat

import (
	"fmt"
	"strings"

	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/regex"
	"github.com/flowproc/flowproc/flowengine/xmlsrc"
)

// <regex pattern replace in out/> is a PCRE search and replace on text
// (FLAT docs: regex): pattern= carries delimiters and modifiers
// ("/foo/i", "|20(\d\d)|"), replace= may use $1 backreferences; a DOM input
// is serialised first and the output is always a string. An invalid
// pattern is a load error (a run-time error when the pattern is dynamic);
// no match is not an error. The work is charged to the run's budget.

func init() {
	registerAction("regex", &actionSpec{attrs: []string{"pattern", "replace", "in", "out"}, compile: compileRegex})
}

type regexAction struct {
	re      *regex.Regexp // compiled at load for a literal pattern
	pattern value
	replace value
	in, out location
}

func compileRegex(c *compiler, f *Flow, e *xmlsrc.Element) action {
	p, ok := c.requireAttr(f, e, "pattern")
	if !ok {
		return nil
	}
	rp, ok := c.requireAttr(f, e, "replace")
	if !ok {
		return nil
	}
	a := &regexAction{pattern: c.value(f, p), replace: c.value(f, rp), in: c.location(f, e, "in"), out: c.location(f, e, "out")}
	if a.pattern.dyn == nil {
		re, err := compileDelimited(a.pattern.lit)
		if err != nil {
			c.errf(f, p.Line, p.Col, diag.BadAttribute, "pattern=%q: %v", p.Value, err)
			return nil
		}
		a.re = re
	}
	return a
}

// compileDelimited compiles a PCRE pattern written with delimiters and
// trailing modifiers. The delimiter is the first character (not
// alphanumeric, backslash or space); an opening bracket closes with its
// pair, as in PHP.
func compileDelimited(s string) (*regex.Regexp, error) {
	if len(s) < 2 {
		return nil, fmt.Errorf("want a delimited pattern such as /foo/i")
	}
	open := s[0]
	if open == '\\' || open == ' ' || ('a' <= open && open <= 'z') || ('A' <= open && open <= 'Z') || ('0' <= open && open <= '9') {
		return nil, fmt.Errorf("%q is not a pattern delimiter", open)
	}
	end := open
	switch open {
	case '(':
		end = ')'
	case '[':
		end = ']'
	case '{':
		end = '}'
	case '<':
		end = '>'
	}
	i := strings.LastIndexByte(s, end)
	if i <= 0 {
		return nil, fmt.Errorf("no ending delimiter %q", end)
	}
	return regex.Compile(s[1:i], s[i+1:])
}

func (a *regexAction) Run(r *run, s *step) (ctrl, error) {
	re := a.re
	if re == nil {
		p, err := a.pattern.eval(r)
		if err != nil {
			return ctrlNext, err
		}
		if re, err = compileDelimited(p); err != nil {
			return ctrlNext, fmt.Errorf("%s:%d: regex: pattern %q: %w", s.At.File, s.At.Line, p, err)
		}
	}
	repl, err := a.replace.eval(r)
	if err != nil {
		return ctrlNext, err
	}
	in, mime, _, err := a.in.text(r)
	if err != nil {
		return ctrlNext, err
	}
	out, err := re.Replace(&r.budget, in, repl)
	if err != nil {
		return ctrlNext, err
	}
	if a.out.varName != "" {
		r.setVar(a.out.varName, out)
		return ctrlNext, nil
	}
	if mime == "" {
		mime = "text/plain"
	}
	r.setMain([]byte(out), mime)
	return ctrlNext, nil
}
