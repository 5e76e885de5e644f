package flat

import "testing"

func TestProxySkeleton(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{`{"origin": {{ $o }}}`, `{"origin": "\u0000template value\u0000"}`, true},
		{`{"a": 1, {{// c }}"b": {{.}},}`, `{"a": 1 ,"b": "\u0000template value\u0000"}`, true},
		{`{"a": 1 {{,}} "b": 2}`, `{"a": 1  ,"b": 2}`, true},
		{`{"s": "{{ not a command }}"}`, `{"s": "{{ not a command }}"}`, true},
		{`{{{ $x }}}`, `{"\u0000template value\u0000"}`, true},
		{`{{{if $x}}"a": 1{{end}}}`, "", false},
		{`{"a": {{ $x `, "", false},
		{`{"a": "open`, "", false},
	} {
		got, ok := proxySkeleton(tc.in)
		if ok != tc.ok || got != tc.want {
			t.Errorf("proxySkeleton(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzCheckProxySkeleton(f *testing.F) {
	for _, s := range []string{`{"origin": {{ $o }}}`, `{"url": "http://x", "headers": {{.}}{{,}}}`, `{{{ a }}}`, `{"a": "{{"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		_, _ = checkProxySkeleton(in) // must not panic
	})
}
