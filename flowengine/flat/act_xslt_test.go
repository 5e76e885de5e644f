package flat

import (
	"context"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/xslt"
)

// TestXSLT: <xslt> transforms with libxslt when the binary has it (go test
// -tags xslt; .ci/run does), and is a load error that says why otherwise.
func TestXSLT(t *testing.T) {
	files := map[string]string{
		"swagger.yaml": "swagger: \"2.0\"\npaths:\n  /a:\n    x-flat-flow: a.xml\n",
		"names.xsl": `<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
<xsl:output method="text" media-type="text/csv"/>
<xsl:template match="/"><xsl:for-each select="//name"><xsl:value-of select="."/>;</xsl:for-each></xsl:template>
</xsl:stylesheet>`,
		"wrap.xsl": `<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
<xsl:output method="xml"/>
<xsl:template match="/"><wrapped><xsl:copy-of select="/*"/></wrapped></xsl:template>
</xsl:stylesheet>`,
		"a.xml": `<flow>
  <template>{"people": [{"name": "ann"}, {"name": "bob"}]}</template>
  <xslt src="wrap.xsl" out="$w"/>
  <xslt src="names.xsl"/>
  <set-response-headers>{"X-Wrapped": {{ name($w/*) }}}</set-response-headers>
</flow>`,
	}
	dir := writeProject(t, files)
	p, errs := Load(dir, Options{Env: []string{}, Logger: quietLogger})
	if !xslt.Available() {
		if p != nil || len(errs) != 2 || !strings.Contains(errs[0].Msg, "no XSLT processor") || errs[0].Line != 3 {
			t.Fatalf("without XSLT: %v", errs)
		}
		t.Skip("built without XSLT: the load error is checked; run go test -tags xslt for the transformations")
	}
	if p == nil {
		t.Fatal(errs)
	}
	out := p.Run(context.Background(), &flowengine.Request{Method: "GET", Path: "/a", BodyKnownEmpty: true}, &fakeHost{})
	if string(out.Body) != "ann;bob;" {
		t.Errorf("body %q", out.Body)
	}
	want := map[string]string{"content-type": "text/csv", "x-wrapped": "wrapped"}
	for _, h := range out.SetHeaders {
		if w, ok := want[h.Name]; ok && h.Value != w {
			t.Errorf("%s = %q, want %q", h.Name, h.Value, w)
		}
		delete(want, h.Name)
	}
	if len(want) > 0 {
		t.Errorf("missing headers %v in %v", want, out.SetHeaders)
	}
	// A missing or broken stylesheet is a load error.
	files["a.xml"] = `<flow><xslt src="nope.xsl"/><xslt src="swagger.yaml"/></flow>`
	if p, errs := Load(writeProject(t, files), Options{Env: []string{}}); p != nil || len(errs) != 2 {
		t.Errorf("broken stylesheets: %v", errs)
	}
}
