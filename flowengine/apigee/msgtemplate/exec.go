package msgtemplate

import (
	"io"
	"sync"

	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// Append renders the template onto dst. Unresolved variables (unknown or
// null, without a default) render as "" and the first one's name is
// returned in unresolved, so a policy with IgnoreUnresolvedVariables=false
// can fault. err is an *ExecError when a function fails or a variable
// holds a value of a type templates cannot render.
func (t *Template) Append(dst []byte, v Vars) (out []byte, unresolved string, err error) {
	for i := range t.parts {
		pt := &t.parts[i]
		if pt.ref == nil {
			dst = append(dst, pt.lit...)
			continue
		}
		r := pt.ref
		if r.call != nil {
			var miss string
			dst, miss, err = r.call.run(dst, v)
			if err != nil {
				return dst, unresolved, err
			}
			if unresolved == "" {
				unresolved = miss
			}
			continue
		}
		str, isString, x, ok := flowvar.LookupString(v, r.name)
		if isString && ok {
			dst = append(dst, str...)
			continue
		}
		if !ok || x == nil {
			if r.hasDef {
				dst = append(dst, r.def...)
			} else if unresolved == "" {
				unresolved = r.name
			}
			continue
		}
		var good bool
		dst, good = flowvar.AppendString(dst, x)
		if !good {
			return dst, unresolved, &ExecError{Code: CodeUnsupportedValue, Ref: r.name, Msg: "variable value cannot be rendered as text"}
		}
	}
	return dst, unresolved, nil
}

// Execute writes the rendered template to w; unresolved variables render
// as "" (Apigee's IgnoreUnresolvedVariables=true).
func (t *Template) Execute(w io.Writer, v Vars) error {
	return t.execute(w, v, false)
}

// ExecuteStrict is Execute for IgnoreUnresolvedVariables=false: when a
// variable does not resolve it writes nothing and returns *UnresolvedError.
func (t *Template) ExecuteStrict(w io.Writer, v Vars) error {
	return t.execute(w, v, true)
}

func (t *Template) execute(w io.Writer, v Vars, strict bool) error {
	bp := bufPool.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= 64<<10 {
			bufPool.Put(bp)
		}
	}()
	out, miss, err := t.Append((*bp)[:0], v)
	*bp = out
	if err != nil {
		return err
	}
	if strict && miss != "" {
		return &UnresolvedError{Name: miss}
	}
	_, err = w.Write(out)
	return err
}

// String renders the template to a string, reporting the first unresolved
// variable like Append.
func (t *Template) String(v Vars) (s string, unresolved string, err error) {
	if len(t.parts) == 1 && t.parts[0].ref == nil {
		return t.parts[0].lit, "", nil
	}
	bp := bufPool.Get().(*[]byte)
	out, miss, err := t.Append((*bp)[:0], v)
	s = string(out)
	*bp = out
	if cap(out) <= 64<<10 {
		bufPool.Put(bp)
	}
	return s, miss, err
}

// run evaluates a function call and appends its result.
func (c *call) run(dst []byte, v Vars) ([]byte, string, error) {
	var stack [4]value
	args := stack[:0]
	miss := ""
	for _, a := range c.args {
		switch {
		case !a.isVar:
			args = append(args, value{s: a.lit, null: a.null})
		default:
			str, isString, x, ok := flowvar.LookupString(v, a.name)
			if isString && ok {
				args = append(args, value{s: str})
				continue
			}
			if !ok || x == nil {
				if miss == "" && !c.fn.nullable {
					miss = a.name
				}
				args = append(args, value{null: true})
				continue
			}
			s, good := flowvar.String(x)
			if !good {
				return dst, miss, &ExecError{Code: CodeUnsupportedValue, Ref: a.name, Msg: "variable value cannot be used as a function argument"}
			}
			args = append(args, value{s: s})
		}
	}
	out, err := c.fn.call(c.state, args)
	if err != nil {
		return dst, miss, &ExecError{Code: CodeFunctionFailed, Ref: c.name, Msg: err.Error(), Err: err}
	}
	return append(dst, out...), miss, nil
}
