package abuse

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine/projects"
)

// authProjects loads two FLAT apps: "t" under base path /t, whose init
// flow refuses every request with 401 (standing for authentication), and
// "pub", the default project for every other path, which answers 200. A
// request for /t/… that is answered 200 has bypassed t's authentication.
func authProjects(t *testing.T) *projects.Set {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"pub/swagger.yaml": "swagger: \"2.0\"\npaths:\n  /**:\n    x-flat-flow: pub.xml\n",
		"pub/pub.xml":      `<flow><echo>public</echo></flow>`,
		"t/swagger.yaml":   "swagger: \"2.0\"\nbasePath: /t\nx-flat-init: init.xml\npaths:\n  /hello:\n    x-flat-flow: hello.xml\n",
		"t/init.xml":       `<flow><error>{"status": 401, "code": 4010, "message": "authentication required"}</error></flow>`,
		"t/hello.xml":      `<flow><echo>hello</echo></flow>`,
	}
	for name, content := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	set, err := projects.Load([]string{filepath.Join(root, "pub"), filepath.Join(root, "t")}, "pub", projects.LoadOptions{Env: []string{}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range set.Entries() {
		if len(e.Errors) > 0 {
			t.Fatal(e.Errors)
		}
	}
	return set
}

// rawGet sends "GET target HTTP/1.1" byte for byte (no client library
// cleans the target) and returns the status and the error code of the
// answer's error document (0 when there is none).
func rawGet(t *testing.T, addr, target string) (int, int) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, "GET "+target+" HTTP/1.1\r\nHost: api.test\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var doc errorDoc
	_ = json.Unmarshal(body, &doc)
	return resp.StatusCode, doc.Error.Code
}

// TestPathBypassForms: every spelling of a path under the base path /t
// either runs the init flow (401 here) or is refused with 400 (3212: not
// normalized, 3213: base path in another letter case); none reaches the
// upstream without the flows. The Envoy-faithful client passes :path on
// unchanged, as Envoy does without normalize_path, merge_slashes and
// path_with_escaped_slashes_action.
func TestPathBypassForms(t *testing.T) {
	set := authProjects(t)
	addr := strings.TrimPrefix(startStack(t, set, 0), "http://")
	for _, tc := range []struct {
		target     string
		status     int
		code       int
		whyRefused string
	}{
		{"/t/hello", 401, 4010, ""},
		{"/t/hello?x=//../y", 401, 4010, ""},
		{"//t/hello", 400, 3212, "merge_slashes"},
		{"/t//hello", 400, 3212, "merge_slashes"},
		{"/./t/hello", 400, 3212, "dot segment"},
		{"/t/../t/hello", 400, 3212, "dot segment"},
		{"/x/../t/hello", 400, 3212, "dot segment"},
		{"/%2e/t/hello", 400, 3212, "escaped dot segment"},
		{"/%74/hello", 400, 3212, "escaped unreserved character"},
		{"/t%2Fhello", 400, 3212, "escaped slash"},
		{"/t%2fhello", 400, 3212, "escaped slash"},
		{"/t%5Chello", 400, 3212, "escaped backslash"},
		{"/t\\hello", 400, 3212, "backslash"},
		{"/T/hello", 400, 3213, "letter case"},
		{"/T", 400, 3213, "letter case"},
	} {
		t.Run(tc.target, func(t *testing.T) {
			status, code := rawGet(t, addr, tc.target)
			if status != tc.status || code != tc.code {
				t.Errorf("GET %s: %d (code %d), want %d (code %d) %s", tc.target, status, code, tc.status, tc.code, tc.whyRefused)
			}
		})
	}
	// Outside the base path /t: the default project answers.
	for _, target := range []string{"/other", "/tx/hello", "/other/"} {
		if status, _ := rawGet(t, addr, target); status != 200 {
			t.Errorf("GET %s: %d, want 200 from the default project", target, status)
		}
	}
}
