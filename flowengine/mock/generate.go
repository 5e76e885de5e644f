package mock

import (
	"math"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Generate returns a deterministic value that fits schema s (see the
// package documentation for the rules). It returns nil for a nil schema.
func Generate(s *openapi3.Schema) any {
	return generate(s, 0)
}

func generate(s *openapi3.Schema, depth int) any {
	if s == nil || depth > MaxDepth {
		return nil // only oneOf/anyOf/allOf chains get here: objects and arrays stop at MaxDepth
	}
	switch {
	case s.Const != nil:
		return s.Const
	case s.Example != nil:
		return s.Example
	case len(s.Examples) > 0:
		return s.Examples[0]
	case s.Default != nil:
		return s.Default
	case len(s.Enum) > 0:
		return s.Enum[0]
	}
	if len(s.AllOf) > 0 {
		return allOf(s, depth)
	}
	for _, alts := range []openapi3.SchemaRefs{s.OneOf, s.AnyOf} {
		for _, alt := range alts {
			if alt != nil && alt.Value != nil {
				return generate(alt.Value, depth+1)
			}
		}
	}
	switch typeOf(s) {
	case openapi3.TypeObject:
		return object(s, depth)
	case openapi3.TypeArray:
		return array(s, depth)
	case openapi3.TypeString:
		return str(s)
	case openapi3.TypeInteger:
		return math.Round(number(s, true))
	case openapi3.TypeNumber:
		return number(s, false)
	case openapi3.TypeBoolean:
		return true
	}
	return nil
}

// typeOf returns the schema's type: the first non-null one listed, else
// object when it has properties, array when it has items, "" otherwise.
func typeOf(s *openapi3.Schema) string {
	if s.Type != nil {
		for _, t := range s.Type.Slice() {
			if t != openapi3.TypeNull {
				return t
			}
		}
	}
	switch {
	case len(s.Properties) > 0 || s.AdditionalProperties.Schema != nil:
		return openapi3.TypeObject
	case s.Items != nil:
		return openapi3.TypeArray
	}
	return ""
}

// allOf merges the objects generated for the parts (and s's own
// properties); a part that is not an object wins when nothing is merged.
func allOf(s *openapi3.Schema, depth int) any {
	merged := map[string]any{}
	var other any
	own := *s
	own.AllOf = nil
	var parts []*openapi3.Schema
	if typeOf(&own) != "" {
		parts = append(parts, &own)
	}
	for _, p := range s.AllOf {
		if p != nil && p.Value != nil {
			parts = append(parts, p.Value)
		}
	}
	for _, p := range parts {
		switch v := generate(p, depth+1).(type) {
		case map[string]any:
			for k, x := range v {
				merged[k] = x
			}
		default:
			if other == nil {
				other = v
			}
		}
	}
	if len(merged) == 0 && other != nil {
		return other
	}
	return merged
}

func object(s *openapi3.Schema, depth int) any {
	out := map[string]any{}
	if depth >= MaxDepth {
		return out
	}
	names := make([]string, 0, len(s.Properties))
	for name := range s.Properties {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		p := s.Properties[name]
		if p == nil || p.Value == nil || p.Value.WriteOnly {
			continue
		}
		out[name] = generate(p.Value, depth+1)
	}
	return out
}

func array(s *openapi3.Schema, depth int) any {
	n := max(1, s.MinItems)
	if s.MaxItems != nil {
		n = min(n, *s.MaxItems)
	}
	n = min(n, 16)
	out := make([]any, 0, n)
	if depth >= MaxDepth || s.Items == nil || s.Items.Value == nil {
		return out
	}
	item := generate(s.Items.Value, depth+1)
	for range n {
		out = append(out, item)
	}
	return out
}

// formats are the strings generated for string formats.
var formats = map[string]string{
	"date":      "1970-01-01",
	"date-time": "1970-01-01T00:00:00Z",
	"time":      "00:00:00Z",
	"email":     "user@example.com",
	"uuid":      "00000000-0000-0000-0000-000000000000",
	"uri":       "https://example.com/",
	"url":       "https://example.com/",
	"hostname":  "example.com",
	"ipv4":      "192.0.2.1",
	"ipv6":      "2001:db8::1",
	"byte":      "c3RyaW5n",
	"password":  "********",
}

func str(s *openapi3.Schema) string {
	v, ok := formats[s.Format]
	if !ok {
		v = "string"
	}
	minLen := int(min(s.MinLength, 1<<16))
	if n := len(v); n < minLen {
		v += strings.Repeat("x", minLen-n)
	}
	if s.MaxLength != nil && uint64(len(v)) > *s.MaxLength {
		v = v[:*s.MaxLength]
	}
	return v
}

// number returns 0 moved into [minimum, maximum].
func number(s *openapi3.Schema, integer bool) float64 {
	step := 1.0
	if !integer {
		step = 0.5
	}
	lo, hi := math.Inf(-1), math.Inf(1)
	if s.Min != nil {
		lo = *s.Min
		if s.ExclusiveMin.IsTrue() {
			lo += step
		}
	}
	if s.ExclusiveMin.Value != nil {
		lo = max(lo, *s.ExclusiveMin.Value+step)
	}
	if s.Max != nil {
		hi = *s.Max
		if s.ExclusiveMax.IsTrue() {
			hi -= step
		}
	}
	if s.ExclusiveMax.Value != nil {
		hi = min(hi, *s.ExclusiveMax.Value-step)
	}
	v := 0.0
	if v < lo {
		v = lo
		if integer {
			v = math.Ceil(lo)
		}
	}
	if v > hi {
		v = hi
		if integer {
			v = math.Floor(hi)
		}
	}
	return v
}
