package mock

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestDocExamples runs the examples of docs/mocking.md: the "yaml
// mock-example" block is swagger.yaml, "LANG file=NAME" blocks are project
// files; each "http request" block (METHOD /path, then headers) is
// followed by an "http answer" block ("STATUS CONTENT-TYPE", then the
// body).
func TestDocExamples(t *testing.T) {
	src, err := os.ReadFile("../../docs/mocking.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```([^\n]*)\n(.*?)```").FindAllStringSubmatch(string(src), -1)
	files := map[string]string{}
	var method, path, accept string
	n := 0
	for _, b := range blocks {
		info, body := b[1], b[2]
		switch {
		case info == "yaml mock-example":
			files["swagger.yaml"] = body
		case strings.Contains(info, " file="):
			_, name, _ := strings.Cut(info, " file=")
			files[name] = body
		case info == "http request":
			lines := strings.Split(strings.TrimSpace(body), "\n")
			method, path, _ = strings.Cut(lines[0], " ")
			accept = ""
			for _, l := range lines[1:] {
				k, v, _ := strings.Cut(l, ":")
				switch strings.TrimSpace(k) {
				case "Accept":
					accept = strings.TrimSpace(v)
				case Header:
					if strings.TrimSpace(v) != "true" {
						t.Fatalf("Mock: %s", v)
					}
				default:
					t.Fatalf("unexpected request header %q", k)
				}
			}
		case info == "http answer":
			head, wantBody, _ := strings.Cut(strings.TrimSpace(body), "\n")
			st, wantType, _ := strings.Cut(head, " ")
			wantStatus, _ := strconv.Atoi(st)
			d := load(t, files)
			status, ctype, got, ok := Response(d.Doc, Operation(d.Doc, path, method), accept)
			if !ok || status != wantStatus || ctype != wantType || string(got) != wantBody {
				t.Errorf("%s %s (Accept %q)\n got %d %q %s %v\nwant %d %q %s", method, path, accept, status, ctype, got, ok, wantStatus, wantType, wantBody)
			}
			n++
		}
	}
	if n < 5 {
		t.Fatalf("found %d examples; the parser or the docs broke", n)
	}
}
