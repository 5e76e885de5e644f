package template

import (
	"bytes"
	"errors"
	"testing"

	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// scalarScope answers expr.ScalarScope for $up/main/* from fixed values,
// and holds $up as the full variable besides; calls counts the answers.
type scalarScope struct {
	mapScope
	vals  map[string]expr.ScalarValue
	calls int
}

func (s *scalarScope) Scalar(name string, path []string) (expr.ScalarValue, bool) {
	if name != "up" || len(path) != 2 || path[0] != "main" {
		return expr.ScalarValue{}, false
	}
	v, ok := s.vals[path[1]]
	if ok {
		s.calls++
	}
	return v, ok
}

// TestScalarScope: a {{ }} that is one plain path takes the scope's scalar
// in both writers (Execute and ExecuteTree), and the output is what the
// full variable gives.
func TestScalarScope(t *testing.T) {
	up := mustOXN(t, `{"main":{"status":503,"url":"http://up/a?b=\"c\"","cacheHit":false,"ratio":0.5}}`).FirstElement()
	vals := map[string]expr.ScalarValue{
		"status":   {Type: oxn.Number, Text: "503"},
		"url":      {Type: oxn.String, Text: `http://up/a?b="c"`},
		"cacheHit": {Type: oxn.Boolean, Text: "false"},
		"ratio":    {Type: oxn.Number, Text: "0.5"},
	}
	for _, src := range []string{
		`{ "s": {{ $up/main/status }}, "u": {{ $up/main/url }}, "h": {{ $up/main/cacheHit }}, "r": {{ $up/main/ratio }} }`,
		`[ {{ $up/main/status }}, {{ $up/main/url }}, {{ $up/main/cacheHit }} ]`,
		`{ "big": {{ $up/main/status >= 500 }}, "s": {{ $up/main/status ?? 0 }} }`,
		`{{ $up/main/url }}`,
		// A template with locals: they shadow only their own names.
		`{{$s := 1}}{ "s": {{ $up/main/status }}, "local": {{ $s }} }`,
	} {
		tp, err := Parse(src)
		if err != nil {
			t.Fatalf("Parse(%q): %v", src, err)
		}
		full := &expr.Context{Scope: mapScope{"up": expr.NodeSet{up}}}
		var want bytes.Buffer
		if err := tp.Execute(full, &want); err != nil {
			t.Fatal(err)
		}
		sc := &scalarScope{mapScope: mapScope{"up": expr.NodeSet{up}}, vals: vals}
		var got bytes.Buffer
		if err := tp.Execute(&expr.Context{Scope: sc}, &got); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%q: with the scalars %s, from the variable %s", src, got.String(), want.String())
		}
		if sc.calls == 0 {
			t.Errorf("%q: the scope's scalars were not asked", src)
		}
		if _, err := tp.ExecuteTree(&expr.Context{Scope: sc}, &oxn.TreeArena{}, 0); errors.Is(err, ErrNoShape) {
			continue // an array: Execute only
		}
		checkTreeMatchesExecute(t, tp, &expr.Context{Scope: sc}, &oxn.TreeArena{})
	}
}

// TestScalarScopeShadowedByLocal: a template local named like the variable
// hides it from the scope's scalars, as it hides it from every other read.
func TestScalarScopeShadowedByLocal(t *testing.T) {
	up := mustOXN(t, `{"main":{"status":503}}`).FirstElement()
	local := mustOXN(t, `{"main":{"status":200}}`).FirstElement()
	tp, err := Parse(`{{$up := $other}}{ "s": {{ $up/main/status }}, "big": {{ $up/main/status >= 500 }} }`)
	if err != nil {
		t.Fatal(err)
	}
	sc := &scalarScope{mapScope: mapScope{"up": expr.NodeSet{up}, "other": expr.NodeSet{local}},
		vals: map[string]expr.ScalarValue{"status": {Type: oxn.Number, Text: "503"}}}
	var got bytes.Buffer
	if err := tp.Execute(&expr.Context{Scope: sc}, &got); err != nil {
		t.Fatal(err)
	}
	if want := `{ "s": 200, "big": false }`; got.String() != want {
		t.Errorf("got %s, want %s", got.String(), want)
	}
	if sc.calls != 0 {
		t.Errorf("the shadowed variable's scalar was asked %d times", sc.calls)
	}
}
