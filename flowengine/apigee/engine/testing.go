package engine

import (
	"context"
	"io/fs"
	"log/slog"
	"strings"
	"testing/fstest"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/store"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// TestPolicy compiles one policy from its XML source, for policy unit
// tests. resources maps bundle paths ("resources/jsc/x.js") to contents;
// up is the side-call client (nil: none). It returns the policy (nil on
// error) and every diagnostic.
func TestPolicy(src string, resources map[string]string, up upstream.Client) (Policy, diag.List) {
	fsys := fstest.MapFS{}
	for name, data := range resources {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	fsys["policies/p.xml"] = &fstest.MapFile{Data: []byte(src)}
	pols, errs := bundle.LoadPolicies(fsys, "policies")
	if len(errs) > 0 {
		return nil, errs
	}
	var bp *bundle.Policy
	for _, p := range pols {
		bp = p
	}
	dep, _ := LoadDeployment("")
	proj := &Project{name: "test", bundleName: "test", dep: dep, opts: Options{Logger: slog.New(slog.DiscardHandler), Upstream: up, State: store.MemoryStores()}}
	c := &Compiler{Bundle: &bundle.Bundle{FS: fs.FS(fsys), Policies: pols}, Upstream: up, Deployment: dep, Project: proj, errs: &errs}
	cp := c.compilePolicy(bp)
	if cp == nil {
		return nil, errs
	}
	return cp.impl, nil
}

// TestRun returns a Run for policy unit tests: a client request (method,
// path with query, headers as name/value pairs) with body, in segment seg,
// with no bundle around it. response, when non-nil, is the response
// message the run has (as after a target answered).
func TestRun(ctx context.Context, seg Segment, method, path string, body []byte, response *Message, headers ...string) *Run {
	req := &flowengine.Request{Method: method, Scheme: "https", Authority: "api.example.com", Path: path, ID: "test-request"}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Headers = append(req.Headers, flowengine.Header{Name: headers[i], Value: headers[i+1]})
	}
	req.BodyKnownEmpty = len(body) == 0
	dep, _ := LoadDeployment("")
	p := &Project{name: "test", bundleName: "test", dep: dep, opts: Options{Logger: slog.New(slog.DiscardHandler), Upstream: upstream.NewMock(), State: store.MemoryStores()}}
	r := &Run{p: p}
	r.x.Start(ctx, req, staticHost{body: body})
	r.budget.Reset(ctx, p.opts.Limits)
	r.x.Budget = &r.budget
	p.proxies = []*proxyEP{{endpoint: endpoint{name: "default"}}}
	r.ep = p.proxies[0]
	pth, q, _ := strings.Cut(path, "?")
	r.req = Message{IsRequest: true, Verb: method, Path: pth, rawQuery: q, Headers: req.Headers, Version: "1.1", content: body, loaded: true}
	r.Request = &r.req
	r.Response = response
	r.segment = seg
	r.copySuffix, r.copyQuery = true, true
	return r
}

// SetTestUpstream replaces the side-call client of a TestRun.
func (r *Run) SetTestUpstream(c upstream.Client) { r.p.opts.Upstream = c }

// staticHost is the Host of a TestRun: a fixed request body, no upstream.
type staticHost struct{ body []byte }

func (h staticHost) RequestBody(context.Context) ([]byte, error) { return h.body, nil }
func (h staticHost) Forward(context.Context, *flowengine.Mutation) (*flowengine.Response, error) {
	return nil, flowengine.ErrBodyUnavailable
}
func (h staticHost) ResponseBody(context.Context) ([]byte, error) {
	return nil, flowengine.ErrBodyUnavailable
}

// SetTestProxyPath sets proxy.basepath and proxy.pathsuffix of a TestRun
// (a TestRun has no ProxyEndpoint to derive them from).
func (r *Run) SetTestProxyPath(basePath, suffix string) { r.basePath, r.pathSuffix = basePath, suffix }

// SetTestProducts gives a TestRun a developer/app/product store.
func (r *Run) SetTestProducts(p store.Products) { r.p.products = p }
