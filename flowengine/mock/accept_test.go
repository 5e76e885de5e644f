package mock

import (
	"slices"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

func TestCandidates(t *testing.T) {
	content := openapi3.Content{}
	for _, k := range []string{"text/plain", "application/xml", "application/json", "application/hal+json"} {
		content[k] = openapi3.NewMediaType()
	}
	cases := []struct {
		accept string
		want   []string
	}{
		{"", []string{"application/json", "application/hal+json", "application/xml", "text/plain"}},
		{"*", []string{"application/json", "application/hal+json", "application/xml", "text/plain"}},
		{"text/plain, application/xml", []string{"text/plain", "application/xml"}},
		{"application/xml;q=0.1, text/*;q=0.5", []string{"text/plain", "application/xml"}},
		{"application/*;q=0.5, application/xml", []string{"application/xml", "application/json", "application/hal+json"}},
		{"*/*, application/json;q=0, text/plain;q=0", []string{"application/hal+json", "application/xml"}},
		{"TEXT/PLAIN", []string{"text/plain"}},
		{"image/png", nil},
		{"garbage, ;;, */x, text/plain;q=2", nil},
		{"text/plain;q=abc, application/xml", []string{"application/xml"}},
	}
	for _, c := range cases {
		var got []string
		for _, cand := range candidates(content, c.accept) {
			got = append(got, cand.typ)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("candidates(%q) = %q, want %q", c.accept, got, c.want)
		}
	}
}

// FuzzAccept: no Accept header makes candidate selection panic, and every
// candidate is a content key that is not excluded.
func FuzzAccept(f *testing.F) {
	for _, s := range []string{"", "*/*", "application/json;q=0.5, text/*", "a/b;q=0,*/*;q=1", "*/x", ";q=1"} {
		f.Add(s)
	}
	content := openapi3.Content{"application/json": openapi3.NewMediaType(), "text/plain": openapi3.NewMediaType(), "*/*": openapi3.NewMediaType()}
	f.Fuzz(func(t *testing.T, accept string) {
		for _, c := range candidates(content, accept) {
			if content[c.key] == nil || c.typ == "" {
				t.Fatalf("bad candidate %+v for %q", c, accept)
			}
		}
	})
}
