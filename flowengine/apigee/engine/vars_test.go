package engine

import (
	"context"
	"errors"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/cond"
)

func TestLookup(t *testing.T) {
	resp := NewResponse()
	resp.Status = 201
	resp.Headers = append(resp.Headers, hdr("Content-Type", "application/json"), hdr("Set-Cookie", "a=1"), hdr("Set-Cookie", "b=2"))
	r := TestRun(context.Background(), ProxyResponse, "POST", "/v1/things/7?a=1&b=x%20y&a=2", []byte("k=v&k2=v%202"), resp,
		"Accept", "text/html, application/json", "X-Forwarded-For", "1.1.1.1, 2.2.2.2", "Content-Type", "application/x-www-form-urlencoded")
	r.basePath, r.pathSuffix = "/v1", "/things/7"
	tests := []struct {
		name string
		want any // nil: absent
	}{
		{"request.verb", "POST"},
		{"request.path", "/v1/things/7"},
		{"request.uri", "/v1/things/7?a=1&b=x%20y&a=2"},
		{"request.url", "https://api.example.com/v1/things/7?a=1&b=x%20y&a=2"},
		{"request.querystring", "a=1&b=x%20y&a=2"},
		{"request.queryparam.a", "1"},
		{"request.queryparam.b", "x y"},
		{"request.queryparam.a.values.count", 2},
		{"request.queryparam.a.values", "[1, 2]"},
		{"request.queryparam.a.2", "2"},
		{"request.queryparam.zz", nil},
		{"request.queryparams.count", 3},
		{"request.queryparams.names", "[a, b]"},
		// Header names are case-insensitive; the plain form is the first
		// comma-separated value (Apigee's truncation).
		{"request.header.accept", "text/html"},
		{"request.header.ACCEPT.values.count", 2},
		{"request.header.accept.2", "application/json"},
		{"request.header.x-forwarded-for.values.string", "1.1.1.1, 2.2.2.2"},
		{"request.header.missing", nil},
		{"request.header.host", "api.example.com"},
		{"request.headers.count", 3},
		{"request.formparam.k2", "v 2"},
		{"request.formparams.count", 2},
		{"request.content", "k=v&k2=v%202"},
		{"response.status.code", 201},
		{"response.header.set-cookie.values.count", 2},
		{"response.header.content-type", "application/json"},
		{"response.reason.phrase", "Created"},
		{"message.status.code", 201},
		{"proxy.basepath", "/v1"},
		{"proxy.pathsuffix", "/things/7"},
		{"proxy.name", "default"},
		{"environment.name", "test"},
		{"organization.name", "local"},
		{"apiproxy.name", "test"},
		{"is.error", false},
		{"messageid", "test-request"},
		{"fault.name", nil},
		{"error.message", nil},
		{"target.copy.pathsuffix", true},
		{"no.such.variable", nil},
		{"request", r.Request},
	}
	for _, tc := range tests {
		got, ok := r.Lookup(tc.name)
		if tc.want == nil {
			if ok {
				t.Errorf("%s = %v, want absent", tc.name, got)
			}
			continue
		}
		if !ok || got != tc.want {
			t.Errorf("%s = %v (%v), want %v", tc.name, got, ok, tc.want)
		}
	}
	// LookupString agrees with Lookup on every variable, a string coming
	// unboxed.
	for _, tc := range tests {
		want, wantOK := r.Lookup(tc.name)
		s, isString, v, ok := r.LookupString(tc.name)
		got := v
		if isString {
			got = s
		}
		if ok != wantOK || got != want {
			t.Errorf("LookupString(%s) = %q, %v, %v, %v; Lookup = %v, %v", tc.name, s, isString, v, ok, want, wantOK)
		}
		if _, str := want.(string); str != isString {
			t.Errorf("LookupString(%s): isString %v for %T", tc.name, isString, want)
		}
	}
}

