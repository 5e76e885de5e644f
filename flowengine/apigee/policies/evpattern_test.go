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
		{pattern: "/accounts/{id}", path: true, in: "/accounts/12", want: []string{"12"}, ok: true},
		{pattern: "/accounts/{id}", path: true, in: "/accounts/12/x", ok: false},
		{pattern: "/accounts/{id}", path: false, in: "/accounts/12/x", want: []string{"12/x"}, ok: true},
		{pattern: "/a/{b}/c/{d}", path: true, in: "/A/1/C/2", fold: true, want: []string{"1", "2"}, ok: true},
		{pattern: "/ships/{ship}/sailDate/{date}", path: true, in: "/ships/102903/sailDate/20180421", want: []string{"102903", "20180421"}, ok: true},
		{pattern: "{all}", in: "", want: []string{""}, ok: true},
		{pattern: "literal", in: "literal", want: nil, ok: true},
		{pattern: "literal", in: "literally", ok: false},
		{pattern: "{a}{b}", compileFail: true},
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
		got, ok := p.match(c.in)
		if ok != c.ok || ok && !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q on %q = %q, %v; want %q, %v", c.pattern, c.in, got, ok, c.want, c.ok)
		}
	}
}

func FuzzEVPattern(f *testing.F) {
	f.Add("Bearer {token}", "Bearer x", false)
	f.Add("/a/{b}/c/{d}", "/a/1/c/2", true)
	f.Add("{x}-{y}.{z}", "1-2-3.4.5", false)
	f.Fuzz(func(t *testing.T, pattern, in string, fold bool) {
		p, err := compileEVPattern(pattern, fold, false)
		if err != nil {
			return
		}
		vals, ok := p.match(in)
		if !ok {
			return
		}
		if len(vals) != len(p.vars) {
			t.Fatalf("%d values for %d variables", len(vals), len(p.vars))
		}
		// Re-assembling literals and captures gives back the input.
		if !fold {
			var r strings.Builder
			r.WriteString(p.lits[0])
			for i, v := range vals {
				r.WriteString(v)
				r.WriteString(p.lits[i+1])
			}
			if r.String() != in {
				t.Fatalf("reassembled %q != %q", r.String(), in)
			}
		}
	})
}
