package jwtauth

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolver(t *testing.T) {
	dir := writeProject(t, map[string]string{"keys/k.txt": "  value from file\n", "big": strings.Repeat("x", maxValueBytes+1)})
	r := &resolver{
		dir: dir,
		lookupEnv: func(n string) (string, bool) {
			v, ok := map[string]string{"A": " from env\n", "EMPTY": ""}[n]
			return v, ok
		},
		readFile: projectReader(dir),
	}
	tests := []struct {
		name   string
		in     any
		scalar bool // resolve with scalar instead of text
		want   any
		err    string
	}{
		{name: "literal", in: "abc", want: "abc"},
		{name: "file, trimmed", in: map[string]any{"file": "keys/k.txt"}, want: "value from file"},
		{name: "absolute file", in: map[string]any{"file": filepath.Join(dir, "keys/k.txt")}, want: "value from file"},
		{name: "env, trimmed", in: map[string]any{"env": "A"}, want: "from env"},
		{name: "empty env is a value", in: map[string]any{"env": "EMPTY"}, want: ""},
		{name: "unset env", in: map[string]any{"env": "B"}, err: "environment variable B is not set"},
		{name: "env not a string", in: map[string]any{"env": 1.0}, err: "env must be a variable name"},
		{name: "missing file", in: map[string]any{"file": "nope"}, err: `cannot read file "nope"`},
		{name: "file outside", in: map[string]any{"file": "../x"}, err: "outside the project"},
		{name: "file too big", in: map[string]any{"file": "big"}, err: "longer than"},
		{name: "file empty name", in: map[string]any{"file": " "}, err: "file must be a file name"},
		{name: "two sources", in: map[string]any{"file": "a", "env": "A"}, err: "exactly one of file or env, got keys env, file"},
		{name: "unknown source", in: map[string]any{"value": "a"}, err: "want file or env, got key value"},
		{name: "number as text", in: 1.5, err: "want a string, {file: …} or {env: …}, not the number 1.5"},
		{name: "scalar number", in: 42.0, scalar: true, want: 42.0},
		{name: "scalar bool", in: true, scalar: true, want: true},
		{name: "scalar from env", in: map[string]any{"env": "A"}, scalar: true, want: "from env"},
		{name: "scalar list", in: []any{"a"}, scalar: true, err: "not a list"},
		{name: "scalar null", in: nil, scalar: true, err: "not null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got any
			var err error
			if tt.scalar {
				got, err = r.scalar(tt.in)
			} else {
				got, err = r.text(tt.in)
			}
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("= %v, %v; want error %q", got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("= %#v, %v; want %#v", got, err, tt.want)
			}
		})
	}
	if _, _, err := r.source(map[string]any{"x": 1.0}); !errors.Is(err, errNotSource) {
		t.Fatalf("source: %v, want errNotSource", err)
	}
}
