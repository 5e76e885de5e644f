package flat

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadTestErrors: broken test files are load errors with positions,
// and test actions are refused in ordinary flows.
func TestLoadTestErrors(t *testing.T) {
	for _, tc := range []struct {
		name, test, code, msg string
	}{
		{name: "not XML", test: "this is not xml", code: "FP200"},
		{name: "wrong root", test: "<flow><assert>[[\"true()\"]]</assert></flow>", code: "FP201", msg: "want <flat-test>"},
		{name: "no assert", test: "<flat-test><eval>1</eval></flat-test>", code: "FP208", msg: "at least one <assert>"},
		{name: "unknown action", test: "<flat-test><asert>[]</asert><assert>[[\"true()\"]]</assert></flat-test>", code: "FP202"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeProject(t, map[string]string{
				"swagger.yaml":     "swagger: \"2.0\"\npaths:\n  /a:\n    x-flat-flow: a.xml\n",
				"a.xml":            "<flow/>",
				"tests/broken.xml": tc.test,
			})
			p, errs := Load(dir, Options{Env: []string{}})
			if p == nil {
				t.Fatal(errs)
			}
			test, errs := p.LoadTest(filepath.Join(dir, "tests", "broken.xml"))
			if test != nil || len(errs) == 0 {
				t.Fatalf("loaded; want %s", tc.code)
			}
			if string(errs[0].Code) != tc.code || !strings.Contains(errs[0].Msg, tc.msg) {
				t.Errorf("got %v, want %s %q", errs, tc.code, tc.msg)
			}
		})
	}
	dir := writeProject(t, map[string]string{
		"swagger.yaml": "swagger: \"2.0\"\npaths:\n  /a:\n    x-flat-flow: a.xml\n",
		"a.xml":        "<flow><assert>[[\"true()\"]]</assert></flow>",
	})
	if p, errs := Load(dir, Options{Env: []string{}}); p != nil || len(errs) != 1 || !strings.Contains(errs[0].Msg, "only in <flat-test> files") {
		t.Errorf("assert in a flow: got %v", errs)
	}
}

// TestTestRequestNeedsAHost: test-request runs only with the test runner's
// host (flowtest.NewHost); without one the test ends in an error, never in
// a request that went nowhere.
func TestTestRequestNeedsAHost(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"swagger.yaml":   "swagger: \"2.0\"\npaths:\n  /a:\n    x-flat-flow: a.xml\n",
		"a.xml":          "<flow><echo>a</echo></flow>",
		"tests/test.xml": `<flat-test><test-request>{"path": "/a"}</test-request><assert>[["$status", 200]]</assert></flat-test>`,
	})
	p, errs := Load(dir, Options{Env: []string{}, Logger: quietLogger})
	if p == nil {
		t.Fatal(errs)
	}
	test, errs := p.LoadTest(filepath.Join(dir, "tests", "test.xml"))
	if test == nil {
		t.Fatal(errs)
	}
	res := test.Run(t.Context(), TestOptions{})
	if res.Err == nil || !strings.Contains(res.Err.Error(), "no test host") {
		t.Errorf("err = %v, want no test host", res.Err)
	}
}
