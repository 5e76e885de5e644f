package oasvalidate

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// Info strings follow FLAT's (the PHP json-schema wording FLAT shows):
//
//	<Constraint> constraint violated in <location>[ for <property>]: <message>.
//
// location is path, query, header, cookie, body or (Swagger 2.0) formData;
// property is the parameter name or the dotted path to the value inside
// the body ("items[0].url"), absent for the body itself.

// maxDepth bounds the unwrapping of nested schema errors.
const maxDepth = 256

// maxValue bounds how much of an offending value an info string quotes.
const maxValue = 120

func asErr[T any](err error, target *T) bool { return errors.As(err, target) }

// mediaType returns the lower-case media type of a Content-Type ("" when
// it does not parse).
func mediaType(ct string) string {
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ""
	}
	return mt
}

// isForm reports whether mt is a form body (Swagger 2.0 formData).
func isForm(mt string) bool {
	return mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data"
}

// appendInfos appends the info strings of a kin-openapi validation error.
func appendInfos(out []string, err error, v2 bool, reqMT string) []string {
	var me openapi3.MultiError
	if errors.As(err, &me) && isMulti(err) {
		for _, e := range me {
			out = appendInfos(out, e, v2, reqMT)
		}
		return out
	}
	var re *openapi3filter.RequestError
	if errors.As(err, &re) {
		return appendRequestError(out, re, v2, reqMT)
	}
	var rsp *openapi3filter.ResponseError
	if errors.As(err, &rsp) {
		return appendResponseError(out, rsp)
	}
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		return appendSchema(out, "body", "", err)
	}
	return append(out, sentence(firstLine(err.Error())))
}

// isMulti reports whether err itself (not a wrapped cause) is a MultiError.
func isMulti(err error) bool {
	_, ok := err.(openapi3.MultiError)
	return ok
}

func appendRequestError(out []string, re *openapi3filter.RequestError, v2 bool, reqMT string) []string {
	if p := re.Parameter; p != nil {
		var pe *openapi3filter.ParseError
		switch {
		case errors.Is(re.Err, openapi3filter.ErrInvalidRequired) || strings.HasSuffix(errText(re.Err), "is required, but missing"):
			return append(out, info("Required", p.In, p.Name, "The property "+p.Name+" is required"))
		case errors.Is(re.Err, openapi3filter.ErrInvalidEmptyValue):
			return append(out, info("Required", p.In, p.Name, "The property "+p.Name+" must not be empty"))
		case errors.As(re.Err, &pe):
			return append(out, parseInfo(pe, p))
		case hasSchemaError(re.Err):
			return appendSchema(out, p.In, p.Name, re.Err)
		}
		return append(out, info("Schema", p.In, p.Name, "Invalid value: "+firstLine(errText(re.Err))))
	}
	loc := "body"
	if v2 && isForm(reqMT) {
		loc = "formData"
	}
	switch {
	case errors.Is(re.Err, openapi3filter.ErrInvalidRequired):
		return append(out, info("Required", "body", "", "The request body is required"))
	case strings.HasPrefix(re.Reason, "header Content-Type has unexpected value"):
		return append(out, contentTypeInfo(re.Input.Request.Header.Get("Content-Type"), allowed(re.RequestBody.Content)))
	case re.Reason == "failed to decode request body":
		return append(out, decodeInfo(loc, re.Err))
	case hasSchemaError(re.Err):
		return appendSchema(out, loc, "", re.Err)
	}
	return append(out, sentence("Invalid request: "+firstLine(re.Error())))
}

func appendResponseError(out []string, re *openapi3filter.ResponseError) []string {
	switch {
	case strings.HasPrefix(re.Reason, "response header Content-Type has unexpected value"):
		ct := re.Input.Header.Get("Content-Type")
		var allowedTypes []string
		if resp := responseFor(re.Input); resp != nil {
			allowedTypes = allowed(resp.Content)
		}
		return append(out, contentTypeInfo(ct, allowedTypes))
	case re.Reason == "failed to decode response body":
		return append(out, decodeInfo("body", re.Err))
	case strings.HasPrefix(re.Reason, "unable to decode header "):
		name := strings.ToLower(quoted(re.Reason))
		var pe *openapi3filter.ParseError
		if errors.As(re.Err, &pe) {
			leaf := leafParseError(pe)
			return append(out, info("Type", "header", name, quoteValue(str(leaf.Value))+" is "+leaf.Reason))
		}
		return append(out, info("Type", "header", name, "Invalid value: "+firstLine(errText(re.Err))))
	case strings.HasPrefix(re.Reason, "response header "):
		name := quoted(re.Reason)
		if strings.HasSuffix(re.Reason, " missing") {
			return append(out, info("Required", "header", strings.ToLower(name), "The property "+strings.ToLower(name)+" is required"))
		}
		if hasSchemaError(re.Err) {
			return appendSchema(out, "header", strings.ToLower(name), re.Err)
		}
		return append(out, info("Schema", "header", strings.ToLower(name), "Invalid value: "+firstLine(errText(re.Err))))
	case hasSchemaError(re.Err):
		return appendSchema(out, "body", "", re.Err)
	}
	return append(out, sentence("Invalid response: "+firstLine(re.Error())))
}

