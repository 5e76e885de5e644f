package apidef

import "testing"

// TestDefinitionKeepsOpenAPIDoc: Load keeps kin-openapi's view of the
// definition (Swagger 2.0 converted to OpenAPI 3) for validation, JWT
// security and mocking.
func TestDefinitionKeepsOpenAPIDoc(t *testing.T) {
	for _, def := range []string{
		"swagger: \"2.0\"\npaths:\n  /a:\n    get:\n      parameters:\n      - {name: q, in: query, type: integer}\n",
		"openapi: 3.0.3\ninfo: {title: t, version: \"1\"}\npaths:\n  /a:\n    get:\n      parameters:\n      - {name: q, in: query, schema: {type: integer}}\n      responses: {\"200\": {description: ok}}\n",
	} {
		d, errs := Load(writeProject(t, map[string]string{"swagger.yaml": def}))
		if d == nil || len(errs) > 0 || d.Doc == nil {
			t.Fatalf("%v", errs)
		}
		op := d.Doc.Paths.Find("/a").Get
		if op == nil || len(op.Parameters) != 1 || op.Parameters[0].Value.Name != "q" {
			t.Fatalf("operation GET /a not kept: %+v", op)
		}
	}
}
