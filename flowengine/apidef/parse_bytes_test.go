package apidef

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name, src string
		wantErr   string // substring of the diagnostics ("" = must load)
	}{
		{name: "openapi 3", src: "openapi: 3.0.3\ninfo: {title: t, version: '1'}\nservers: [{url: /v1}]\npaths:\n  /a/{id}:\n    get:\n      parameters: [{name: id, in: path, required: true, schema: {type: string}}]\n      responses: {'200': {description: ok}}\n"},
		{name: "external ref", src: "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      responses: {'200': {$ref: 'other.yaml#/r'}}\n", wantErr: "cannot reference other files"},
		{name: "flow reference", src: "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    x-flat-flow: flow.xml\n    get:\n      responses: {'200': {description: ok}}\n", wantErr: "cannot reference files"},
		{name: "not yaml", src: "paths: [\n", wantErr: "invalid YAML"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, errs := Parse("mem.yaml", []byte(c.src))
			if c.wantErr != "" {
				if !strings.Contains(errs.Error(), c.wantErr) {
					t.Fatalf("errors %v, want %q", errs, c.wantErr)
				}
				return
			}
			if len(errs) > 0 || d == nil || d.Doc == nil {
				t.Fatalf("Parse: %v", errs)
			}
			if d.BasePath != "/v1" {
				t.Errorf("BasePath %q, want /v1", d.BasePath)
			}
			if m := d.Match("GET", "/v1/a/7"); m.Kind != Matched || len(m.Params) != 1 || m.Params[0].Value != "7" {
				t.Errorf("Match = %+v", m)
			}
		})
	}
}

// FuzzParse checks that Parse never panics, never reads files and reports
// complete diagnostics.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a/{id}:\n    get:\n      responses: {'200': {description: ok}}\n",
		"openapi: 3.0.3\npaths:\n  /a:\n    get:\n      responses: {'200': {$ref: '/etc/passwd#/x'}}\n",
		"swagger: '2.0'\npaths:\n  /a:\n    x-flat-flow: ../../flow.xml\n", "a: &a [*a]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, errs := Parse("mem.yaml", data)
		for _, e := range errs {
			if e.Code == "" || e.Msg == "" {
				t.Fatalf("incomplete diagnostic %+v", e)
			}
		}
		if d != nil && len(errs) == 0 && d.Flows() != nil {
			t.Fatalf("a parsed definition references files: %v", d.Flows())
		}
	})
}