// responseFor returns the response definition the input's status selects.
func responseFor(in *openapi3filter.ResponseValidationInput) *openapi3.Response {
	if in == nil || in.RequestValidationInput == nil || in.RequestValidationInput.Route == nil {
		return nil
	}
	rs := in.RequestValidationInput.Route.Operation.Responses
	if rs == nil {
		return nil
	}
	r := rs.Status(in.Status)
	if r == nil {
		r = rs.Default()
	}
	if r == nil {
		return nil
	}
	return r.Value
}

func contentTypeInfo(ct string, allowedTypes []string) string {
	if ct == "" {
		return fmt.Sprintf("Missing content type (allowed: %s).", strings.Join(allowedTypes, ", "))
	}
	return fmt.Sprintf("Invalid content type %s (allowed: %s).", quoteValue(ct), strings.Join(allowedTypes, ", "))
}

// allowed lists the media types of content, sorted.
func allowed(c openapi3.Content) []string {
	out := make([]string, 0, len(c))
	for mt := range c {
		out = append(out, mt)
	}
	sort.Strings(out)
	return out
}

// decodeInfo describes a body that could not be decoded.
func decodeInfo(loc string, err error) string {
	msg := firstLine(errText(err))
	var pe *openapi3filter.ParseError
	if errors.As(err, &pe) && pe.Kind == openapi3filter.KindUnsupportedFormat {
		return sentence("Unsupported content type in " + loc + ": its schema cannot be checked")
	}
	if pe != nil {
		leaf := leafParseError(pe)
		if path := pe.Path(); len(path) > 0 && leaf.Kind == openapi3filter.KindInvalidFormat {
			keys := make([]string, len(path))
			for i, k := range path {
				keys[i] = fmt.Sprint(k)
			}
			return info("Type", loc, propPath("", keys), quoteValue(str(leaf.Value))+" is "+leaf.Reason)
		}
	}
	if strings.Contains(msg, "unsupported content type") {
		return sentence("Unsupported content type in " + loc + ": its schema cannot be checked")
	}
	return sentence("Syntax error in " + loc + ": " + msg)
}

// leafParseError returns the innermost ParseError of pe's causes.
func leafParseError(pe *openapi3filter.ParseError) *openapi3filter.ParseError {
	for depth := 0; depth < 64; depth++ {
		var inner *openapi3filter.ParseError
		if pe.Cause == nil || !errors.As(pe.Cause, &inner) {
			break
		}
		pe = inner
	}
	return pe
}

