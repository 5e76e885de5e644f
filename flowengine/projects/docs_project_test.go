package projects_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/projects"
)

// docProjectFence matches the fences of docs/flows.md's complete project:
// "```LANG project=PATH" (a file) and "```json project-answer [status N]
// METHOD PATH" (an expected answer).
var docProjectFence = regexp.MustCompile("(?m)^```\\w+ (project=(\\S+)|project-answer(?: status (\\d{3}))? (\\S+) (\\S+))\n((?s:.*?))^```")

// TestFlowsDocProject writes the complete minimal project of docs/flows.md
// to a directory, loads it as serve does and checks every documented
// answer, with the init flow's header on each.
func TestFlowsDocProject(t *testing.T) {
	doc, err := os.ReadFile("../../docs/flows.md")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "hello")
	type answer struct {
		status       int
		method, path string
		body         string
	}
	var answers []answer
	files := 0
	for _, m := range docProjectFence.FindAllStringSubmatch(string(doc), -1) {
		if m[2] != "" {
			p := filepath.Join(dir, filepath.FromSlash(m[2]))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(m[6]), 0o644); err != nil {
				t.Fatal(err)
			}
			files++
			continue
		}
		status := 200
		if m[3] != "" {
			status, _ = strconv.Atoi(m[3])
		}
		answers = append(answers, answer{status: status, method: m[4], path: m[5], body: m[6]})
	}
	if files != 4 || len(answers) != 3 {
		t.Fatalf("docs/flows.md: found %d project files and %d answers, want 4 and 3; the fences or this parser changed", files, len(answers))
	}
	set, err := projects.Load([]string{dir}, "", quiet)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range set.Entries() {
		if len(e.Errors) > 0 {
			t.Fatalf("the documented project does not load:\n%v", e.Errors)
		}
	}
	for _, a := range answers {
		t.Run(a.method+" "+a.path, func(t *testing.T) {
			r, _, ok := set.Resolve("", a.path)
			if !ok {
				t.Fatalf("no project for %s", a.path)
			}
			out := r.Run(context.Background(), &flowengine.Request{Method: a.method, Scheme: "http", Authority: "example.com", Path: a.path, ID: "rid", BodyKnownEmpty: true}, nil)
			status := out.Status
			if status == 0 {
				status = 200
			}
			if status != a.status {
				t.Errorf("status %d, documented %d (body %s)", status, a.status, out.Body)
			}
			var got, want any
			if err := json.Unmarshal(out.Body, &got); err != nil {
				t.Fatalf("answer is not JSON: %s", out.Body)
			}
			if err := json.Unmarshal([]byte(a.body), &want); err != nil {
				t.Fatalf("documented answer is not JSON: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("answer %s, documented %s", out.Body, strings.TrimSpace(a.body))
			}
			header := ""
			for _, h := range out.SetHeaders {
				if strings.EqualFold(h.Name, "X-Service") {
					header = h.Value
				}
			}
			if header != "hello" {
				t.Errorf("X-Service %q, the init flow sets hello (headers %v)", header, out.SetHeaders)
			}
		})
	}
}
