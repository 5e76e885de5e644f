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

// TestConfigSettings: conf/config.xml's validation, cors and ldap
// settings reach Definition.Config for the packages that enforce them.
func TestConfigSettings(t *testing.T) {
	d, errs := Load(writeProject(t, map[string]string{
		"swagger.yaml":    "swagger: \"2.0\"\npaths: {}\n",
		"conf/config.xml": "<config><flat>\n  <validation request=\"true\" response=\"report-only\"/>\n  <cors allowed-origins=\"http://localhost:9002\" allow-credentials=\"true\"/>\n  <ldap cacert-src=\"ca.pem\" timeout=\"3\"/>\n</flat></config>",
	}))
	if d == nil || len(errs) > 0 {
		t.Fatal(errs)
	}
	c := d.Config
	if c.Validation == nil || c.Validation.Request != "true" || c.Validation.Response != "report-only" || c.Validation.At.Line != 2 {
		t.Errorf("validation: %+v", c.Validation)
	}
	if c.CORS == nil || c.CORS.AllowedOrigins != "http://localhost:9002" || c.CORS.AllowCredentials != "true" {
		t.Errorf("cors: %+v", c.CORS)
	}
	if c.LDAP == nil || c.LDAP.CACertSrc != "ca.pem" || c.LDAP.Timeout != "3" {
		t.Errorf("ldap: %+v", c.LDAP)
	}
}