// parseInfo describes a parameter value that does not parse as its
// schema's type: the offending (item) value, named by its position inside
// the parameter (ids[1]).
func parseInfo(pe *openapi3filter.ParseError, p *openapi3.Parameter) string {
	leaf := leafParseError(pe)
	var keys []string
	for _, k := range pe.Path() {
		keys = append(keys, fmt.Sprint(k))
	}
	prop := propPath(p.Name, keys)
	if s, ok := leaf.Value.(string); ok && leaf.Reason != "" {
		return info("Type", p.In, prop, quoteValue(s)+" is "+leaf.Reason)
	}
	if p.Schema != nil && p.Schema.Value != nil {
		if want := expected(p.Schema.Value); want != "" {
			return info("Type", p.In, prop, "String value found, but "+want+" is required")
		}
	}
	return info("Type", p.In, prop, "Invalid value: "+firstLine(pe.Error()))
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func hasSchemaError(err error) bool {
	var se *openapi3.SchemaError
	return errors.As(err, &se)
}

// info formats one info string.
func info(constraint, loc, prop, msg string) string {
	var b strings.Builder
	b.WriteString(constraint)
	b.WriteString(" constraint violated in ")
	b.WriteString(loc)
	if prop != "" {
		b.WriteString(" for ")
		b.WriteString(prop)
	}
	b.WriteString(": ")
	b.WriteString(msg)
	return sentence(b.String())
}

// sentence ends s with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// quoted returns the first Go-quoted string in s ("" when none).
func quoted(s string) string {
	i := strings.IndexByte(s, '"')
	if i < 0 {
		return ""
	}
	q, err := strconv.QuotedPrefix(s[i:])
	if err != nil {
		return ""
	}
	u, err := strconv.Unquote(q)
	if err != nil {
		return ""
	}
	return u
}

// appendSchema appends one info string per leaf schema violation in err.
// base is the parameter name (or "" for a body).
func appendSchema(out []string, loc, base string, err error) []string {
	found := leaves(nil, err, 0)
	if len(found) == 0 { // never let a violation pass without an info
		return append(out, info("Schema", loc, base, "Does not match the schema"))
	}
	// Ordered by the value's position, then text: the same for every run
	// (the 2020-12 validator reports in map order).
	type item struct{ ptr, text string }
	items := make([]item, len(found))
	for i, se := range found {
		items[i] = item{strings.Join(se.JSONPointer(), "\x00"), schemaInfo(loc, base, se)}
	}
	sort.Slice(items, func(i, j int) bool {
		if items[i].ptr != items[j].ptr {
			return items[i].ptr < items[j].ptr
		}
		return items[i].text < items[j].text
	})
	for i, it := range items {
		if i > 0 && it == items[i-1] {
			continue // the same violation reached twice
		}
		out = append(out, it.text)
	}
	return out
}

// leaves collects the innermost schema errors: the causes of wrapper errors
// (allOf, $ref, properties of JSON Schema 2020-12), but oneOf, anyOf and
// not as themselves (their alternatives all failed or one matched).
func leaves(out []*openapi3.SchemaError, err error, depth int) []*openapi3.SchemaError {
	if err == nil {
		return out
	}
	if depth > maxDepth {
		// Too deep to unwrap: report the error where it is (never drop it).
		var se *openapi3.SchemaError
		if errors.As(err, &se) {
			out = append(out, se)
		}
		return out
	}
	if me, ok := err.(openapi3.MultiError); ok {
		for _, e := range me {
			out = leaves(out, e, depth+1)
		}
		return out
	}
	var se *openapi3.SchemaError
	if !errors.As(err, &se) {
		return out
	}
	switch se.SchemaField {
	case "oneOf", "anyOf", "not", "format", "discriminator":
		return append(out, se)
	}
	if se.Origin != nil && hasSchemaError(se.Origin) {
		before := len(out)
		var me openapi3.MultiError
		if errors.As(se.Origin, &me) {
			out = leaves(out, me, depth+1)
		} else {
			var inner *openapi3.SchemaError
			errors.As(se.Origin, &inner)
			if inner != se {
				out = leaves(out, inner, depth+1)
			}
		}
		if len(out) > before {
			return out
		}
	}
	return append(out, se)
}

// propPath renders a JSON pointer as a dotted property path.
func propPath(base string, ptr []string) string {
	var b strings.Builder
	b.WriteString(base)
	for _, k := range ptr {
		if isIndex(k) {
			b.WriteString("[" + k + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(k)
	}
	return b.String()
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// schemaInfo formats one schema violation.
func schemaInfo(loc, base string, se *openapi3.SchemaError) string {
	ptr := se.JSONPointer()
	s := se.Schema
	if s == nil {
		s = &openapi3.Schema{}
	}
	field := se.SchemaField
	switch field {
	case "required":
		obj, _ := se.Value.(map[string]any)
		var missing []string
		for _, r := range s.Required {
			if _, ok := obj[r]; !ok {
				missing = append(missing, r)
			}
		}
		if n := len(ptr); n > 0 && contains(missing, ptr[n-1]) {
			// OpenAPI 3.0 validator: one error per property, path ends with it.
			return info("Required", loc, propPath(base, ptr[:n-1]), "The property "+ptr[n-1]+" is required")
		}
		return info("Required", loc, propPath(base, ptr), "The property "+strings.Join(missing, ", ")+" is required")
	case "properties", "additionalProperties", "unevaluatedProperties", "false":
		name := quoted(se.Reason)
		if name == "" || field != "properties" {
			name = strings.Join(extraProps(se.Value, s), ", ")
		}
		if field == "false" && name == "" {
			return info("Schema", loc, propPath(base, ptr), "No value is allowed here")
		}
		return info("AdditionalProperties", loc, propPath(base, ptr), "The property "+name+" is not defined and the definition does not allow additional properties")
	case "readOnly", "writeOnly":
		n := len(ptr)
		if n == 0 {
			return info(upper(field), loc, base, "The value is "+field)
		}
		what := "read-only and must not be sent in a request"
		if field == "writeOnly" {
			what = "write-only and must not be sent in a response"
		}
		return info(upper(field), loc, propPath(base, ptr[:n-1]), "The property "+ptr[n-1]+" is "+what)
	}
	prop := propPath(base, ptr)
	constraint, msg := schemaMessage(field, s, se)
	return info(constraint, loc, prop, msg)
}

// schemaMessage returns the constraint name and message of a leaf error.
func schemaMessage(field string, s *openapi3.Schema, se *openapi3.SchemaError) (string, string) {
	v := se.Value
	switch field {
	case "type", "nullable":
		if want := expected(s); want != "" {
			return "Type", found(v) + " value found, but " + want + " is required"
		}
		return "Type", found(v) + " value found, but the value is of another type"
	case "pattern":
		return "Pattern", quoteValue(str(v)) + " does not match the pattern " + quoteValue(s.Pattern)
	case "enum":
		return "Enum", "Does not have a value in the enumeration " + jsonText(s.Enum)
	case "const":
		return "Const", "Does not have a value equal to " + jsonText(s.Const)
	case "minimum", "exclusiveMinimum":
		if s.ExclusiveMin.Value != nil {
			return "Minimum", "Must have a minimum value greater than " + num(*s.ExclusiveMin.Value)
		}
		if s.Min != nil {
			if s.ExclusiveMin.IsTrue() {
				return "Minimum", "Must have a minimum value greater than " + num(*s.Min)
			}
			return "Minimum", "Must have a minimum value of " + num(*s.Min)
		}
	case "maximum", "exclusiveMaximum":
		if s.ExclusiveMax.Value != nil {
			return "Maximum", "Must have a maximum value less than " + num(*s.ExclusiveMax.Value)
		}
		if s.Max != nil {
			if s.ExclusiveMax.IsTrue() {
				return "Maximum", "Must have a maximum value less than " + num(*s.Max)
			}
			return "Maximum", "Must have a maximum value of " + num(*s.Max)
		}
	case "minLength":
		return "MinLength", fmt.Sprintf("Must be at least %d characters long", s.MinLength)
	case "maxLength":
		if s.MaxLength != nil {
			return "MaxLength", fmt.Sprintf("Must be at most %d characters long", *s.MaxLength)
		}
	case "minItems":
		return "MinItems", fmt.Sprintf("There must be a minimum of %d items in the array", s.MinItems)
	case "maxItems":
		if s.MaxItems != nil {
			return "MaxItems", fmt.Sprintf("There must be a maximum of %d items in the array", *s.MaxItems)
		}
	case "uniqueItems":
		return "UniqueItems", "There are no duplicates allowed in the array"
	case "minProperties":
		return "MinProperties", fmt.Sprintf("Must contain a minimum of %d properties", s.MinProps)
	case "maxProperties":
		if s.MaxProps != nil {
			return "MaxProperties", fmt.Sprintf("Must contain no more than %d properties", *s.MaxProps)
		}
	case "multipleOf":
		if s.MultipleOf != nil {
			return "MultipleOf", "Must be a multiple of " + num(*s.MultipleOf)
		}
	case "format":
		return "Format", "Invalid " + s.Format + " " + quoteValue(str(v))
	case "oneOf":
		return "OneOf", "Failed to match exactly one schema"
	case "anyOf":
		return "AnyOf", "Failed to match at least one schema"
	case "allOf":
		return "AllOf", "Failed to match all schemas"
	case "not":
		return "Not", "Matched a schema which it should not"
	case "discriminator":
		return "Discriminator", upperFirst(firstLine(se.Reason))
	case "boolean":
		return "Schema", "No value is allowed here"
	}
	if field == "" {
		field = "schema"
	}
	return upper(field), "Does not match the schema"
}

// expected names the types a schema allows, with articles ("an integer",
// "a string or a null").
func expected(s *openapi3.Schema) string {
	if s == nil || s.Type == nil {
		return ""
	}
	var parts []string
	for _, t := range s.Type.Slice() {
		switch t {
		case "integer", "object", "array":
			parts = append(parts, "an "+t)
		default:
			parts = append(parts, "a "+t)
		}
	}
	if s.Nullable && !s.Type.Includes("null") {
		parts = append(parts, "a null")
	}
	return strings.Join(parts, " or ")
}

// found names the JSON type of v ("String", "Object", "NULL", …).
func found(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return "String"
	case bool:
		return "Boolean"
	case float64:
		if x == math.Trunc(x) && !math.IsInf(x, 0) {
			return "Integer"
		}
		return "Number"
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return "Integer"
		}
		return "Number"
	case int, int32, int64:
		return "Integer"
	case []any:
		return "Array"
	case map[string]any:
		return "Object"
	}
	return "Unknown"
}

// extraProps lists the properties of v that s does not define, sorted.
func extraProps(v any, s *openapi3.Schema) []string {
	obj, _ := v.(map[string]any)
	var out []string
	for k := range obj {
		if _, ok := s.Properties[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// str renders v as text: a string as itself, anything else as JSON.
func str(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return jsonText(v)
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// quoteValue puts s in single quotes, shortened to maxValue bytes (on a
// rune boundary) with "…".
func quoteValue(s string) string {
	if len(s) > maxValue {
		cut := maxValue
		for cut > 0 && !isRuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return "'" + s + "'"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// upper turns a keyword into a constraint name: "minLength" → "MinLength".
func upper(s string) string { return upperFirst(s) }

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
