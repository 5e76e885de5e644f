package policies

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/apigee/msgtemplate"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// Test-only policy types, so these tests do not depend on the policy
// types other files of this package implement:
//
//	<TestCalloutSetVariable name="x"><Name>var</Name><Value>{template}</Value></TestCalloutSetVariable>
//	<TestCalloutRaiseFault name="x"/>  → fault steps.testcalloutraise.Boom, status 418
func init() {
	engine.Register(engine.Kind{Type: "TestCalloutSetVariable", Prefix: "testcalloutset", New: newCalloutTestSet})
	engine.Register(engine.Kind{Type: "TestCalloutRaiseFault", Prefix: "testcalloutraise", New: func(c *engine.Compiler, p *bundle.Policy) engine.Policy {
		return calloutTestRaise{}
	}})
}

type calloutTestSet struct {
	name string
	val  *msgtemplate.Template
}

func newCalloutTestSet(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	n, v := p.Root.Child("Name"), p.Root.Child("Value")
	if n == nil || v == nil {
		c.Errorf(p.Root, diag.APMissingElement, "TestCalloutSetVariable needs <Name> and <Value>")
		return nil
	}
	t := c.Template(v, v.Text)
	if t == nil {
		return nil
	}
	return &calloutTestSet{name: n.Text, val: t}
}

func (s *calloutTestSet) Execute(r *engine.Run) error {
	v, _, err := s.val.String(r)
	if err != nil {
		return err
	}
	return r.Set(s.name, v)
}

type calloutTestRaise struct{}

func (calloutTestRaise) Execute(*engine.Run) error {
	return engine.NewFault("testcalloutraise", "Boom", 418, "boom")
}

// calloutHost is the Host of the end-to-end tests: no request body, no
// upstream (the test proxies have no target).
type calloutHost struct{}

func (calloutHost) RequestBody(context.Context) ([]byte, error) { return nil, nil }
func (calloutHost) Forward(context.Context, *flowengine.Mutation) (*flowengine.Response, error) {
	return nil, flowengine.ErrBodyUnavailable
}
func (calloutHost) ResponseBody(context.Context) ([]byte, error) {
	return nil, flowengine.ErrBodyUnavailable
}

// calloutProject writes files (path relative to the project directory →
// content) into a new temporary directory and returns it.
func calloutProject(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// calloutProxyFiles is a no-target proxy at /v1 whose request and response
// PreFlows run the named policies (each given as its XML).
func calloutProxyFiles(reqSteps, respSteps []string, policies map[string]string) map[string]string {
	steps := func(names []string) string {
		var b strings.Builder
		for _, n := range names {
			b.WriteString("<Step><Name>" + n + "</Name></Step>")
		}
		return b.String()
	}
	files := map[string]string{
		"apiproxy/p.xml": `<APIProxy name="p"/>`,
		"apiproxy/proxies/default.xml": `<ProxyEndpoint name="default">
  <PreFlow name="PreFlow"><Request>` + steps(reqSteps) + `</Request><Response>` + steps(respSteps) + `</Response></PreFlow>
  <HTTPProxyConnection><BasePath>/v1</BasePath></HTTPProxyConnection>
  <RouteRule name="noroute"/>
</ProxyEndpoint>`,
	}
	for name, xml := range policies {
		files["apiproxy/policies/"+name+".xml"] = xml
	}
	return files
}

// calloutSharedFlow adds shared flow bundle name, running steps, with its
// policies, to files.
func calloutSharedFlow(files map[string]string, name string, steps []string, policies map[string]string) {
	base := "sharedflows/" + name + "/sharedflowbundle/"
	files[base+name+".xml"] = `<SharedFlowBundle name="` + name + `"/>`
	var b strings.Builder
	b.WriteString(`<SharedFlow name="default">`)
	for _, s := range steps {
		b.WriteString("<Step><Name>" + s + "</Name></Step>")
	}
	b.WriteString(`</SharedFlow>`)
	files[base+"sharedflows/default.xml"] = b.String()
	for n, xml := range policies {
		files[base+"policies/"+n+".xml"] = xml
	}
}

func calloutLoad(t *testing.T, dir string, up upstream.Client) (*engine.Project, diag.List) {
	t.Helper()
	return engine.Load(dir, engine.Options{Name: "p", Logger: slog.New(slog.DiscardHandler), Upstream: up})
}

// calloutGet runs GET path through p.
func calloutGet(t *testing.T, p *engine.Project, path string, headers ...string) *flowengine.Outcome {
	t.Helper()
	req := &flowengine.Request{Method: "GET", Scheme: "https", Authority: "api.example.com", Path: path, ID: "rid-1", BodyKnownEmpty: true}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Headers = append(req.Headers, flowengine.Header{Name: headers[i], Value: headers[i+1]})
	}
	return p.Run(context.Background(), req, calloutHost{})
}

// header returns the value of a response header the outcome sets.
func calloutHeader(o *flowengine.Outcome, name string) string {
	for _, h := range append(append([]flowengine.Header{}, o.SetHeaders...), o.AddHeaders...) {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

func calloutSetVar(name, template string) string {
	return `<TestCalloutSetVariable name="` + name + `"><Name>` + template[:strings.IndexByte(template, '=')] + `</Name><Value>` + template[strings.IndexByte(template, '=')+1:] + `</Value></TestCalloutSetVariable>`
}
