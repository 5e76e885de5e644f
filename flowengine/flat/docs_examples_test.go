package flat

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
)

// TestDocExamples runs the examples of docs/flows.md, so the
// documentation cannot drift from what flowproc does. An example is a
// fenced block whose info string is
//
//	xml example [METHOD /path[?query]]
//
// holding a flow (the only flow of a project that routes every path to
// it). Fenced blocks right after it whose info string has file=NAME add
// project files; a block whose info string ends in "answer" is the
// expected response body (compared as JSON when its language is json, as
// text otherwise), and one ending in "status N answer" also checks the
// status. $env/SIDE is a local server for side calls: /users/42 answers
// {"id":42,"name":"ann"}, every other path echoes {"method","path"}.
func TestDocExamples(t *testing.T) {
	src, err := os.ReadFile("../../docs/flows.md")
	if err != nil {
		t.Fatal(err)
	}
	examples := parseDocExamples(string(src))
	if len(examples) < 20 {
		t.Fatalf("found %d examples in docs/flows.md; the parser or the docs broke", len(examples))
	}
	side := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/users/42" {
			_, _ = io.WriteString(w, `{"id":42,"name":"ann"}`)
			return
		}
		b, _ := json.Marshal(map[string]string{"method": r.Method, "path": r.URL.RequestURI()})
		_, _ = w.Write(b)
	}))
	defer side.Close()
	for _, ex := range examples {
		t.Run(ex.name, func(t *testing.T) {
			files := map[string]string{
				"swagger.yaml": "swagger: \"2.0\"\npaths:\n  /**:\n    x-flat-flow: example.xml\n",
				"example.xml":  ex.flow,
			}
			for k, v := range ex.files {
				files[k] = v
			}
			dir := writeProject(t, files)
			p, errs := Load(dir, Options{Env: []string{"SIDE=" + side.URL}, Logger: quietLogger})
			if p == nil {
				t.Fatalf("docs/flows.md:%d: example does not load:\n%v", ex.line, errs)
			}
			req := &flowengine.Request{Method: ex.method, Scheme: "http", Authority: "example.com", Path: ex.path, ID: "rid", BodyKnownEmpty: true}
			out := p.Run(context.Background(), req, &fakeHost{})
			if ex.status != 0 && out.Status != ex.status {
				t.Errorf("docs/flows.md:%d: status %d, want %d (body %s)", ex.line, out.Status, ex.status, out.Body)
			}
			if ex.answer == nil {
				return
			}
			if ex.json {
				var got, want any
				if err := json.Unmarshal(out.Body, &got); err != nil {
					t.Fatalf("docs/flows.md:%d: answer is not JSON: %s", ex.line, out.Body)
				}
				if err := json.Unmarshal([]byte(*ex.answer), &want); err != nil {
					t.Fatalf("docs/flows.md:%d: the documented answer is not JSON: %v", ex.line, err)
				}
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(want)
				if !bytes.Equal(g, w) {
					t.Errorf("docs/flows.md:%d: answer %s, documented %s", ex.line, g, w)
				}
				return
			}
			if strings.TrimSpace(string(out.Body)) != strings.TrimSpace(*ex.answer) {
				t.Errorf("docs/flows.md:%d: answer %q, documented %q", ex.line, out.Body, *ex.answer)
			}
		})
	}
}

type docExample struct {
	name         string
	line         int
	flow         string
	method, path string
	files        map[string]string
	answer       *string
	json         bool
	status       int
}

var (
	fenceRe  = regexp.MustCompile("^```(.*)$")
	statusRe = regexp.MustCompile(`status (\d{3}) answer$`)
)

// parseDocExamples finds the examples of a markdown document.
func parseDocExamples(md string) []*docExample {
	lines := strings.Split(md, "\n")
	var out []*docExample
	var cur *docExample
	for i := 0; i < len(lines); i++ {
		m := fenceRe.FindStringSubmatch(lines[i])
		if m == nil {
			if strings.TrimSpace(lines[i]) != "" && !strings.HasSuffix(strings.TrimSpace(lines[i]), ":") {
				cur = nil // prose ends an example's trailing blocks
			}
			continue
		}
		info := strings.Fields(m[1])
		start := i + 1
		j := start
		for j < len(lines) && !strings.HasPrefix(lines[j], "```") {
			j++
		}
		body := strings.Join(lines[start:j], "\n") + "\n"
		i = j
		switch {
		case len(info) >= 2 && info[0] == "xml" && info[1] == "example":
			cur = &docExample{line: start, flow: body, method: "GET", path: "/", files: map[string]string{}}
			if len(info) >= 4 {
				cur.method, cur.path = info[2], info[3]
			}
			cur.name = strings.ReplaceAll(firstAction(body), " ", "_") + "_line" + itoa(start)
			out = append(out, cur)
		case cur != nil && len(info) >= 2 && strings.HasPrefix(info[1], "file="):
			cur.files[strings.TrimPrefix(info[1], "file=")] = body
		case cur != nil && len(info) >= 2 && info[len(info)-1] == "answer":
			a := body
			cur.answer, cur.json = &a, info[0] == "json"
			if sm := statusRe.FindStringSubmatch(m[1]); sm != nil {
				cur.status = atoiOr(sm[1], 0)
			}
			cur = nil
		default:
			cur = nil
		}
	}
	return out
}

// firstAction names an example by the first action of its flow.
func firstAction(flow string) string {
	s := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(flow), "<flow>"))
	s = strings.TrimPrefix(s, "<")
	if i := strings.IndexAny(s, " />\n"); i > 0 {
		return s[:i]
	}
	return "flow"
}

func atoiOr(s string, def int) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return def
		}
		n = n*10 + int(c-'0')
	}
	return n
}
