package flat

import (
	"strings"
	"testing"
)

// TestQueryString covers proxy-request's query forms read from the tree.
func TestQueryString(t *testing.T) {
	tests := []struct {
		query   string // the value of "query"; "" for none
		want    string
		ok      bool
		wantErr bool
	}{
		{query: "", ok: false},
		{query: `"?a=1&b=2"`, want: "a=1&b=2", ok: true},
		{query: `"a=1"`, want: "a=1", ok: true},
		{query: `{"a":37,"b":"c d","t":true,"n":null,"o":{"x":1},"x y":"z"}`, want: "a=37&b=c+d&t=true&x+y=z", ok: true},
		{query: `{}`, want: "", ok: true},
		{query: `[{"name":"a","value":12},{"name":"a","value":"x/y"},{"name":"e"},{"name":"n","value":null}]`, want: "a=12&a=x%2Fy&e=&n=", ok: true},
		{query: `[{"value":1}]`, wantErr: true},
		{query: `["a"]`, wantErr: true},
		{query: `12`, wantErr: true},
		{query: `true`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var q member
			if tt.query != "" {
				ms, err := objectMembers([]byte(`{"query":`+tt.query+`}`), nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				q = ms[0]
			}
			got, ok, err := queryString(q)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && (got != tt.want || ok != tt.ok) {
				t.Fatalf("queryString = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

// TestTargetMemo: the first valid origin is remembered and answered from
// the memo; other origins, and invalid ones, still parse (or fail) as
// parseTarget does, and never replace it.
func TestTargetMemo(t *testing.T) {
	var m targetMemo
	if _, err := m.parse("ftp://x"); err == nil {
		t.Fatal("ftp origin accepted")
	}
	if m.first.Load() != nil {
		t.Fatal("an invalid origin was remembered")
	}
	a, err := m.parse("http://a.example:8080")
	if err != nil || a.Host != "a.example:8080" {
		t.Fatalf("parse a: %v %v", a, err)
	}
	b, err := m.parse("https://b.example")
	if err != nil || b.Host != "b.example" {
		t.Fatalf("parse b: %v %v", b, err)
	}
	if e := m.first.Load(); e == nil || e.raw != "http://a.example:8080" || e.u != a {
		t.Fatalf("memo holds %+v, want the first origin", e)
	}
	if got, _ := m.parse("http://a.example:8080"); got != a {
		t.Error("the first origin was parsed again")
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = m.parse("http://a.example:8080") }); n != 0 {
		t.Errorf("a remembered origin: %.0f allocations", n)
	}
	if _, err := (*targetMemo)(nil).parse("http://c.example"); err != nil {
		t.Errorf("nil memo: %v", err)
	}
}

// TestAppendJoinPath: the upstream path proxy-request builds in one
// buffer is the one joining base, prefix and path two at a time gives
// (refJoinPath, FLAT's rule: exactly one slash between pieces).
func TestAppendJoinPath(t *testing.T) {
	refJoinPath := func(a, b string) string {
		switch {
		case a == "":
			return b
		case b == "":
			return a
		case strings.HasSuffix(a, "/") && strings.HasPrefix(b, "/"):
			return a + b[1:]
		case !strings.HasSuffix(a, "/") && !strings.HasPrefix(b, "/"):
			return a + "/" + b
		}
		return a + b
	}
	pieces := []string{"", "/", "//", "v2", "/v2", "v2/", "/v2/", "/a/b"}
	for _, base := range pieces {
		for _, prefix := range pieces {
			for _, path := range pieces {
				want := refJoinPath(base, refJoinPath(prefix, path))
				p0, p1, p2 := joinParts(prefix, path)
				if got := string(appendJoinPath([]byte("x"), base, p0, p1, p2)); got != "x"+want {
					t.Errorf("base %q, prefix %q, path %q: %q, want %q", base, prefix, path, got, "x"+want)
				}
			}
		}
	}
}
