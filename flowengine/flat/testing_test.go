package flat

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/upstream"
)

// TestFlatTests runs the FLAT tests of testdata/flattest/app through the
// engine (the flowtest package drives the same API from `flowproc test`).
func TestFlatTests(t *testing.T) {
	dir := "testdata/flattest/app"
	p, errs := Load(dir, Options{Env: []string{}, Logger: quietLogger})
	if p == nil {
		t.Fatal(errs)
	}
	// No test may reach the network: a call that is not mocked fails.
	offline := upstream.NewMock()
	for _, tc := range []struct {
		file       string
		assertions int
		failures   []string // substrings, in order
		requests   []string
	}{
		{file: "test-odd.xml", assertions: 10, requests: []string{"GET /api/is-odd?number=3", "GET /api/is-odd?number=x"}},
		{file: "test-backend.xml", assertions: 6, requests: []string{"GET /api/user/42"}},
		{file: "test-proxy.xml", assertions: 6, requests: []string{"GET /api/proxy/thing"}},
		{file: "test-env-unit.xml", assertions: 3, requests: []string{"GET /api/stage"}},
		{file: "test-unmocked.xml", assertions: 2, requests: []string{"GET /api/user/1"}},
		{file: "test-fails.xml", assertions: 2, failures: []string{
			`tests/test-fails.xml:2: assertion 1 [true()]: got true, want false (should fail)`,
			`tests/test-fails.xml:2: assertion 2 [1 + 1]: got 2, want 3`,
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			test, errs := p.LoadTest(filepath.Join(dir, "tests", tc.file))
			if test == nil {
				t.Fatal(errs)
			}
			res := test.Run(context.Background(), TestOptions{Upstream: offline})
			if res.Err != nil {
				t.Fatalf("test did not run: %v", res.Err)
			}
			if res.Assertions != tc.assertions {
				t.Errorf("assertions = %d, want %d (failures %q)", res.Assertions, tc.assertions, res.Failures)
			}
			if len(res.Failures) != len(tc.failures) {
				t.Fatalf("failures = %q, want %q", res.Failures, tc.failures)
			}
			for i, f := range tc.failures {
				if !strings.Contains(res.Failures[i], f) {
					t.Errorf("failure %d = %q, want %q", i, res.Failures[i], f)
				}
			}
			if strings.Join(res.Requests, "|") != strings.Join(tc.requests, "|") {
				t.Errorf("requests = %q, want %q", res.Requests, tc.requests)
			}
		})
	}
	if n := len(offline.Calls()); n != 0 {
		t.Errorf("%d calls reached the real client", n)
	}
}

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
