package xslt

import (
	"strings"
	"sync"
	"testing"
)

func needXSLT(t *testing.T) {
	t.Helper()
	if !Available() {
		t.Skip("built without XSLT: run go test -tags xslt (needs libxslt1-dev and cgo); .ci/run does")
	}
}

func TestTransform(t *testing.T) {
	needXSLT(t)
	for _, tc := range []struct {
		name, style, in string
		want, method    string
		mediaType       string
	}{
		{name: "xml", style: `<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
<xsl:output method="xml" omit-xml-declaration="yes"/>
<xsl:template match="/list"><names><xsl:for-each select="item"><n><xsl:value-of select="@name"/></n></xsl:for-each></names></xsl:template>
</xsl:stylesheet>`, in: `<list><item name="a"/><item name="b"/></list>`, want: "<names><n>a</n><n>b</n></names>", method: "xml"},
		{name: "text with media type", style: `<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
<xsl:output method="text" media-type="text/csv"/>
<xsl:template match="/"><xsl:for-each select="list/item"><xsl:value-of select="@name"/>,</xsl:for-each></xsl:template>
</xsl:stylesheet>`, in: `<list><item name="a"/><item name="b"/></list>`, want: "a,b,", method: "text", mediaType: "text/csv"},
		{name: "html", style: `<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
<xsl:output method="html"/>
<xsl:template match="/"><html><body><p><xsl:value-of select="count(//item)"/></p></body></html></xsl:template>
</xsl:stylesheet>`, in: `<list><item/><item/></list>`, want: "<p>2</p>", method: "html"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Compile(tc.name, []byte(tc.style))
			if err != nil {
				t.Fatal(err)
			}
			out, err := s.Transform([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(out.Data), tc.want) || out.Method != tc.method || out.MediaType != tc.mediaType {
				t.Errorf("got %q method %q media %q; want %q %q %q", out.Data, out.Method, out.MediaType, tc.want, tc.method, tc.mediaType)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	needXSLT(t)
	if _, err := Compile("empty", nil); err == nil {
		t.Error("an empty stylesheet compiled")
	}
	if _, err := Compile("bad", []byte("<not-xslt")); err == nil {
		t.Error("broken XML compiled")
	}
	if _, err := Compile("no xslt", []byte("<a/>")); err == nil {
		t.Error("a document that is no stylesheet compiled")
	}
	s, err := Compile("doc", []byte(`<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
<xsl:template match="/"><x><xsl:copy-of select="document('/etc/passwd')"/></x></xsl:template></xsl:stylesheet>`))
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Transform([]byte("<a/>"))
	if err == nil && strings.Contains(string(out.Data), "root:") {
		t.Fatalf("document() read a file: %s", out.Data)
	}
	if _, err := s.Transform([]byte("not xml")); err == nil {
		t.Error("input that is not XML transformed")
	}
	// No XXE: an external entity is neither fetched nor expanded.
	id, err := Compile("id", []byte(`<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><xsl:template match="/"><xsl:copy-of select="."/></xsl:template></xsl:stylesheet>`))
	if err != nil {
		t.Fatal(err)
	}
	out, _ = id.Transform([]byte(`<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>`))
	if out != nil && strings.Contains(string(out.Data), "root:") {
		t.Fatalf("an external entity was expanded: %s", out.Data)
	}
}

func TestConcurrent(t *testing.T) {
	needXSLT(t)
	s, err := Compile("c", []byte(`<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><xsl:output method="text"/><xsl:template match="/"><xsl:value-of select="sum(//n)"/></xsl:template></xsl:stylesheet>`))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := s.Transform([]byte("<r><n>1</n><n>" + strings.Repeat("1", i%3+1) + "</n></r>"))
			if err != nil || len(out.Data) == 0 {
				t.Errorf("transform: %v", err)
			}
		}()
	}
	wg.Wait()
}

func TestUnavailable(t *testing.T) {
	if Available() {
		t.Skip("built with XSLT")
	}
	if _, err := Compile("x", []byte("<a/>")); err != ErrUnavailable {
		t.Errorf("err = %v, want ErrUnavailable", err)
	}
}

func TestTransformWith(t *testing.T) {
	needXSLT(t)
	s, err := Compile("p.xsl", []byte(`<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><xsl:output method="text"/><xsl:param name="who"/><xsl:param name="q"/><xsl:template match="/">hi <xsl:value-of select="$who"/>/<xsl:value-of select="$q"/>/<xsl:value-of select="/a"/></xsl:template></xsl:stylesheet>`))
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.TransformWith([]byte("<a>doc</a>"), []string{"who", `O'Brien "x"`, "q", "1+1"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out.Data), `hi O'Brien "x"/1+1/doc`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := s.TransformWith([]byte("<a/>"), []string{"odd"}); err == nil {
		t.Error("odd parameter list accepted")
	}
}
