package policies

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// TestJavascriptInBundle runs Javascript policies inside a proxy: a
// script that throws becomes Apigee's fault response, a DefaultFaultRule
// script sees the fault, and a response-flow script sets a header.
func TestJavascriptInBundle(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"apiproxy/proxies/default.xml": `<ProxyEndpoint name="default">
  <PreFlow><Request><Step><Name>JS-Check</Name></Step></Request>
    <Response><Step><Name>JS-Decorate</Name></Step></Response></PreFlow>
  <DefaultFaultRule><Step><Name>JS-OnError</Name></Step><AlwaysEnforce>true</AlwaysEnforce></DefaultFaultRule>
  <HTTPProxyConnection><BasePath>/v1</BasePath></HTTPProxyConnection>
  <RouteRule name="none"/>
</ProxyEndpoint>`,
		"apiproxy/policies/JS-Check.xml":    `<Javascript name="JS-Check" timeLimit="500"><ResourceURL>jsc://check.js</ResourceURL></Javascript>`,
		"apiproxy/policies/JS-Decorate.xml": `<Javascript name="JS-Decorate" timeLimit="500"><Source>response.headers['x-flow'] = context.flow; response.content = "ok";</Source></Javascript>`,
		"apiproxy/policies/JS-OnError.xml":  `<Javascript name="JS-OnError" timeLimit="500"><Source>context.setVariable("response.header.x-fault", context.getVariable("fault.name") + "/" + context.getVariable("javascript.JS-Check.failed"));</Source></Javascript>`,
		"apiproxy/resources/jsc/check.js":   "if (request.queryParams['fail'] == 'yes') {\n  throw new Error(\"refused\");\n}\n",
	}
	for name, data := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, errs := engine.Load(dir, engine.Options{Name: "js", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Upstream: upstream.NewMock()})
	if p == nil || len(errs) > 0 {
		t.Fatalf("load: %v", errs)
	}
	header := func(o *flowengine.Outcome, name string) string {
		for _, h := range append(append([]flowengine.Header(nil), o.SetHeaders...), o.AddHeaders...) {
			if strings.EqualFold(h.Name, name) {
				return h.Value
			}
		}
		return ""
	}

	o := p.Run(context.Background(), &flowengine.Request{Method: "GET", Scheme: "https", Authority: "a", Path: "/v1/x", ID: "1", BodyKnownEmpty: true}, noTargetHost{})
	if o.Status != 0 && o.Status != 200 || string(o.Body) != "ok" || header(o, "x-flow") != "PROXY_RESP_FLOW" {
		t.Errorf("success: status %d body %q x-flow %q", o.Status, o.Body, header(o, "x-flow"))
	}

	o = p.Run(context.Background(), &flowengine.Request{Method: "GET", Scheme: "https", Authority: "a", Path: "/v1/x?fail=yes", ID: "2", BodyKnownEmpty: true}, noTargetHost{})
	want := `{"fault":{"faultstring":"Execution of JS-Check failed with error: Javascript runtime error: \"Error: refused. (check.js:2)\"","detail":{"errorcode":"steps.javascript.ScriptExecutionFailed"}}}`
	if o.Status != 500 || string(o.Body) != want || o.Error != "ScriptExecutionFailed" {
		t.Errorf("fault: status %d error %q body %s", o.Status, o.Error, o.Body)
	}
	if got := header(o, "x-fault"); got != "ScriptExecutionFailed/true" {
		t.Errorf("x-fault = %q", got)
	}
}