// TestLookupStringAllocatesNothing: the string variables conditions read
// most (proxy.pathsuffix, request.verb, a header) cost no allocation
// through LookupString, where Lookup boxes them.
func TestLookupStringAllocatesNothing(t *testing.T) {
	r := TestRun(context.Background(), ProxyRequest, "GET", "/v1/things/7", nil, nil, "Accept", "application/json")
	r.basePath, r.pathSuffix = "/v1", "/things/7"
	for _, name := range []string{"proxy.pathsuffix", "request.verb", "request.header.accept", "environment.name"} {
		if n := testing.AllocsPerRun(100, func() {
			if _, isString, _, ok := r.LookupString(name); !isString || !ok {
				t.Fatalf("LookupString(%s) not a string", name)
			}
		}); n != 0 {
			t.Errorf("LookupString(%s): %v allocations", name, n)
		}
	}
}

func TestSet(t *testing.T) {
	r := TestRun(context.Background(), ProxyRequest, "GET", "/p?a=1", nil, nil, "X-A", "1")
	for _, tc := range []struct {
		name  string
		value any
		read  string
		want  string
	}{
		{"request.header.x-b", "2", "request.header.X-B", "2"},
		{"request.header.x-a", "9", "request.header.x-a.values.count", "1"},
		{"request.queryparam.a", "3", "request.querystring", "a=3"},
		{"request.verb", "PUT", "request.verb", "PUT"},
		{"request.content", "hello", "request.content", "hello"},
		{"target.copy.queryparams", "false", "target.copy.queryparams", "false"},
		{"target.url", "http://x.example/y", "target.url", "http://x.example/y"},
		{"my.var", 42, "my.var", "42"},
		{"private.secret", "s", "private.secret", "s"},
	} {
		if err := r.Set(tc.name, tc.value); err != nil {
			t.Errorf("Set(%s): %v", tc.name, err)
			continue
		}
		if got, _ := r.Get(tc.read); got != tc.want {
			t.Errorf("after Set(%s): %s = %q, want %q", tc.name, tc.read, got, tc.want)
		}
	}
	for _, name := range []string{"proxy.pathsuffix", "environment.name", "is.error", "system.timestamp"} {
		if err := r.Set(name, "x"); !errors.Is(err, ErrReadOnly) {
			t.Errorf("Set(%s) = %v, want ErrReadOnly", name, err)
		}
	}
	// response.* does not exist in the request segment.
	if err := r.Set("response.header.x", "1"); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Set(response.header.x) in the request = %v", err)
	}
}

// TestConditionsOverVars runs conditions against the exchange view,
// including the string-versus-number coercion of data.request.limit
// (devrel-data-api: "99" > 100 compares as strings).
func TestConditionsOverVars(t *testing.T) {
	r := TestRun(context.Background(), ProxyRequest, "GET", "/v1/cats/tom?limit=99", nil, nil, "Accept", "application/json")
	r.basePath, r.pathSuffix = "/v1", "/cats/tom"
	r.Set("data.request.limit", "99")
	for src, want := range map[string]bool{
		`proxy.pathsuffix MatchesPath "/cats/*"`:                             true,
		`proxy.pathsuffix MatchesPath "/cats"`:                               false,
		`request.verb = "GET" and request.header.accept ~~ "application/.*"`: true,
		`request.queryparam.limit = 99`:                                      true,
		`data.request.limit > 100`:                                           true,
		`request.header.missing = null`:                                      true,
		`request.header.missing != null`:                                     false,
		`(request.verb = "POST") or !(proxy.pathsuffix ~/ "/dogs/**")`:       true,
	} {
		got, err := cond.MustParse(src).Eval(r)
		if err != nil || got != want {
			t.Errorf("%s = %v (%v), want %v", src, got, err, want)
		}
	}
}

func hdr(name, value string) (h struct{ Name, Value string }) {
	h.Name, h.Value = name, value
	return
}
