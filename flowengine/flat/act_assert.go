package flat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/oxn"
	"github.com/flowproc/flowproc/flowengine/xmlsrc"
)

// <assert>[[expression, expected?, message?], …]</assert> checks values in
// a test (FLAT docs: assert). The body is a JSON template of an array
// of assertions: an XPath expression (evaluated like eval), the expected
// value (default true) and a message shown on failure. expected is a
// literal — a boolean compares the expression's boolean value, a number its
// number, a string its string, null asks for no value (an empty node-set
// or JSON null) — or an object of compare flags: file (the expected text
// from a golden file next to the test), mode ("text", or "json": both
// sides must be JSON and compare without formatting), contains (a
// substring) and pattern (a PCRE with delimiters). Each assertion counts;
// a failure is recorded and the test goes on. Test files only.

func init() {
	registerAction("assert", &actionSpec{attrs: []string{"in", "src"}, compile: compileAssert, testOnly: true})
}

type assertAction struct {
	t     *tmpl
	in    input
	exprs sync.Map // expression source → *expr.Expr
}

func compileAssert(c *compiler, f *Flow, e *xmlsrc.Element) action {
	a := &assertAction{in: c.input(f, e), t: c.template(f, e, true)}
	if a.t == nil {
		return nil
	}
	return a
}

func (a *assertAction) Run(r *run, s *step) (ctrl, error) {
	st := r.testState()
	if st == nil {
		return ctrlNext, nil
	}
	out, err := r.render(a.t, a.in)
	if err != nil {
		return ctrlNext, err
	}
	doc, err := oxn.Parse(out, r.p.opts.maxDepth())
	if err != nil || oxn.TypeOf(doc.FirstElement()) != oxn.Array {
		return ctrlNext, fmt.Errorf("%s:%d: assert: the body must be a JSON array of [expression, expected?, message?]", s.At.File, s.At.Line)
	}
	for i, it := range items(doc.FirstElement()) {
		parts := items(it)
		if oxn.TypeOf(it) != oxn.Array || len(parts) == 0 || len(parts) > 3 || oxn.TypeOf(parts[0]) != oxn.String {
			return ctrlNext, fmt.Errorf("%s:%d: assert: assertion %d must be [expression, expected?, message?]", s.At.File, s.At.Line, i+1)
		}
		src := parts[0].StringValue()
		var want *dom.Node
		if len(parts) > 1 {
			want = parts[1]
		}
		msg := ""
		if len(parts) > 2 {
			msg = parts[2].StringValue()
		}
		st.mu.Lock()
		st.res.Assertions++
		st.mu.Unlock()
		x, err := a.compiled(src)
		if err != nil {
			st.failAt(s, i, src, msg, "the expression does not compile: %v", err)
			continue
		}
		got, err := x.Eval(r.exprCtx(nil))
		if err != nil {
			st.failAt(s, i, src, msg, "evaluation failed: %v", err)
			continue
		}
		if problem := r.compare(got, want); problem != "" {
			st.failAt(s, i, src, msg, "%s", problem)
		}
	}
	return ctrlNext, nil
}

func (a *assertAction) compiled(src string) (*expr.Expr, error) {
	if x, ok := a.exprs.Load(src); ok {
		return x.(*expr.Expr), nil
	}
	x, err := expr.Compile(src)
	if err != nil {
		return nil, err
	}
	a.exprs.Store(src, x)
	return x, nil
}

func (st *testState) failAt(s *step, i int, src, msg, format string, args ...any) {
	text := fmt.Sprintf("assertion %d [%s]: %s", i+1, src, fmt.Sprintf(format, args...))
	if msg != "" {
		text += " (" + msg + ")"
	}
	st.mu.Lock()
	st.fail(s.At, "%s", text)
	st.mu.Unlock()
}

