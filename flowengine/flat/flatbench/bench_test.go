// Package flatbench holds the FLAT engine's benchmarks. They live apart
// from flat's own tests so that their binary links only the engine: the
// case suite's extproc leg pulls in gRPC and go-control-plane, whose live
// protobuf descriptors make every GC cycle dearer and would add ~40% to
// these numbers without the engine doing any more work.
package flatbench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/flat"
)

// Engine-only benchmarks on the example project's routes. Goals (issue #2):
// header-only routes under 10 µs and 50 allocs per exchange; a 4 KiB JSON
// body read through XPath under 60 µs. Measured, not asserted.

var benchHeaders = []flowengine.Header{
	{Name: "user-agent", Value: "curl/8.5.0"},
	{Name: "accept", Value: "*/*"},
	{Name: "x-forwarded-proto", Value: "http"},
	{Name: "x-request-id", Value: "2f1b7a34-7f8e-4a39-9a4f-2d3c1e5b6a7c"},
	{Name: "authorization", Value: "Bearer abc.def.ghi"},
}

// benchRun runs req on p. Its runs are never recycled, so each starts from
// a fresh run (the pool is empty): the cost of a run the host cannot
// recycle when no recycled run is at hand.
func benchRun(b *testing.B, p *flat.Project, req *flowengine.Request, resp *flowengine.Response, body []byte) {
	b.Helper()
	runLoop(b, p, req, resp, body, false)
}

// runLoop runs req on p; with recycle it hands each finished run back
// (Outcome.Recycle), as the ext_proc server does once its last reply is
// sent.
func runLoop(b *testing.B, p *flat.Project, req *flowengine.Request, resp *flowengine.Response, body []byte, recycle bool) {
	ctx := context.Background()
	h := &fakeHost{resp: resp, body: body}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		h.forwards = h.forwards[:0]
		out := p.Run(ctx, req, h)
		if out.Status >= 400 {
			b.Fatalf("status %d: %s", out.Status, out.Body)
		}
		if recycle {
			if out.Recycle == nil {
				b.Fatal("run not offered for recycling")
			}
			out.Recycle.Recycle()
		}
	}
}

// The example's templated and proxied routes, and the upstream's answer
// on the proxied one.
const (
	templatedPath = "/api/hello/world?lang=de"
	proxiedPath   = "/api/upstream/things?x=1"
)

// exampleGet is a header-only GET of path as the benchmarks send it.
func exampleGet(path string) *flowengine.Request {
	return &flowengine.Request{Method: "GET", Scheme: "http", Authority: "localhost:10000", Path: path, Headers: benchHeaders, ID: "rid", BodyKnownEmpty: true}
}

func upstreamOK() *flowengine.Response {
	return &flowengine.Response{Status: 200, Headers: []flowengine.Header{{Name: "content-type", Value: "application/json"}, {Name: "content-length", Value: "42"}}}
}

// BenchmarkRunTemplated: GET /api/hello/{name}, answered from a template
// using $request (init flow + path flow).
func BenchmarkRunTemplated(b *testing.B) {
	benchRun(b, loadExample(b), exampleGet(templatedPath), nil, nil)
}

// BenchmarkRunProxied: GET /api/upstream/**, proxy-request with rewrites,
// then post-processing of the upstream status.
func BenchmarkRunProxied(b *testing.B) {
	benchRun(b, loadExample(b), exampleGet(proxiedPath), upstreamOK(), nil)
}

// BenchmarkRunTemplatedRecycled and BenchmarkRunProxiedRecycled are
// RunTemplated and RunProxied with each run recycled, as in the server.
func BenchmarkRunTemplatedRecycled(b *testing.B) {
	runLoop(b, loadExample(b), exampleGet(templatedPath), nil, nil, true)
}

func BenchmarkRunProxiedRecycled(b *testing.B) {
	runLoop(b, loadExample(b), exampleGet(proxiedPath), upstreamOK(), nil, true)
}

// BenchmarkRunXFlatProxy: an x-flat-proxy route (no flow file).
func BenchmarkRunXFlatProxy(b *testing.B) {
	p := loadExample(b)
	req := &flowengine.Request{Method: "GET", Scheme: "http", Authority: "localhost:10000", Path: "/api/status/health", Headers: benchHeaders, ID: "rid", BodyKnownEmpty: true}
	benchRun(b, p, req, &flowengine.Response{Status: 200}, nil)
}

// BenchmarkRunNoop: a project whose only flow is empty, answered with an
// empty 200 (FLAT is a gateway) — the engine's floor per exchange.
func BenchmarkRunNoop(b *testing.B) {
	dir := writeBenchProject(b, map[string]string{
		"swagger.yaml": "swagger: \"2.0\"\npaths:\n  /**:\n    x-flat-flow: a.xml\n",
		"a.xml":        "<flow/>",
	})
	p, errs := flat.Load(dir, flat.Options{Env: []string{}})
	if p == nil {
		b.Fatal(errs)
	}
	req := &flowengine.Request{Method: "GET", Scheme: "http", Authority: "localhost:10000", Path: "/x", Headers: benchHeaders, ID: "rid", BodyKnownEmpty: true}
	benchRun(b, p, req, &flowengine.Response{Status: 200}, nil)
}

