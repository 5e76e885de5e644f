package flowtest

import (
	"context"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

func TestBundleTestsPass(t *testing.T) {
	var out strings.Builder
	junit := filepath.Join(t.TempDir(), "junit.xml")
	results, err := Run(context.Background(), Options{Dir: "testdata/apigee-bundle", Out: &out, JUnit: junit, Verbose: true})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	if len(results) != 9 {
		t.Fatalf("got %d results, want 9\n%s", len(results), out.String())
	}
	for _, r := range results {
		if !r.OK() {
			t.Errorf("%s: %v %v", r.Name, r.Failures, r.Err)
		}
		if r.Assertions == 0 {
			t.Errorf("%s: no assertions counted", r.Name)
		}
	}
	if t.Failed() {
		t.Log(out.String())
	}
	for _, want := range []string{
		"1..9\n",
		"ok 1 no-target answer with PostClientFlow (tests/basic.yaml): 11 assertions\n",
		"passed: 9, failed: 0\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("TAP lacks %q:\n%s", want, out.String())
		}
	}
	b, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var rep junitSuites
	if err := xml.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if c := rep.Suites[0].Cases[1]; c.Name != "tests/basic.yaml: forward to the target" || c.ClassName != "apigee" {
		t.Errorf("junit case = %q/%q", c.Name, c.ClassName)
	}
}

func TestBundleTestsFail(t *testing.T) {
	var out strings.Builder
	results, err := Run(context.Background(), Options{Dir: "testdata/apigee-bundle", Files: []string{"testdata/apigee-failing.yaml"}, Out: &out, Verbose: true})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !Failed(results) || len(results) != 5 {
		t.Fatalf("want 5 failing results, got %d:\n%s", len(results), out.String())
	}
	want := map[string][]string{
		"forward without a target mock": {
			"the bundle forwarded GET http://backend.example.com/api/orders to its target, but the test mocks no target for it",
			"status: got 503, want 200",
		},
		"unmocked callout": {
			"side call POST http://log.example.com/log is not mocked (add it to callouts:)",
		},
		"wrong everything": {
			"status: got 200, want 201",
			`response header x-greeting: got "hello bob", want it absent`,
			`response header x-missing: absent, want "there"`,
			"response body: $.greeting does not match",
			`variable seen.name: got "bob", want "ann"`,
			`variable unset.var: unset, want "x"`,
			"callouts: got [http://log.example.com/log, http://log.example.com/async], want none",
			"target_request: the bundle did not call its target",
		},
		"forwarded false but the target was called": {
			"forwarded: the bundle called its target (GET http://backend.example.com/api/orders), want an answer without one",
		},
		"body mismatch": {
			`response body: got "{\"greeting\":\"hello bob\",\"items\":[1,2]}", want "nope"`,
			`response body: "absent-text" not found in`,
		},
	}
	for _, r := range results {
		if r.OK() {
			t.Errorf("%s passed", r.Name)
			continue
		}
		all := strings.Join(r.Failures, "\n")
		for _, w := range want[r.Name] {
			if !strings.Contains(all, w) {
				t.Errorf("%s: failures lack %q:\n%s", r.Name, w, all)
			}
		}
		if !strings.HasPrefix(r.Failures[0], "testdata/apigee-failing.yaml:") && !strings.HasPrefix(r.Failures[0], "apigee-failing.yaml:") {
			t.Errorf("%s: failure %q lacks file:line", r.Name, r.Failures[0])
		}
		if r.Trace == "" {
			t.Errorf("%s: no trace with Verbose", r.Name)
		}
	}
	if !strings.Contains(out.String(), "not ok 3 wrong everything (") {
		t.Errorf("TAP:\n%s", out.String())
	}
}

