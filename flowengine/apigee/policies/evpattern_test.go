package policies

import (
	"reflect"
	"strings"
	"testing"
)

func TestEVPattern(t *testing.T) {
	cases := []struct {
		pattern     string
		fold, path  bool
		in          string
		want        []string
		ok          bool
		compileFail bool
	}{
		{pattern: "Bearer {token}", in: "Bearer abc.def", want: []string{"abc.def"}, ok: true},
		{pattern: "Bearer {token}", in: "bearer abc", ok: false},
		{pattern: "Bearer {token}", fold: true, in: "bearer abc", want: []string{"abc"}, ok: true},
		{pattern: "{x}-{y}", in: "a-b-c", want: []string{"a", "b-c"}, ok: true},
		{pattern: "{x}-{y}.json", in: "a-b.json", want: []string{"a", "b"}, ok: true},
		{pattern: "{x}-{y}.json", in: "a-b.xml", ok: false},
		{pattern: "{x}.json", in: "a.json.json", want: []string{"a.json"}, ok: true},
		{pattern: "/accounts/{id}", path: true, in: "/accounts/12", want: []string{"12"}, ok: true},
		{pattern: "/accounts/{id}", path: true, in: "/accounts/12/x", ok: false},
		{pattern: "/accounts/{id}", path: false, in: "/accounts/12/x", want: []string{"12/x"}, ok: true},
		{pattern: "/a/{b}/c/{d}", path: true, in: "/A/1/C/2", fold: true, want: []string{"1", "2"}, ok: true},
		{pattern: "/ships/{ship}/sailDate/{date}", path: true, in: "/ships/102903/sailDate/20180421", want: []string{"102903", "20180421"}, ok: true},
		// Apigee's documented wildcards.
		{pattern: "/a/*/{id}", path: true, in: "/a/b/c", want: []string{"c"}, ok: true},
		{pattern: "/a/*/{id}", path: true, in: "/a/foo/bar/baz", ok: false},
		{pattern: "/a/**/{id}", path: true, in: "/a/foo/bar/baz/c", want: []string{"c"}, ok: true},
		{pattern: "/a/**/{id}", path: true, in: "/a/b/c", want: []string{"c"}, ok: true},
		{pattern: "**/pay/{ref}/{txn}", path: true, in: "/x/y/pay/R1/T2", want: []string{"R1", "T2"}, ok: true},
		{pattern: "*;charset={encoding}", in: "text/xml;charset=UTF-16", want: []string{"UTF-16"}, ok: true},
		{pattern: "*;charset={encoding}", in: "application/xml;charset=ASCII", want: []string{"ASCII"}, ok: true},
		{pattern: "%{user%} {name}", in: "{user} Steve", want: []string{"Steve"}, ok: true},
		{pattern: "%{user%} {name}", in: "user Steve", ok: false},
		{pattern: "100%", in: "100%", want: []string{}, ok: true},
		{pattern: "{all}", in: "", want: []string{""}, ok: true},
		{pattern: "literal", in: "literal", want: []string{}, ok: true},
		{pattern: "literal", in: "literally", ok: false},
		{pattern: "{a}{b}", compileFail: true},
		{pattern: "*{b}", compileFail: true},
		{pattern: "x{", compileFail: true},
		{pattern: "x{}", compileFail: true},
	}
	for _, c := range cases {
		p, err := compileEVPattern(c.pattern, c.fold, c.path)
		if c.compileFail {
			if err == nil {
				t.Errorf("%q: compiled", c.pattern)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.pattern, err)
			continue
		}
		got, ok, err := p.match(c.in)
		if err != nil {
			t.Errorf("%q on %q: %v", c.pattern, c.in, err)
			continue
		}
		if ok != c.ok || ok && !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q on %q = %q, %v; want %q, %v", c.pattern, c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestEVPatternBounded(t *testing.T) {
	p, err := compileEVPattern("{a}x{b}x{c}x{d}y", false, false)
	if err != nil {
		t.Fatal(err)
	}
	_, ok, err := p.match(strings.Repeat("x", 20000))
	if ok || err == nil {
		t.Errorf("adversarial input: ok %v err %v, want a step-limit error", ok, err)
	}
}

func FuzzEVPattern(f *testing.F) {
	f.Add("Bearer {token}", "Bearer x", false, false)
	f.Add("/a/{b}/c/{d}", "/a/1/c/2", true, true)
	f.Add("/a/**/{id}", "/a/1/2/3", false, true)
	f.Add("{x}-{y}.{z}", "1-2-3.4.5", false, false)
	f.Add("%{u%} *={v}", "{u} k=v", false, false)
	f.Fuzz(func(t *testing.T, pattern, in string, fold, path bool) {
		p, err := compileEVPattern(pattern, fold, path)
		if err != nil {
			return
		}
		vals, ok, err := p.match(in)
		if err != nil || !ok {
			return
		}
		if len(vals) != len(p.vars) {
			t.Fatalf("%d values for %d variables", len(vals), len(p.vars))
		}
		// Without wildcards, literals and captures reassemble the input.
		var b strings.Builder
		vi := 0
		for _, tk := range p.toks {
			switch tk.kind {
			case 'l':
				b.WriteString(tk.lit)
			case 'v':
				b.WriteString(vals[vi])
				vi++
			default:
				return
			}
		}
		if !fold && b.String() != in {
			t.Fatalf("reassembled %q != %q", b.String(), in)
		}
		if fold && !strings.EqualFold(b.String(), in) {
			t.Fatalf("reassembled %q !~ %q", b.String(), in)
		}
	})
}
