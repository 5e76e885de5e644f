package apidef

import (
	"reflect"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/diag"
)

func TestPathSecurity(t *testing.T) {
	tests := []struct {
		name    string
		version string
		path    string // YAML of the path item, indented by 4
		want    *Security
		wantErr string
	}{
		{name: "none", version: `swagger: "2.0"`, path: "    get: {}\n"},
		{name: "alternatives with scopes", version: `swagger: "2.0"`,
			path: "    security:\n      - A: []\n      - B: [read, write]\n    get: {}\n",
			want: &Security{Requirements: []SecurityRequirement{{"A": {}}, {"B": {"read", "write"}}}}},
		{name: "and-requirement", version: `swagger: "2.0"`,
			path: "    security:\n      - {A: [], B: [x]}\n",
			want: &Security{Requirements: []SecurityRequirement{{"A": {}, "B": {"x"}}}}},
		{name: "explicitly empty", version: `swagger: "2.0"`,
			path: "    security: []\n",
			want: &Security{Requirements: []SecurityRequirement{}}},
		// FLAT itself reads only Swagger 2.0; OpenAPI 3 forbids the
		// extra key and kin-openapi reports it.
		{name: "openapi 3 rejects it", version: `openapi: "3.0.3"`,
			path:    "    security:\n      - A: []\n    get: {responses: {'200': {description: ok}}}\n",
			wantErr: "extra sibling fields: [security]"},
		{name: "not a list", version: `swagger: "2.0"`, path: "    security: {A: []}\n", wantErr: "must be a list"},
		{name: "item not an object", version: `swagger: "2.0"`, path: "    security: [A]\n", wantErr: "must be an object"},
		{name: "scopes not a list", version: `swagger: "2.0"`, path: "    security: [{A: read}]\n", wantErr: "must be a list of strings"},
		{name: "scope not a string", version: `swagger: "2.0"`, path: "    security: [{A: [[x]]}]\n", wantErr: "must be a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.version + "\ninfo: {title: t, version: '1'}\npaths:\n  /foo:\n" + tt.path
			dir := writeProject(t, map[string]string{"swagger.yaml": src})
			d, errs := Load(dir)
			if tt.wantErr != "" {
				if len(errs) == 0 || errs[0].Code != diag.BadDefinition || !strings.Contains(errs[0].Msg, tt.wantErr) {
					t.Fatalf("errors = %v, want FP101 %q", errs, tt.wantErr)
				}
				return
			}
			if len(errs) > 0 {
				t.Fatalf("Load: %v", errs)
			}
			got := d.Paths[0].Security
			if got != nil {
				if got.At.Line != 5 || got.At.File != d.File {
					t.Errorf("At = %+v, want line 5 of %s", got.At, d.File)
				}
				got.At = Pos{}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Security = %#v, want %#v", got, tt.want)
			}
		})
	}
}
