package mock

import (
	"reflect"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

func ptr[T any](v T) *T { return &v }

func TestGenerate(t *testing.T) {
	obj := openapi3.NewObjectSchema().
		WithProperty("b", openapi3.NewBoolSchema()).
		WithProperty("a", openapi3.NewInt64Schema())
	cases := []struct {
		name string
		s    *openapi3.Schema
		want any
	}{
		{"nil", nil, nil},
		{"string", openapi3.NewStringSchema(), "string"},
		{"string formats", openapi3.NewDateTimeSchema(), "1970-01-01T00:00:00Z"},
		{"unknown format", &openapi3.Schema{Type: &openapi3.Types{"string"}, Format: "zip"}, "string"},
		{"minLength pads", openapi3.NewStringSchema().WithMinLength(9), "stringxxx"},
		{"maxLength cuts", openapi3.NewStringSchema().WithMaxLength(2), "st"},
		{"integer", openapi3.NewIntegerSchema(), 0.0},
		{"integer minimum", openapi3.NewIntegerSchema().WithMin(2.5), 3.0},
		{"integer exclusive minimum (3.0)", &openapi3.Schema{Type: &openapi3.Types{"integer"}, Min: ptr(4.0), ExclusiveMin: openapi3.ExclusiveBound{Bool: ptr(true)}}, 5.0},
		{"integer exclusive minimum (3.1)", &openapi3.Schema{Type: &openapi3.Types{"integer"}, ExclusiveMin: openapi3.ExclusiveBound{Value: ptr(4.0)}}, 5.0},
		{"integer maximum below zero", openapi3.NewIntegerSchema().WithMax(-2.5), -3.0},
		{"number exclusive maximum", &openapi3.Schema{Type: &openapi3.Types{"number"}, Max: ptr(-1.0), ExclusiveMax: openapi3.ExclusiveBound{Bool: ptr(true)}}, -1.5},
		{"boolean", openapi3.NewBoolSchema(), true},
		{"null", &openapi3.Schema{Type: &openapi3.Types{"null"}}, nil},
		{"3.1 type list skips null", &openapi3.Schema{Type: &openapi3.Types{"null", "integer"}}, 0.0},
		{"untyped", &openapi3.Schema{}, nil},
		{"enum", openapi3.NewStringSchema().WithEnum("x", "y"), "x"},
		{"default", openapi3.NewStringSchema().WithDefault("d"), "d"},
		{"example beats default", &openapi3.Schema{Example: "e", Default: "d"}, "e"},
		{"3.1 examples", &openapi3.Schema{Examples: []any{"first", "second"}}, "first"},
		{"const", &openapi3.Schema{Const: 7.0, Example: 1.0}, 7.0},
		{"object", obj, map[string]any{"a": 0.0, "b": true}},
		{"untyped with properties is an object", &openapi3.Schema{Properties: obj.Properties}, map[string]any{"a": 0.0, "b": true}},
		{"writeOnly left out", openapi3.NewObjectSchema().WithProperty("pw", &openapi3.Schema{Type: &openapi3.Types{"string"}, WriteOnly: true}), map[string]any{}},
		{"array", openapi3.NewArraySchema().WithItems(openapi3.NewStringSchema()), []any{"string"}},
		{"array minItems", openapi3.NewArraySchema().WithItems(openapi3.NewBoolSchema()).WithMinItems(3), []any{true, true, true}},
		{"array maxItems 0", openapi3.NewArraySchema().WithItems(openapi3.NewBoolSchema()).WithMaxItems(0), []any{}},
		{"array minItems capped", openapi3.NewArraySchema().WithItems(openapi3.NewBoolSchema()).WithMinItems(1000), func() []any {
			out := make([]any, 16)
			for i := range out {
				out[i] = true
			}
			return out
		}()},
		{"array without items", openapi3.NewArraySchema(), []any{}},
		{"oneOf takes the first", &openapi3.Schema{OneOf: openapi3.SchemaRefs{openapi3.NewSchemaRef("", openapi3.NewBoolSchema()), openapi3.NewSchemaRef("", openapi3.NewStringSchema())}}, true},
		{"anyOf takes the first", &openapi3.Schema{AnyOf: openapi3.SchemaRefs{openapi3.NewSchemaRef("", openapi3.NewStringSchema())}}, "string"},
		{"allOf merges objects", &openapi3.Schema{AllOf: openapi3.SchemaRefs{
			openapi3.NewSchemaRef("", openapi3.NewObjectSchema().WithProperty("x", openapi3.NewBoolSchema())),
			openapi3.NewSchemaRef("", openapi3.NewObjectSchema().WithProperty("y", openapi3.NewStringSchema())),
		}}, map[string]any{"x": true, "y": "string"}},
		{"allOf of a scalar", &openapi3.Schema{AllOf: openapi3.SchemaRefs{openapi3.NewSchemaRef("", openapi3.NewStringSchema().WithMaxLength(3))}}, "str"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Generate(c.s); !reflect.DeepEqual(got, c.want) {
				t.Errorf("Generate = %#v, want %#v", got, c.want)
			}
		})
	}
}

// TestGenerateCycles: schemas that refer to themselves through properties,
// items, oneOf or allOf end.
func TestGenerateCycles(t *testing.T) {
	self := openapi3.NewObjectSchema()
	self.WithProperty("next", self)
	one := &openapi3.Schema{}
	one.OneOf = openapi3.SchemaRefs{openapi3.NewSchemaRef("", one)}
	all := &openapi3.Schema{}
	all.AllOf = openapi3.SchemaRefs{openapi3.NewSchemaRef("", all)}
	arr := openapi3.NewArraySchema()
	arr.Items = openapi3.NewSchemaRef("", arr)
	for name, s := range map[string]*openapi3.Schema{"property": self, "oneOf": one, "allOf": all, "items": arr} {
		t.Run(name, func(t *testing.T) {
			if a, b := Generate(s), Generate(s); !reflect.DeepEqual(a, b) {
				t.Errorf("not deterministic: %v vs %v", a, b)
			}
		})
	}
	v := Generate(self)
	depth := 0
	for m, ok := v.(map[string]any); ok && len(m) > 0; m, ok = m["next"].(map[string]any) {
		depth++
	}
	if depth != MaxDepth {
		t.Errorf("depth %d, want %d", depth, MaxDepth)
	}
}
