package jwtauth

import (
	"testing"

	"github.com/flowproc/flowproc/flowengine"
)

func TestToken(t *testing.T) {
	h := func(kv ...string) []flowengine.Header {
		var out []flowengine.Header
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, flowengine.Header{Name: kv[i], Value: kv[i+1]})
		}
		return out
	}
	tests := []struct {
		name    string
		cookie  string
		headers []flowengine.Header
		tok     string
		msg     string
	}{
		{name: "bearer", headers: h("Authorization", "Bearer a.b.c"), tok: "a.b.c"},
		{name: "bearer, any case, extra spaces", headers: h("AUTHORIZATION", "  bEaReR   a.b.c "), tok: "a.b.c"},
		{name: "first Authorization header wins", headers: h("Authorization", "Bearer one", "Authorization", "Bearer two"), tok: "one"},
		{name: "no Authorization", headers: h("Accept", "*/*"), msg: "No Authorization header sent"},
		{name: "Basic", headers: h("Authorization", "Basic dTpw"), msg: "No Bearer token in Authorization header"},
		{name: "Bearer without token", headers: h("Authorization", "Bearer "), msg: "No Bearer token in Authorization header"},
		{name: "token without scheme", headers: h("Authorization", "a.b.c"), msg: "No Bearer token in Authorization header"},
		{name: "cookie", cookie: "authtoken", headers: h("Cookie", "a=1; authtoken=a.b.c; z=2"), tok: "a.b.c"},
		{name: "cookie quoted", cookie: "authtoken", headers: h("Cookie", `authtoken="a.b.c"`), tok: "a.b.c"},
		{name: "cookie name is case-sensitive", cookie: "authtoken", headers: h("Cookie", "AuthToken=a.b.c"), msg: "No authtoken cookie sent"},
		{name: "cookie prefix is not the cookie", cookie: "authtoken", headers: h("Cookie", "xauthtoken=a.b.c; authtoken2=x"), msg: "No authtoken cookie sent"},
		{name: "cookie split over headers", cookie: "authtoken", headers: h("cookie", "a=1", "cookie", "authtoken=a.b.c"), tok: "a.b.c"},
		{name: "first cookie of the name wins", cookie: "authtoken", headers: h("Cookie", "authtoken=one; authtoken=two"), tok: "one"},
		{name: "empty cookie", cookie: "authtoken", headers: h("Cookie", "authtoken="), msg: "Cookie authtoken is empty"},
		{name: "no Cookie header", cookie: "authtoken", headers: h("Authorization", "Bearer a.b.c"), msg: "No Cookie header sent"},
		{name: "valueless cookie parts", cookie: "authtoken", headers: h("Cookie", ";;flag; authtoken=t"), tok: "t"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, msg := location{cookie: tt.cookie}.token(tt.headers)
			if tok != tt.tok || msg != tt.msg {
				t.Fatalf("token = %q, %q; want %q, %q", tok, msg, tt.tok, tt.msg)
			}
		})
	}
}
