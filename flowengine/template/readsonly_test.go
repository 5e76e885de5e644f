package template

import "testing"

func TestReadsOnly(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want bool
	}{
		{`{"service": "hello", "stage": {{ $env/STAGE ?? "dev" }}}`, true},
		{`{"n": {{ count($env/*) }}{{if $env/X}}, "x": {{ $env/X }}{{elseif $env/Y = 'y'}}, "y": 1{{else}}, "z": 2{{end}}}`, true},
		{`[1, 2, {{ $env/A }}]`, true},
		{`"constant"`, true},
		{`{"id": {{ $request/id }}}`, false},
		{`{"stage": {{ $env/STAGE ?? $request/id }}}`, false},
		{`{"dot": {{ . }}}`, false},
		{`{"rel": {{ STAGE }}}`, false},
		{`{ {{: $env/* }} }`, false},
		{`{{$x := $env/A}}{"a": {{ $x }}}`, false},
		{`[ {{loop $env/*}}{{ $env/A }}{{end}} ]`, false},
		{`{"w": {{with $env/A}}1{{end}}}`, false},
		{`{"x": {{if $request/id}}1{{end}}}`, false},
		{`{"x": {{if $env/A}}{{ $request/id }}{{end}}}`, false},
		{`{"x": {{if $env/A}}1{{else}}{{ . }}{{end}}}`, false},
	} {
		tp, err := Parse(tc.src)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.src, err)
		}
		if got := tp.ReadsOnly("env"); got != tc.want {
			t.Errorf("%q: ReadsOnly(env) = %v, want %v", tc.src, got, tc.want)
		}
	}
}