// compare checks got against the expected value; "" means it matches.
func (r *run) compare(got expr.Value, want *dom.Node) string {
	if want == nil {
		if expr.Bool(got) {
			return ""
		}
		return fmt.Sprintf("got %s, want true", show(got))
	}
	switch oxn.TypeOf(want) {
	case oxn.Null:
		if isNoValue(got) {
			return ""
		}
		return fmt.Sprintf("got %s, want no value (null)", show(got))
	case oxn.Boolean:
		w := want.StringValue() == "true"
		if expr.Bool(got) == w {
			return ""
		}
		return fmt.Sprintf("got %s, want %v", show(got), w)
	case oxn.Number:
		w := expr.Number(want.StringValue())
		g := expr.Number(got)
		if g == w || math.Abs(g-w) < 1e-9 {
			return ""
		}
		return fmt.Sprintf("got %s, want %s", show(got), want.StringValue())
	case oxn.String:
		if g := expr.String(got); g == want.StringValue() {
			return ""
		}
		return fmt.Sprintf("got %s, want %q", show(got), want.StringValue())
	case oxn.Object:
		return r.compareFlags(got, want)
	}
	return "the expected value must be a string, number, boolean, null or an object of compare flags"
}

// compareFlags applies {file, mode, contains, pattern}.
func (r *run) compareFlags(got expr.Value, flags *dom.Node) string {
	text := valueText(got)
	var expected *string
	mode := "text"
	for f := flags.FirstChild; f != nil; f = f.NextSibling {
		if f.Type != dom.ElementNode {
			continue
		}
		v := f.StringValue()
		switch oxn.Key(f) {
		case "file":
			name, err := r.projectFile(v)
			if err != nil {
				return fmt.Sprintf("golden file %q: %v", v, err)
			}
			b, err := r.p.root.ReadFile(name)
			if err != nil {
				if os.IsNotExist(err) {
					return fmt.Sprintf("golden file %q does not exist", filepath.ToSlash(v))
				}
				return fmt.Sprintf("golden file %q: not readable", v)
			}
			s := string(b)
			expected = &s
		case "mode":
			if v != "text" && v != "json" {
				return fmt.Sprintf("mode %q: want text or json", v)
			}
			mode = v
		case "contains":
			if !strings.Contains(text, v) {
				return fmt.Sprintf("got %q, want it to contain %q", text, v)
			}
		case "pattern":
			re, err := compileDelimited(v)
			if err != nil {
				return fmt.Sprintf("pattern %q: %v", v, err)
			}
			ok, err := re.Match(&r.budget, text)
			if err != nil {
				return fmt.Sprintf("pattern %q: %v", v, err)
			}
			if !ok {
				return fmt.Sprintf("got %q, want it to match %s", text, v)
			}
		case "value":
			s := v
			expected = &s
		default:
			return fmt.Sprintf("unknown compare flag %q (known: file, mode, contains, pattern)", oxn.Key(f))
		}
	}
	if expected == nil {
		if mode == "json" && !oxn.Valid([]byte(text)) {
			return fmt.Sprintf("got %q, want valid JSON", text)
		}
		return ""
	}
	if mode == "json" {
		g, err1 := compactJSON(text)
		w, err2 := compactJSON(*expected)
		switch {
		case err1 != nil:
			return fmt.Sprintf("got %q, which is not JSON", text)
		case err2 != nil:
			return "the expected value is not JSON"
		case g != w:
			return fmt.Sprintf("got %s, want %s", g, w)
		}
		return ""
	}
	if text != *expected {
		return fmt.Sprintf("got %q, want %q", text, *expected)
	}
	return ""
}

func compactJSON(s string) (string, error) {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return "", err
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// valueText is a value as text: JSON (OXN) nodes as JSON, others as
// their string value.
func valueText(v expr.Value) string {
	if ns, ok := v.(expr.NodeSet); ok && len(ns) > 0 {
		n := ns[0]
		if n.Type == dom.DocumentNode {
			n = n.FirstElement()
		}
		if n != nil && oxn.TypeOf(n) != oxn.Untyped && oxn.TypeOf(n) != oxn.String {
			var b bytes.Buffer
			if oxn.Write(&b, n) == nil {
				return b.String()
			}
		}
	}
	return expr.String(v)
}

// isNoValue reports whether v is "no value": nothing, an empty node-set
// or JSON null.
func isNoValue(v expr.Value) bool {
	switch t := v.(type) {
	case nil:
		return true
	case expr.NodeSet:
		return len(t) == 0 || oxn.TypeOf(t[0]) == oxn.Null
	}
	return false
}

// show renders a value for a failure message.
func show(v expr.Value) string {
	switch t := v.(type) {
	case expr.NodeSet:
		if len(t) == 0 {
			return "no value"
		}
		return fmt.Sprintf("%q", valueText(v))
	case string:
		return fmt.Sprintf("%q", t)
	case nil:
		return "no value"
	}
	return expr.String(v)
}
