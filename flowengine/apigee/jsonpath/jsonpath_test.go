package jsonpath

import (
	"encoding/json"
	"testing"
)

func TestPath(t *testing.T) {
	doc := []byte(`{"a":{"b":[1,{"c":"x"},true],"d":null},"e":"s"}`)
	cases := []struct {
		path     string
		definite bool
		want     string // Render(doc, false)
		err      bool
	}{
		{path: "$.e", definite: true, want: "s"},
		{path: "$.a.b[1].c", definite: true, want: "x"},
		{path: "$.a.b[-1]", definite: true, want: "true"},
		{path: "$.a.d", definite: true, want: ""},
		{path: "$.a.b[*]", want: `[1,{"c":"x"},true]`},
		{path: "$..c", want: `["x"]`},
		{path: "$['a']['b'][0:2]", want: `[1,{"c":"x"}]`},
		{path: "$.nope", definite: true, want: ""},
		{path: "a.b", err: true},
		{path: "$.a[?(@.x)]", err: true},
		{path: "$.a[", err: true},
	}
	for _, c := range cases {
		p, err := Parse(c.path)
		if c.err {
			if err == nil {
				t.Errorf("%s: no error", c.path)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.path, err)
			continue
		}
		if p.Definite() != c.definite {
			t.Errorf("%s: definite %v", c.path, p.Definite())
		}
		if got := p.Render(doc, false); got != c.want {
			t.Errorf("%s: got %s, want %s", c.path, got, c.want)
		}
	}
}

func FuzzPath(f *testing.F) {
	f.Add("$.a.b[0]", `{"a":{"b":[1]}}`)
	f.Add("$..*", `[[1,[2]],{"x":{}}]`)
	f.Add("$['a','b'][1:]", `{"a":[1,2],"b":"x"}`)
	f.Fuzz(func(t *testing.T, path, doc string) {
		p, err := Parse(path)
		if err != nil || !json.Valid([]byte(doc)) {
			return
		}
		for _, v := range p.Eval([]byte(doc)) {
			if !json.Valid(v) {
				t.Fatalf("invalid value %q", v)
			}
		}
		_ = p.Render([]byte(doc), true)
	})
}
