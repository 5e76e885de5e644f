package jwtauth

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// maxValueBytes bounds a value read from a file.
const maxValueBytes = 64 << 10

// resolver reads x-flat-jwt values: a literal, {file: path} relative to
// the definition's directory, or {env: VAR}.
type resolver struct {
	dir       string
	lookupEnv func(string) (string, bool)
	readFile  func(string) ([]byte, error)
}

// errNotSource marks an object value that is neither {file} nor {env}.
var errNotSource = errors.New("not a {file} or {env} object")

// source resolves a {file: …} or {env: …} object; ok is false when v is
// not an object.
func (r *resolver) source(v any) (s string, ok bool, err error) {
	m, isMap := v.(map[string]any)
	if !isMap {
		return "", false, nil
	}
	if len(m) != 1 {
		return "", true, fmt.Errorf("%w: want exactly one of file or env, got keys %s", errNotSource, strings.Join(sortedKeys(m), ", "))
	}
	if f, has := m["file"]; has {
		name, isStr := f.(string)
		if !isStr || strings.TrimSpace(name) == "" {
			return "", true, fmt.Errorf("file must be a file name, not %s", describe(f))
		}
		p := name
		if !filepath.IsAbs(p) {
			p = filepath.Join(r.dir, p)
		}
		b, err := r.readFile(filepath.Clean(p))
		if err != nil {
			return "", true, fmt.Errorf("cannot read file %q: %w", name, err)
		}
		if len(b) > maxValueBytes {
			return "", true, fmt.Errorf("file %q is longer than %d bytes", name, maxValueBytes)
		}
		return strings.TrimSpace(string(b)), true, nil
	}
	if e, has := m["env"]; has {
		name, isStr := e.(string)
		if !isStr || name == "" {
			return "", true, fmt.Errorf("env must be a variable name, not %s", describe(e))
		}
		val, set := r.lookupEnv(name)
		if !set {
			return "", true, fmt.Errorf("environment variable %s is not set", name)
		}
		return strings.TrimSpace(val), true, nil
	}
	return "", true, fmt.Errorf("%w: want file or env, got key %s", errNotSource, strings.Join(sortedKeys(m), ", "))
}

// text resolves a value that must be a string.
func (r *resolver) text(v any) (string, error) {
	s, ok, err := r.source(v)
	if ok || err != nil {
		return s, err
	}
	if s, isStr := v.(string); isStr {
		return s, nil
	}
	return "", fmt.Errorf("want a string, {file: …} or {env: …}, not %s", describe(v))
}

// scalar resolves an expected claim value: a string, number or boolean
// literal, or a string from {file} or {env}.
func (r *resolver) scalar(v any) (any, error) {
	s, ok, err := r.source(v)
	if ok || err != nil {
		return s, err
	}
	switch v.(type) {
	case string, float64, bool:
		return v, nil
	}
	return nil, fmt.Errorf("want a string, number, boolean, {file: …} or {env: …}, not %s", describe(v))
}

// describe names a JSON value's type for messages.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case float64:
		return "the number " + strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
