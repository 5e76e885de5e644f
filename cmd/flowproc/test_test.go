package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeBundle writes a policy-free Apigee bundle project (so it loads
// with no policy type registered) with the given tests/t.yaml.
func writeBundle(t *testing.T, tests string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"apiproxy/p.xml": `<APIProxy name="p"/>`,
		"apiproxy/proxies/default.xml": `<ProxyEndpoint name="default">
  <HTTPProxyConnection><BasePath>/p</BasePath></HTTPProxyConnection>
  <RouteRule name="default"><TargetEndpoint>default</TargetEndpoint></RouteRule>
</ProxyEndpoint>`,
		"apiproxy/targets/default.xml": `<TargetEndpoint name="default">
  <HTTPTargetConnection><URL>https://backend.example.com/api</URL></HTTPTargetConnection>
</TargetEndpoint>`,
	}
	if tests != "" {
		files["tests/t.yaml"] = tests
	}
	for name, src := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestTestCommandBundle(t *testing.T) {
	const pass = `tests:
  - name: forwards
    request: {path: /p/items?x=1}
    target: {status: 200, json: {ok: true}}
    expect:
      status: 200
      json: {ok: true}
      target_request: {url: "https://backend.example.com/api/items?x=1"}
`
	const fail = `tests:
  - name: wrong status
    request: {path: /p/items}
    target: {status: 200}
    expect: {status: 201}
`
	cases := []struct {
		name, tests string
		code        int
		stdout      []string
		stderr      string
	}{
		{"passing", pass, 0, []string{"1..1\n", "ok 1 forwards (tests/t.yaml): 3 assertions\n", "passed: 1, failed: 0\n"}, ""},
		{"failing", fail, 1, []string{"not ok 1 wrong status (tests/t.yaml): 1 of 1 assertion failed\n", "# tests/t.yaml:2: status: got 200, want 201\n"}, ""},
		{"no tests", "", 1, nil, "no tests found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeBundle(t, tc.tests)
			var stdout, stderr bytes.Buffer
			junit := filepath.Join(t.TempDir(), "junit.xml")
			code := runTest(context.Background(), []string{"--junit", junit, "-v", dir}, &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout.String(), stderr.String())
			}
			for _, w := range tc.stdout {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout.String())
				}
			}
			if tc.stderr != "" && !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, stderr.String())
			}
			if tc.tests != "" {
				if b, err := os.ReadFile(junit); err != nil || !bytes.Contains(b, []byte(`classname="apigee"`)) {
					t.Errorf("junit report: %v\n%s", err, b)
				}
			}
		})
	}
}
