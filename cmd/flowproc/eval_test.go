package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEvalAndCheckTemplate(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	in := write("in.json", `{"items":[{"name":"tea","price":2},{"name":"cake","price":3.5}]}`)
	xml := write("in.xml", `<list><item id="1">one</item><item id="2">two</item></list>`)
	good := write("good.tpl", `{"n": {{ count(items/value) }}, "total": {{ sum(items/value/price) }}}`)
	bad := write("bad.tpl", "{\n  \"n\": {{ count(items/value) }\n}")
	for _, tc := range []struct {
		name string
		cmd  []string
		code int
		out  string
	}{
		{"expression on JSON", []string{"eval", "-in", in, "items/value[2]/name"}, 0, `"cake"`},
		{"number", []string{"eval", "-in", in, "sum(items/value/price)"}, 0, "5.5"},
		{"node as JSON", []string{"eval", "-in", in, "items/value[1]"}, 0, `{"name":"tea","price":2}`},
		{"$input", []string{"eval", "-in", in, "count($input/items/value)"}, 0, "2"},
		{"XML input", []string{"eval", "-in", xml, "item[@id = 2]"}, 0, "<item id=\"2\">two</item>"},
		{"no input", []string{"eval", "concat('a', 'b')"}, 0, "ab"},
		{"bad expression", []string{"eval", "concat('a', "}, 1, ""},
		{"template", []string{"eval", "-t", "-in", in, good}, 0, `{"n": 2, "total": 5.5}`},
		{"bad template in eval", []string{"eval", "-t", bad}, 1, ""},
		{"check good", []string{"check-template", good}, 0, good + ": ok"},
		{"check bad", []string{"check-template", good, bad}, 1, bad + ":2:"},
		{"check nothing", []string{"check-template"}, 2, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := dispatch(context.Background(), tc.cmd, &out, &errb)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out.String(), errb.String())
			}
			if tc.out != "" && !strings.Contains(out.String(), tc.out) {
				t.Errorf("stdout %q does not contain %q", out.String(), tc.out)
			}
		})
	}
}
