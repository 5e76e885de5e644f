package apidef

import (
	"testing"

	yaml "go.yaml.in/yaml/v4"
)

func TestToJSON(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{`{a: 1, b: "2", c: 2.5, d: true, e: null, f: ~, g: [1, x]}`, `{"a":1,"b":"2","c":2.5,"d":true,"e":null,"f":null,"g":[1,"x"]}`},
		{`{z: 1, a: 2}`, `{"z":1,"a":2}`}, // key order kept
		{`{hex: 0x1F, oct: 0o17, big: 123456789012345678901234567890, under: 1_000}`, `{"hex":31,"oct":15,"big":1.2345678901234568e+29,"under":1000}`},
		{`{inf: .inf, nan: .nan, exp: 1e3}`, `{"inf":".inf","nan":".nan","exp":1000}`},
		{`{s: "a<b>&c", u: "é\n"}`, `{"s":"a<b>&c","u":"é\n"}`},
		{`{1: one, true: yes}`, `{"1":"one","true":"yes"}`},
		{"base: &b {x: 1, y: 2}\nuse: {<<: *b, y: 3}\n", `{"base":{"x":1,"y":2},"use":{"y":3,"x":1}}`},
		{"a: &a [1, 2]\nb: *a\n", `{"a":[1,2],"b":[1,2]}`},
		{"m: {<<: [{p: 1}, {q: 2}]}\n", `{"m":{"p":1,"q":2}}`},
		{`plain`, `"plain"`},
		{`{t: !!binary aGk=, d: 2001-12-14}`, `{"t":"aGk=","d":"2001-12-14"}`},
	} {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(c.yaml), &n); err != nil {
			t.Fatalf("%s: %v", c.yaml, err)
		}
		got, err := toJSON(&n)
		if err != nil || string(got) != c.want {
			t.Errorf("%s:\n got %s (%v)\nwant %s", c.yaml, got, err, c.want)
		}
	}
}

func TestToJSONAliasBomb(t *testing.T) {
	doc := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, name := range []string{"b", "c", "d", "e", "f", "g", "h"} {
		doc += name + ": &" + name + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n"
		prev = name
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
		t.Skipf("the YAML parser refuses the document itself: %v", err)
	}
	if _, err := toJSON(&n); err == nil {
		t.Error("alias expansion was not bounded")
	}
}

func TestKindName(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"{}", "an object"}, {"[]", "a list"}, {"~", "null"}, {"x", "a string"}, {"true", "a boolean"},
		{"1", "a number"}, {"1.5", "a number"}, {"2001-12-14", "a scalar"},
	} {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(c.yaml), &n); err != nil {
			t.Fatal(err)
		}
		if got := kindName(n.Content[0]); got != c.want {
			t.Errorf("%s: %q, want %q", c.yaml, got, c.want)
		}
	}
	if kindName(nil) != "nothing" {
		t.Error("nil")
	}
}

func TestCanonicalPath(t *testing.T) {
	for in, want := range map[string]string{
		"/a/b":          "/a/b",
		"/caf%C3%A9":    "/café",
		"/a%2fb%2Fc":    "/a%2Fb%2Fc",
		"/100%25":       "/100%25",
		"/%zz/%4":       "/%zz/%4",
		"/%":            "/%",
		"/%41%42%4a%4A": "/ABJJ",
	} {
		if got := canonicalPath(in); got != want {
			t.Errorf("canonicalPath(%q) = %q, want %q", in, got, want)
		}
	}
	if got := unescape("a%2Fb%25c%zz", false); got != "a/b%c%zz" {
		t.Errorf("unescape = %q", got)
	}
}
