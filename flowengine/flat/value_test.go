package flat

import (
	"testing"

	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

func TestRenderValue(t *testing.T) {
	jsonDoc, err := oxn.Parse([]byte(`{"a":[1,"x"]}`), 64)
	if err != nil {
		t.Fatal(err)
	}
	xmlDoc, err := dom.ParseXML([]byte(`<r><b>t</b></r>`), 64)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		v        expr.Value
		body     string
		mimeType string
	}{
		{"JSON document", expr.NodeSet{jsonDoc}, `{"a":[1,"x"]}`, "application/json"},
		{"JSON element", expr.NodeSet{jsonDoc.FirstElement()}, `{"a":[1,"x"]}`, "application/json"},
		{"XML", expr.NodeSet{xmlDoc}, `<r><b>t</b></r>`, "application/xml"},
		{"empty node-set", expr.NodeSet(nil), ``, "text/plain"},
		{"string", "hi", `hi`, "text/plain"},
		{"number", 2.5, `2.5`, "text/plain"},
		{"boolean", true, `true`, "text/plain"},
		{"nil", nil, ``, "text/plain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, m := renderValue(tt.v)
			if string(b) != tt.body || m != tt.mimeType {
				t.Errorf("renderValue = %q, %q; want %q, %q", b, m, tt.body, tt.mimeType)
			}
		})
	}
}
