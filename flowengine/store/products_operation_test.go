package store

import "testing"

func TestAPIProductOperation(t *testing.T) {
	p := &APIProduct{Operations: []OperationConfig{
		{APISource: "other", Operations: []Operation{{Resource: "/**"}}},
		{APISource: "users", Operations: []Operation{{Resource: "/*/users", Methods: []string{"GET"}}}},
		{APISource: "users", Operations: []Operation{{Resource: "/*/users/*", Methods: []string{"GET", "PUT"}}}},
	}}
	cases := []struct {
		proxy, path, method, want string
	}{
		{"users", "/apikey/users", "GET", "/*/users"},
		{"users", "/apikey/users/12", "put", "/*/users/*"},
		{"users", "/apikey/users", "POST", ""},
		{"nobody", "/apikey/users", "GET", ""},
	}
	for _, c := range cases {
		op, ok := p.Operation(c.proxy, c.path, c.method)
		got := ""
		if ok {
			got = op.Resource
		}
		if got != c.want {
			t.Errorf("%s %s %s: %q, want %q", c.proxy, c.method, c.path, got, c.want)
		}
	}
	if _, ok := (&APIProduct{}).Operation("users", "/x", "GET"); ok {
		t.Error("a product without operation groups has no operation")
	}
}
