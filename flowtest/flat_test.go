package flowtest

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/flat"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// TestFlatTests runs the FLAT tests of testdata/flattest/app through the
// engine with this package's host, one file at a time, and checks each
// result: assertions counted, failures with file:line, test-requests.
func TestFlatTests(t *testing.T) {
	dir := "testdata/flattest/app"
	p, errs := flat.Load(dir, flat.Options{Env: []string{}, Logger: slog.New(slog.DiscardHandler)})
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
			res := test.Run(context.Background(), flat.TestOptions{Upstream: offline, NewHost: NewHost})
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
