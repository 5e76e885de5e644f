package cond

import (
	"errors"
	"os"
	"strconv"
	"testing"

	yaml "go.yaml.in/yaml/v4"

	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
)

type confCase struct {
	Src     string         `yaml:"src"`
	C       string         `yaml:"c"`
	V       map[string]any `yaml:"v"`
	Want    *bool          `yaml:"want"`
	Err     string         `yaml:"err"`
	Col     int            `yaml:"col"`
	EvalErr string         `yaml:"evalerr"`
	Tree    string         `yaml:"tree"`
}

// knownSources are the src keys explained at the top of conformance.yaml.
var knownSources = map[string]bool{
	"ref-struct": true, "ref-ops": true, "ref-words": true, "peg": true, "peg-neg": true,
	"ref-prec": true, "ref-lit": true, "ref-coerce": true, "ref-trap": true, "ref-null": true,
	"ref-match": true, "ref-regex": true, "ref-path": true, "ref-quoted": true,
	"samples": true, "so": true, "inferred": true, "flowproc": true,
}

func loadConformance(t *testing.T) ([]confCase, []int) {
	t.Helper()
	data, err := os.ReadFile("testdata/conformance.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []yaml.Node `yaml:"cases"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	cases := make([]confCase, len(doc.Cases))
	lines := make([]int, len(doc.Cases))
	for i := range doc.Cases {
		if err := doc.Cases[i].Decode(&cases[i]); err != nil {
			t.Fatalf("conformance.yaml:%d: %v", doc.Cases[i].Line, err)
		}
		lines[i] = doc.Cases[i].Line
	}
	return cases, lines
}

// TestConformance runs testdata/conformance.yaml: every Apigee condition
// rule flowproc implements, one case per line, each with its source.
func TestConformance(t *testing.T) {
	cases, lines := loadConformance(t)
	if len(cases) < 200 {
		t.Errorf("conformance suite has %d cases, want at least 200", len(cases))
	}
	for i, tc := range cases {
		at := "conformance.yaml:" + strconv.Itoa(lines[i]) + ": " + tc.C
		if !knownSources[tc.Src] {
			t.Errorf("%s: src %q is not one of the documented sources", at, tc.Src)
		}
		n := 0
		for _, set := range []bool{tc.Want != nil, tc.Err != "", tc.EvalErr != "", tc.Tree != ""} {
			if set {
				n++
			}
		}
		if n == 0 {
			t.Errorf("%s: case asserts nothing", at)
			continue
		}
		e, err := Parse(tc.C)
		if tc.Err != "" {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Errorf("%s: Parse error = %v, want %s", at, err, tc.Err)
				continue
			}
			if se.Code != tc.Err || tc.Col != 0 && se.Col != tc.Col {
				t.Errorf("%s: Parse error = %v, want code %s col %d", at, se, tc.Err, tc.Col)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: Parse: %v", at, err)
			continue
		}
		if tc.Tree != "" && e.String() != tc.Tree {
			t.Errorf("%s: tree = %s, want %s", at, e.String(), tc.Tree)
		}
		if tc.Want == nil && tc.EvalErr == "" {
			continue
		}
		got, err := e.Eval(flowvar.Map(tc.V))
		if tc.EvalErr != "" {
			var ee *EvalError
			if !errors.As(err, &ee) || ee.Code != tc.EvalErr {
				t.Errorf("%s: Eval = %v, %v; want error %s", at, got, err, tc.EvalErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: Eval: %v", at, err)
			continue
		}
		if got != *tc.Want {
			t.Errorf("%s: with %v = %v, want %v", at, tc.V, got, *tc.Want)
		}
	}
}
