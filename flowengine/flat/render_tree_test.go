package flat

import (
	"bytes"
	"context"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/oxn"
	"github.com/flowproc/flowproc/flowengine/template"
)

// TestRenderTree checks renderTree on both paths: a template with a shape
// is built into a tree equal to its parsed text; one without is parsed;
// output that is not JSON, or nests deeper than the limit (also through a
// shaped template's value), comes back as text with the parser's error,
// as <template out> and the object actions had it before shapes.
func TestRenderTree(t *testing.T) {
	p := &Project{opts: Options{MaxJSONDepth: 4}}
	tests := []struct {
		name, src string
		shape     bool
		want      string // compact JSON, or "" when not JSON
	}{
		{"shape", `{ "id": {{ $request/id }}, "n": {{ 1 + 1 }}, "o": {"k": [ {{ $v }} ]} }`, true, `{"id":"rid","n":2,"o":{"k":[{"a":1}]}}`},
		{"no shape", `{ {{: $v/* }} }`, false, `{"a":1}`},
		{"not JSON", `{ "a": 1 } trailing`, false, ""},
		{"shape too deep through a value", `{ "a": [[ {{ $deep }} ]] }`, true, ""},
		{"shape too deep itself", `{ "a": [[[[ 1 ]]]] }`, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tp, err := template.Parse(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			if tp.HasShape() != tc.shape {
				t.Fatalf("HasShape %v", tp.HasShape())
			}
			r := p.newRun(context.Background(), &flowengine.Request{Method: "GET", Path: "/", ID: "rid"}, nil)
			setJSONVar(t, r, "v", `{"a":1}`)
			setJSONVar(t, r, "deep", `[[1]]`)
			tree, out, notJSON, err := r.renderTree(&tmpl{t: tp, pos: pos{file: "f.xml", line: 1}}, input{kind: inNone}, nil, p.opts.maxDepth())
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if notJSON == nil || tree != nil || len(out) == 0 {
					t.Fatalf("tree %v, out %q, notJSON %v: want the text and the parser's error", tree != nil, out, notJSON)
				}
				if _, perr := oxn.ParseTree(out, p.opts.maxDepth()); perr == nil || perr.Error() != notJSON.Error() {
					t.Errorf("notJSON %v, the parser says %v", notJSON, perr)
				}
				return
			}
			if notJSON != nil {
				t.Fatalf("not JSON: %v (%s)", notJSON, out)
			}
			if got := treeText(t, tree); got != tc.want {
				t.Errorf("tree %s, want %s", got, tc.want)
			}
		})
	}
}

// treeText is t's compact JSON.
func treeText(tb testing.TB, tree *oxn.Tree) string {
	tb.Helper()
	var b bytes.Buffer
	if err := tree.WriteJSON(&b, oxn.DocIndex); err != nil {
		tb.Fatal(err)
	}
	return b.String()
}