// BenchmarkRunJSONBody4K: POST /api/echo with a 4 KiB JSON body read
// through XPath and a template loop.
func BenchmarkRunJSONBody4K(b *testing.B) { benchJSONBody(b, 4000) }

// BenchmarkRunJSONBody1M is BenchmarkRunJSONBody4K with a 1 MiB body. Its
// B/bodybyte metric (bytes allocated per exchange per body byte) bounds
// the peak heap a JSON body costs on the real path (issue #12: ≤ 8×).
func BenchmarkRunJSONBody1M(b *testing.B) { benchJSONBody(b, 1<<20) }

func benchJSONBody(b *testing.B, size int) {
	p, errs := flat.Load("../../../examples/hello", flat.Options{Env: []string{"FLAT_STAGE=test"}, MaxBodyBytes: 2 << 20,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if p == nil {
		b.Fatalf("example does not load:\n%v", errs)
	}
	body := jsonItems(size)
	b.SetBytes(int64(len(body)))
	req := &flowengine.Request{Method: "POST", Scheme: "http", Authority: "localhost:10000", Path: "/api/echo",
		Headers: append([]flowengine.Header{{Name: "content-type", Value: "application/json"}}, benchHeaders...), ID: "rid"}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	benchRun(b, p, req, nil, body)
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/float64(len(body)), "B/bodybyte")
}

// BenchmarkRunUpstreamJSON64K: a forwarded request whose 64 KiB JSON
// upstream body a template reads (count, a loop calling toupper) as the
// new response body.
func BenchmarkRunUpstreamJSON64K(b *testing.B) {
	dir := writeBenchProject(b, map[string]string{
		"swagger.yaml": "swagger: \"2.0\"\npaths:\n  /**:\n    x-flat-flow: a.xml\n",
		"a.xml": `<flow>
  <proxy-request>{ "origin": "http://upstream" }</proxy-request>
  <template>{ "count": {{ count(items/value) }}, "names": [ {{loop items}} {{ toupper(name) }} {{end}} ] }</template>
</flow>`,
	})
	p, errs := flat.Load(dir, flat.Options{Env: []string{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if p == nil {
		b.Fatal(errs)
	}
	body := jsonItems(64 << 10)
	req := &flowengine.Request{Method: "GET", Scheme: "http", Authority: "localhost:10000", Path: "/x", Headers: benchHeaders, ID: "rid", BodyKnownEmpty: true}
	resp := &flowengine.Response{Status: 200, Headers: []flowengine.Header{{Name: "content-type", Value: "application/json"}}}
	h := &fakeHost{resp: resp, respBody: body}
	ctx := context.Background()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for b.Loop() {
		h.forwards = h.forwards[:0]
		out := p.Run(ctx, req, h)
		if out.Status >= 400 || !bytes.Contains(out.Body, []byte(`"ITEM-001"`)) {
			b.Fatalf("status %d: %.200s", out.Status, out.Body)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/float64(len(body)), "B/bodybyte")
}

// jsonItems returns {"items":[…]} of about size bytes.
func jsonItems(size int) []byte {
	var sb strings.Builder
	sb.WriteString(`{"items":[`)
	for i := 0; sb.Len() < size; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"name":"item-%03d","price":%d,"tags":["a","b"]}`, i, i%17)
	}
	sb.WriteString(`]}`)
	return []byte(sb.String())
}

func writeBenchProject(b *testing.B, files map[string]string) string {
	b.Helper()
	dir := b.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

func loadExample(b *testing.B) *flat.Project {
	b.Helper()
	p, errs := flat.Load("../../../examples/hello", flat.Options{Env: []string{"FLAT_STAGE=test"}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if p == nil {
		b.Fatalf("example does not load:\n%v", errs)
	}
	return p
}

// fakeHost answers a run's I/O from memory.
type fakeHost struct {
	body     []byte
	resp     *flowengine.Response
	respBody []byte
	forwards []*flowengine.Mutation
}

func (h *fakeHost) RequestBody(context.Context) ([]byte, error) { return h.body, nil }

func (h *fakeHost) Forward(_ context.Context, m *flowengine.Mutation) (*flowengine.Response, error) {
	h.forwards = append(h.forwards, m)
	if h.resp == nil {
		return &flowengine.Response{Status: 200, BodyKnownEmpty: true}, nil
	}
	return h.resp, nil
}

func (h *fakeHost) ResponseBody(context.Context) ([]byte, error) { return h.respBody, nil }
