package template

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

var (
	fuzzOnce sync.Once
	fuzzNode *dom.Node
	fuzzVars fuzzScope
)

type fuzzScope map[string]expr.Value

func (m fuzzScope) Var(name string) (expr.Value, bool) { v, ok := m[name]; return v, ok }

func fuzzSetup(t *testing.T) {
	fuzzOnce.Do(func() {
		d, err := oxn.Parse([]byte(`{"a": {"b": [1, "x", null, true, {"c": 2}]}, "s": "str", "n": null,
		  "json-element": 1, "arr": [], "o": {"p": false}}`), 50)
		if err != nil {
			t.Fatal(err)
		}
		fuzzNode = d.FirstElement()
		fuzzVars = fuzzScope{"x": "v", "n": 1.5, "b": false, "ns": expr.NodeSet{fuzzNode}}
	})
}

// FuzzParse checks that Parse and Check never panic, that they agree, that
// errors carry sane positions, and that any template that parses executes
// without panicking against a small fixed context.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		``, `{"a": {{ a }}}`, `{{.}}`, `{{,}}`, `{{// c }}`, `{{: a/* }}`, `{{$x := a}}{{ $x }}`,
		`{{if a}}1{{elseif b}}2{{else}}3{{end}}`, `[{{loop a/b}}{{ . }}{{end}}]`,
		`{{with a}}{{ b }}{{else}}null{{end}}`, `{{ a ?? b ?? "c" }}`, `{{bad}}`, `{{end}}`,
		`{{if a}}`, `{{{ a }}}`, `{{ concat("}}", '{{') }}`, "{\n \"k\": [1, {{ n }},],\n}",
		`{"s": "{{ s }}\"", {{: o/* | @x }} }`, `{{ a[ }}`, `{{ "unterminated }}`,
		`{"a": [1, 2.5e3, "x,]\"y", {"b": null}], "c": true}`, ` [ ] `,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		fuzzSetup(t)
		tp, err := Parse(src)
		errs := Check(src)
		if (err == nil) != (len(errs) == 0) {
			t.Fatalf("Parse err %v but Check %v", err, errs)
		}
		if err != nil {
			var pe *diag.PosError
			if !errors.As(err, &pe) || pe.Line < 1 || pe.Col < 1 || pe.Offset < 0 || pe.Offset > len(src) || pe.Msg == "" {
				t.Fatalf("bad error %#v", err)
			}
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		var b bytes.Buffer
		err = tp.Execute(&expr.Context{Ctx: ctx, Node: fuzzNode, Scope: fuzzVars}, &b)
		// Valid JSON without commands is copied unchanged.
		if err == nil && !strings.Contains(src, "{{") && json.Valid([]byte(src)) && b.String() != src {
			t.Fatalf("literal JSON changed:\n in %q\nout %q", src, b.String())
		}
	})
}
