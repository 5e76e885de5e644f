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

// TestPlainReads: templates whose values only read variables, as a <log>
// FLAT may skip has.
func TestPlainReads(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want bool
	}{
		{`{"service": {{ $cfg/service }}, "stage": {{ $cfg/stage ?? "dev" }}}`, true},
		{`{"id": {{ $request/id }}, "n": {{ count($request/headers/*) }}, "big": {{ $x/n > 3 }}}`, true},
		{`{"x": {{if $a/b = 'c'}}1{{else}}{{ $d }}{{end}}}`, true},
		{`"constant"`, true},
		{`{"dot": {{ . }}}`, false},
		{`{"rel": {{ service }}}`, false},
		{`{"c": {{ concat($a, "x") }}}`, false},
		{`{"l": {{ get-log()/x }}}`, false},
		{`{"u": {{ tolower($a) }}}`, false},
		{`{ {{: $a/* }} }`, false},
		{`{{$x := $a/b}}{"a": {{ $x }}}`, false},
		{`[ {{loop $a/*}}1{{end}} ]`, false},
		{`{"x": {{if $a}}{{ . }}{{end}}}`, false},
	} {
		tp, err := Parse(tc.src)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.src, err)
		}
		if got := tp.PlainReads(); got != tc.want {
			t.Errorf("%q: PlainReads() = %v, want %v", tc.src, got, tc.want)
		}
	}
}

// TestCalls: a call is found in values, alternatives, conditions, the
// bodies and else parts of ifs, loops and withs, pairs and locals.
func TestCalls(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want bool
	}{
		{`{"l": {{ get-log()/x }}}`, true},
		{`{"l": {{ $a ?? get-log()/x }}}`, true},
		{`{"x": {{if get-log()/a}}1{{end}}}`, true},
		{`{"x": {{if $a}}1{{elseif $b}}{{ get-log() }}{{end}}}`, true},
		{`{"x": {{if $a}}1{{else}}{{ get-log() }}{{end}}}`, true},
		{`[ {{loop get-log()/*}}1{{end}} ]`, true},
		{`[ {{loop $a/*}}{{ get-log()/x }}{{end}} ]`, true},
		{`{"w": {{with $a}}{{ get-log() }}{{end}}}`, true},
		{`{ {{: get-log()/* }} }`, true},
		{`{{$x := get-log()}}{"a": {{ $x }}}`, true},
		{`{"l": "get-log()", "x": {{ $a }}}`, false},
		{`{"u": {{ tolower($a) }}}`, false},
	} {
		tp, err := Parse(tc.src)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.src, err)
		}
		if got := tp.Calls("get-log"); got != tc.want {
			t.Errorf("%q: Calls(get-log) = %v, want %v", tc.src, got, tc.want)
		}
	}
}
