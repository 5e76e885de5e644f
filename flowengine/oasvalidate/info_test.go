package oasvalidate

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestSchemaInfo checks the FLAT wording of each schema keyword directly
// against kin-openapi's errors (OpenAPI 3.0 dialect).
func TestSchemaInfo(t *testing.T) {
	for _, c := range []struct {
		name, schema, value string
		want                []string
	}{
		{"type", `{"type":"object"}`, `"x"`, []string{"Type constraint violated in body: String value found, but an object is required."}},
		{"integer", `{"type":"integer"}`, `1.5`, []string{"Type constraint violated in body: Number value found, but an integer is required."}},
		{"null", `{"type":"string"}`, `null`, []string{"Type constraint violated in body: NULL value found, but a string is required."}},
		{"required (FLAT doc)", `{"properties":{"name":{"required":["userName"]}}}`, `{"name":{}}`, []string{"Required constraint violated in body for name: The property userName is required."}},
		{"pattern", `{"properties":{"a":{"type":"array","items":{"pattern":"^x"}}}}`, `{"a":["x","y"]}`, []string{"Pattern constraint violated in body for a[1]: 'y' does not match the pattern '^x'."}},
		{"enum", `{"enum":[1,"two"]}`, `3`, []string{`Enum constraint violated in body: Does not have a value in the enumeration [1,"two"].`}},
		{"exclusive minimum 3.0", `{"minimum":1,"exclusiveMinimum":true}`, `1`, []string{"Minimum constraint violated in body: Must have a minimum value greater than 1."}},
		{"maximum", `{"maximum":2.5}`, `3`, []string{"Maximum constraint violated in body: Must have a maximum value of 2.5."}},
		{"exclusive maximum 3.0", `{"maximum":2,"exclusiveMaximum":true}`, `2`, []string{"Maximum constraint violated in body: Must have a maximum value less than 2."}},
		{"maxLength", `{"maxLength":1}`, `"ab"`, []string{"MaxLength constraint violated in body: Must be at most 1 characters long."}},
		{"minItems", `{"minItems":2}`, `[1]`, []string{"MinItems constraint violated in body: There must be a minimum of 2 items in the array."}},
		{"minProperties", `{"minProperties":1}`, `{}`, []string{"MinProperties constraint violated in body: Must contain a minimum of 1 properties."}},
		{"maxProperties", `{"maxProperties":0}`, `{"a":1}`, []string{"MaxProperties constraint violated in body: Must contain no more than 0 properties."}},
		{"multipleOf", `{"multipleOf":3}`, `4`, []string{"MultipleOf constraint violated in body: Must be a multiple of 3."}},
		{"format", `{"type":"string","format":"date-time"}`, `"yesterday"`, []string{"Format constraint violated in body: Invalid date-time 'yesterday'."}},
		{"anyOf", `{"anyOf":[{"type":"string"},{"type":"boolean"}]}`, `1`, []string{"AnyOf constraint violated in body: Failed to match at least one schema."}},
		{"allOf unwrapped", `{"allOf":[{"minimum":5},{"maximum":1}]}`, `3`, []string{"Maximum constraint violated in body: Must have a maximum value of 1.", "Minimum constraint violated in body: Must have a minimum value of 5."}},
		{"not", `{"not":{"type":"string"}}`, `"s"`, []string{"Not constraint violated in body: Matched a schema which it should not."}},
		{"additional properties", `{"properties":{"a":{}},"additionalProperties":false}`, `{"a":1,"b":2}`, []string{"AdditionalProperties constraint violated in body: The property b is not defined and the definition does not allow additional properties."}},
		{"long value shortened", `{"pattern":"^x"}`, `"` + strings.Repeat("é", 100) + `"`, []string{"Pattern constraint violated in body: '" + strings.Repeat("é", 60) + "…' does not match the pattern '^x'."}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var s openapi3.Schema
			if err := json.Unmarshal([]byte(c.schema), &s); err != nil {
				t.Fatal(err)
			}
			var v any
			if err := json.Unmarshal([]byte(c.value), &v); err != nil {
				t.Fatal(err)
			}
			err := s.VisitJSON(v, openapi3.MultiErrors())
			if err == nil {
				t.Fatal("value is valid")
			}
			got := appendSchema(nil, "body", "", err)
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestInfoHelpers(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{propPath("", []string{"a", "0", "b"}), "a[0].b"},
		{propPath("ids", []string{"1"}), "ids[1]"},
		{propPath("", nil), ""},
		{sentence("x"), "x."},
		{sentence("x."), "x."},
		{firstLine("a\nb"), "a"},
		{quoted(`response header "X-A" missing`), "X-A"},
		{quoted(`no quote`), ""},
		{mediaType("Application/JSON; charset=utf-8"), "application/json"},
		{mediaType(";;"), ""},
		{found(json.Number("1")), "Integer"},
		{found(json.Number("1.5")), "Number"},
		{found(true), "Boolean"},
		{found([]any{}), "Array"},
		{found(struct{}{}), "Unknown"},
		{expected(&openapi3.Schema{Type: &openapi3.Types{"array"}, Nullable: true}), "an array or a null"},
		{expected(nil), ""},
		{str(map[string]any{"a": 1}), `{"a":1}`},
		{upper("readOnly"), "ReadOnly"},
		{info("Type", "query", "", "m"), "Type constraint violated in query: m."},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	// An error that is no schema error keeps its first line.
	if got := appendInfos(nil, errors.New("odd\nmore"), false, ""); len(got) != 1 || got[0] != "odd." {
		t.Errorf("plain error: %q", got)
	}
}
