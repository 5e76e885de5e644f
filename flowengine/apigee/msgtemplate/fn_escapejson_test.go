package msgtemplate

import (
	"encoding/json"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
)

func TestFnEscapeJSON(t *testing.T) {
	runFnCases(t, []fnCase{
		{tmpl: `{"m":"{escapeJSON(a)}"}`, vars: flowvar.Map{"a": `say "hi"\now`}, want: `{"m":"say \"hi\"\\now"}`},
		{tmpl: "{escapeJSON(a)}", vars: flowvar.Map{"a": "a\nb\tc\r\x01\x7f"}, want: `a\nb\tc\r\u0001\u007f`},
		{tmpl: "{escapeJSON(a)}", vars: flowvar.Map{"a": "é/€"}, want: "é/€"},
		{tmpl: "{escapeJSON(a)}", vars: flowvar.Map{"a": "\xff"}, want: `\ufffd`},
		{tmpl: "{escapeJSON(missing)}", want: ""},
	})
	// Whatever the input, the result embeds into valid JSON and round-trips.
	for _, in := range []string{"", `"\`, "\x00\x1f", "line\u2028sep", "x\xffy"} {
		out, _, err := MustParse(`{"v":"{escapeJSON(a)}"}`).String(flowvar.Map{"a": in})
		if err != nil {
			t.Fatal(err)
		}
		var got struct{ V string }
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Errorf("escapeJSON(%q) gives invalid JSON %s: %v", in, out, err)
		}
	}
}
