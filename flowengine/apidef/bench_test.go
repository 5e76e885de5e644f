package apidef

import (
	"fmt"
	"strings"
	"testing"
)

// benchDef is a definition of realistic size: 60 exact, 40 templated and 10
// wildcard paths below /api/v1.
func benchDef(t testing.TB) *Definition {
	t.Helper()
	var b strings.Builder
	b.WriteString("swagger: \"2.0\"\nbasePath: /api/v1\npaths:\n")
	for i := range 60 {
		fmt.Fprintf(&b, "  /res%d/list:\n    get:\n    post:\n", i)
	}
	b.WriteString("  /users:\n    get:\n")
	for i := range 39 {
		fmt.Fprintf(&b, "  /res%d/{id}/items/{item}:\n    get:\n", i)
	}
	b.WriteString("  /users/{uid}/orders/{oid}:\n    get:\n")
	for i := range 9 {
		fmt.Fprintf(&b, "  /files%d/**:\n", i)
	}
	b.WriteString("  /static/**:\n")
	return mustLoad(t, writeProject(t, map[string]string{"swagger.yaml": b.String()}))
}

func benchMatch(b *testing.B, method, path, want string) {
	d := benchDef(b)
	if m := d.Match(method, path); m.Kind != Matched || m.Path.Pattern != want {
		b.Fatalf("%s: %+v", path, m)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		d.Match(method, path)
	}
}

func BenchmarkMatchExact(b *testing.B) {
	benchMatch(b, "GET", "/api/v1/users", "/users")
}

func BenchmarkMatchTemplated(b *testing.B) {
	benchMatch(b, "GET", "/api/v1/users/42/orders/7", "/users/{uid}/orders/{oid}")
}

func BenchmarkMatchWildcard(b *testing.B) {
	benchMatch(b, "GET", "/api/v1/static/css/site.css", "/static/**")
}
