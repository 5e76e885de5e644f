package cors

import (
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestDocExamples runs the examples of docs/cors.md: the "yaml
// cors-example" block is the definition; each "http request" block
// (METHOD /path, then headers) is followed by an "http answer" block
// ("answered STATUS" or "continues", then the headers in order).
func TestDocExamples(t *testing.T) {
	src, err := os.ReadFile("../../docs/cors.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```([^\n]*)\n(.*?)```").FindAllStringSubmatch(string(src), -1)
	var def string
	var req *Request
	var path string
	n := 0
	for _, b := range blocks {
		switch b[1] {
		case "yaml cors-example":
			def = b[2]
		case "http request":
			lines := strings.Split(strings.TrimSpace(b[2]), "\n")
			method, p, _ := strings.Cut(lines[0], " ")
			req, path = &Request{Method: method}, p
			for _, h := range headers(lines[1:]) {
				switch h.Name {
				case "Origin":
					req.Origin = h.Value
				case "Access-Control-Request-Method":
					req.RequestMethod = h.Value
				case "Access-Control-Request-Headers":
					req.RequestHeaders = h.Value
				default:
					t.Fatalf("unexpected request header %q", h.Name)
				}
			}
		case "http answer":
			if req == nil || def == "" {
				t.Fatal("answer without definition or request")
			}
			lines := strings.Split(strings.TrimSpace(b[2]), "\n")
			want := Decision{Headers: headers(lines[1:])}
			if s, ok := strings.CutPrefix(lines[0], "answered "); ok {
				want.Answer = true
				want.Status, _ = strconv.Atoi(s)
			} else if lines[0] != "continues" {
				t.Fatalf("answer line %q", lines[0])
			}
			d, ext := load(t, def)
			p, err := Compile(ext, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Decide(*req, d.Match(req.Method, path)); !reflect.DeepEqual(got, want) {
				t.Errorf("%s %s %+v\n got %+v\nwant %+v", req.Method, path, *req, got, want)
			}
			req = nil
			n++
		}
	}
	if n < 6 {
		t.Fatalf("found %d examples; the parser or the docs broke", n)
	}
}

func headers(lines []string) []Header {
	var out []Header
	for _, l := range lines {
		k, v, _ := strings.Cut(l, ":")
		out = append(out, Header{strings.TrimSpace(k), strings.TrimSpace(v)})
	}
	return out
}
