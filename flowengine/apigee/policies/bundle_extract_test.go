package policies

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

// bodyHost is a flowengine.Host with a fixed request body and no
// upstream.
type bodyHost struct{ body []byte }

func (h bodyHost) RequestBody(context.Context) ([]byte, error) { return h.body, nil }
func (h bodyHost) Forward(context.Context, *flowengine.Mutation) (*flowengine.Response, error) {
	return nil, flowengine.ErrBodyUnavailable
}
func (h bodyHost) ResponseBody(context.Context) ([]byte, error) {
	return nil, flowengine.ErrBodyUnavailable
}

func writeBundle(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, "apiproxy", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestBundleRoundTrip runs the policies inside a loaded bundle: the
// ProxyEndpoint extracts variables (into request headers, which the
// no-target echo returns), converts the JSON request to XML and, on the
// way back, the echoed XML to JSON.
func TestBundleRoundTrip(t *testing.T) {
	dir := writeBundle(t, map[string]string{
		"proxies/default.xml": `<ProxyEndpoint name="default">
  <PreFlow>
    <Request><Step><Name>EV</Name></Step><Step><Name>J2X</Name></Step></Request>
    <Response><Step><Name>X2J</Name></Step></Response>
  </PreFlow>
  <HTTPProxyConnection><BasePath>/v1</BasePath></HTTPProxyConnection>
  <RouteRule name="echo"/>
</ProxyEndpoint>`,
		"policies/EV.xml": `<ExtractVariables name="EV"><VariablePrefix>request.header</VariablePrefix>
  <URIPath><Pattern>/users/{x-user}</Pattern></URIPath>
  <JSONPayload><Variable name="x-name"><JSONPath>$.user.name</JSONPath></Variable></JSONPayload></ExtractVariables>`,
		"policies/J2X.xml": `<JSONToXML name="J2X"><Options><AttributePrefix>@</AttributePrefix></Options></JSONToXML>`,
		"policies/X2J.xml": `<XMLToJSON name="X2J"><Options><AttributePrefix>@</AttributePrefix><TextNodeName>#text</TextNodeName><RecognizeNumber>true</RecognizeNumber></Options></XMLToJSON>`,
	})
	p, errs := engine.Load(dir, engine.Options{Logger: slog.New(slog.DiscardHandler)})
	if len(errs) > 0 {
		t.Fatalf("load: %v", errs)
	}
	run := func(body string) *flowengine.Outcome {
		req := &flowengine.Request{Method: "POST", Scheme: "https", Authority: "api.example.com", Path: "/v1/users/42", ID: "r1",
			Headers: []flowengine.Header{{Name: "content-type", Value: "application/json"}}}
		return p.Run(context.Background(), req, bodyHost{body: []byte(body)})
	}
	out := run(`{"user":{"@id":7,"name":"Ann","n":3}}`)
	if out.Status != 0 && out.Status != 200 {
		t.Fatalf("status %d, error %s, body %s", out.Status, out.Error, out.Body)
	}
	if got, want := string(out.Body), `{"user":{"@id":7,"name":"Ann","n":3}}`; got != want {
		t.Errorf("body %s, want %s", got, want)
	}
	headers := map[string]string{}
	for _, h := range append(out.SetHeaders, out.AddHeaders...) {
		headers[strings.ToLower(h.Name)] = h.Value
	}
	for name, want := range map[string]string{"x-user": "42", "x-name": "Ann", "content-type": "application/json"} {
		if headers[name] != want {
			t.Errorf("header %s = %q, want %q (headers %v)", name, headers[name], want, headers)
		}
	}

	bad := run(`{"user":`)
	if bad.Status != 500 || !strings.Contains(string(bad.Body), `"errorcode":"steps.extractvariables.ExecutionFailed"`) {
		t.Errorf("malformed JSON: status %d body %s", bad.Status, bad.Body)
	}
}
