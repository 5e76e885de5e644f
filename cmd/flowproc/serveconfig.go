package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v4"
)

// loadServeConfig reads the serve -config YAML in data (from file) into
// cfg, over the values cfg already holds. Keys are the json names of
// serveConfig's fields and match case-sensitively; an unknown key, a key
// given twice and a value of the wrong type are errors that start with
// "file:line:col:". Values convert as JSON does (YAML → JSON → struct),
// so a size or duration is a string.
func loadServeConfig(file string, data []byte, cfg *serveConfig) error {
	var doc yaml.Node
	if err := yaml.Load(data, &doc); err != nil {
		return yamlPosError(file, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil // an empty file changes nothing
		}
		root = root.Content[0]
	}
	if root.Kind == 0 || root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil
	}
	pos := map[string]*yaml.Node{}
	if err := checkKeys(file, root, reflect.TypeOf(*cfg), "", pos); err != nil {
		return err
	}
	var v any
	if err := root.Decode(&v); err != nil {
		return yamlPosError(file, err)
	}
	js, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if err := json.Unmarshal(js, cfg); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			n := root
			if p := pos[te.Field]; p != nil {
				n = p
			}
			return fmt.Errorf("%s:%d:%d: %s: want a %s, not a %s", file, n.Line, n.Column, te.Field, jsonKind(te.Type), te.Value)
		}
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}

// checkKeys checks every mapping key under n against the json field names
// of t (recursively), recording each value node by its dotted key path in
// pos.
func checkKeys(file string, n *yaml.Node, t reflect.Type, path string, pos map[string]*yaml.Node) error {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return nil
		}
		if n.Kind != yaml.MappingNode {
			return fmt.Errorf("%s:%d:%d: %s: want a mapping of keys (%s)", file, n.Line, n.Column, orTop(path), strings.Join(jsonNames(t), ", "))
		}
		fields := jsonFields(t)
		seen := map[string]*yaml.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if prev := seen[k.Value]; prev != nil {
				return fmt.Errorf("%s:%d:%d: key %q is given twice (first at line %d)", file, k.Line, k.Column, k.Value, prev.Line)
			}
			seen[k.Value] = k
			f, ok := fields[k.Value]
			if !ok {
				return unknownKey(file, k, path, t)
			}
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			pos[p] = v
			if err := checkKeys(file, v, f.Type, p, pos); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if n.Kind == yaml.SequenceNode {
			for _, e := range n.Content {
				if err := checkKeys(file, e, t.Elem(), path, pos); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// unknownKey is the error for key k, which t has no field for; a key that
// differs from a known one only in case says so.
func unknownKey(file string, k *yaml.Node, path string, t reflect.Type) error {
	names := jsonNames(t)
	for _, name := range names {
		if strings.EqualFold(name, k.Value) {
			return fmt.Errorf("%s:%d:%d: unknown key %q (keys are case-sensitive: did you mean %q?)", file, k.Line, k.Column, k.Value, name)
		}
	}
	where := ""
	if path != "" {
		where = " under " + path
	}
	return fmt.Errorf("%s:%d:%d: unknown key %q%s (known keys: %s)", file, k.Line, k.Column, k.Value, where, strings.Join(names, ", "))
}

// jsonFields maps the json names of t's exported fields to the fields.
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			// An embedded struct's fields are keys of the outer one, as
			// encoding/json promotes them (serveConfig embeds netConfig).
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f
	}
	return out
}

// jsonNames are the sorted json names of t's fields.
func jsonNames(t reflect.Type) []string {
	fields := jsonFields(t)
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// jsonKind names a Go type as a config value kind.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "boolean (true or false)"
	case reflect.String:
		return "string"
	case reflect.Slice:
		return "list"
	case reflect.Struct, reflect.Map:
		return "mapping"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint, reflect.Uint64, reflect.Uint32, reflect.Float64:
		return "number"
	}
	return t.String()
}

func orTop(path string) string {
	if path == "" {
		return "the config"
	}
	return path
}

// yamlPosError turns a YAML syntax error into "file:line:col: message".
func yamlPosError(file string, err error) error {
	var le *yaml.LoadError
	if errors.As(err, &le) && le.Mark.Line > 0 {
		msg := le.Message
		if le.ContextMsg != "" {
			msg = le.ContextMsg + ": " + msg
		}
		return fmt.Errorf("%s:%d:%d: %s", file, le.Mark.Line, max(le.Mark.Column, 1), msg)
	}
	var les *yaml.LoadErrors
	if errors.As(err, &les) && len(les.Errors) > 0 {
		e := les.Errors[0]
		return fmt.Errorf("%s:%d:%d: %s", file, e.Mark.Line, max(e.Mark.Column, 1), e.Message)
	}
	return fmt.Errorf("%s: %w", file, err)
}