func TestParseBundleTestsErrors(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"not a mapping", "- a\n", "a YAML mapping"},
		{"unknown top key", "test: []\n", `unknown key "test"`},
		{"empty list", "tests: []\n", "non-empty list"},
		{"unknown field", "tests:\n  - name: a\n    request: {path: /}\n    expect: {status: 200}\n    expct: {}\n", "expct"},
		{"no name", "tests:\n  - request: {path: /}\n    expect: {status: 200}\n", `"name" is required`},
		{"no path", "tests:\n  - name: a\n    expect: {status: 200}\n", "request.path is required"},
		{"nothing checked", "tests:\n  - name: a\n    request: {path: /}\n", "expect checks nothing"},
		{"body and json", "tests:\n  - name: a\n    request: {path: /, body: x, json: {}}\n    expect: {status: 200}\n", "request: give body or json"},
		{"target and targets", "tests:\n  - name: a\n    request: {path: /}\n    target: {}\n    targets: [{url: http://x/}]\n    expect: {status: 200}\n", "target or targets"},
		{"target without url", "tests:\n  - name: a\n    request: {path: /}\n    targets: [{status: 200}]\n    expect: {status: 200}\n", `targets[0]: "url"`},
		{"error with status", "tests:\n  - name: a\n    request: {path: /}\n    callouts: [{url: http://x/, error: true, status: 500}]\n    expect: {status: 200}\n", "connection failure"},
		{"bad status", "tests:\n  - name: a\n    request: {path: /}\n    expect: {status: 1000}\n", "not an HTTP status"},
		{"bad method", "tests:\n  - name: a\n    request: {path: /, method: \"G T\"}\n    expect: {status: 200}\n", "not an HTTP method"},
		{"duplicate name", "tests:\n  - name: a\n    request: {path: /}\n    expect: {status: 200}\n  - name: a\n    request: {path: /}\n    expect: {status: 200}\n", `test name "a" already used at line 2`},
		{"empty target_request", "tests:\n  - name: a\n    request: {path: /}\n    expect: {status: 200, target_request: {}}\n", "target_request checks nothing"},
		{"bad yaml", "tests: [\n", "yaml"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseBundleTests([]byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestJSONMatch(t *testing.T) {
	cases := []struct {
		want, got any
		ok        bool
	}{
		{map[string]any{"a": 1.0}, map[string]any{"a": 1.0, "b": 2.0}, true},
		{map[string]any{"a": map[string]any{"x": "y"}}, map[string]any{"a": map[string]any{"x": "y", "z": true}}, true},
		{map[string]any{"a": 1.0}, map[string]any{"b": 1.0}, false},
		{[]any{1.0, 2.0}, []any{1.0, 2.0}, true},
		{[]any{1.0}, []any{1.0, 2.0}, false},
		{[]any{map[string]any{"a": 1.0}}, []any{map[string]any{"a": 1.0, "b": 2.0}}, false},
		{"s", "s", true},
		{nil, nil, true},
		{map[string]any{}, []any{}, false},
	}
	for i, tc := range cases {
		if _, ok := jsonMatch(tc.want, tc.got, "$"); ok != tc.ok {
			t.Errorf("%d: jsonMatch(%v, %v) = %v, want %v", i, tc.want, tc.got, ok, tc.ok)
		}
	}
}

func TestBundleProjectDoesNotLoad(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "apiproxy", "proxies"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "apiproxy", "proxies", "default.xml"), []byte("<ProxyEndpoint name=\"default\"><Nope/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if _, err := Run(context.Background(), Options{Dir: dir, Out: &out}); err == nil {
		t.Fatal("no error for a broken bundle")
	}
	if !strings.Contains(out.String(), "not ok 1 "+dir+": the bundle does not load") {
		t.Errorf("TAP:\n%s", out.String())
	}
}

func FuzzParseBundleTests(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/apigee-*/tests/*.yaml")
	seeds = append(seeds, "testdata/apigee-failing.yaml")
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("tests:\n  - name: a\n    request: {path: /}\n    expect: {json: {a: [1, {b: null}]}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tf, err := ParseBundleTests(data)
		if err == nil && len(tf.Tests) == 0 {
			t.Fatal("no error and no tests")
		}
	})
}

// TestApigeeHelloExample runs examples/apigee-hello's tests (what
// `flowproc test examples/apigee-hello` runs) once the policy types it
// uses are registered.
func TestApigeeHelloExample(t *testing.T) {
	var missing []string
	for _, typ := range []string{"AssignMessage", "ExtractVariables", "RaiseFault"} {
		if _, ok := engine.KindOf(typ); !ok {
			missing = append(missing, typ)
		}
	}
	if len(missing) > 0 {
		t.Skipf("examples/apigee-hello needs policy types not registered yet: %s", strings.Join(missing, ", "))
	}
	var out strings.Builder
	results, err := Run(context.Background(), Options{Dir: "../examples/apigee-hello", Out: &out, Verbose: true})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	if len(results) < 8 || Failed(results) {
		t.Errorf("want 8 passing tests:\n%s", out.String())
	}
}

func TestBundleTestFileDoesNotLoad(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("tests:\n  - name: a\n    request: {path: /t/answer}\n    expect: {stauts: 200}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	results, err := Run(context.Background(), Options{Dir: "testdata/apigee-bundle", Files: []string{bad}, Out: &out})
	if err == nil || !strings.Contains(err.Error(), "stauts") {
		t.Errorf("err = %v, want the unknown field named", err)
	}
	if len(results) != 1 || results[0].OK() {
		t.Fatalf("want one failed result:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "not ok 1 ") || !strings.Contains(out.String(), "# the test file does not load: ") {
		t.Errorf("TAP:\n%s", out.String())
	}
}
