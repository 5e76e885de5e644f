package extproc

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/metadata"

	"github.com/flowproc/flowproc/extproc/extproctest"
	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/budget"
	"github.com/flowproc/flowproc/flowengine/flat"
	_ "github.com/flowproc/flowproc/flowengine/frontends" // the Apigee loader
	"github.com/flowproc/flowproc/flowengine/projects"
)

// BenchmarkProcessExample measures one header-only exchange of the embedded
// example project through Process (in-process stream, no transport) next to
// a no-op project (an empty flow, which answers an empty 200: FLAT is a
// gateway), so the flow's own cost is the difference. "proxied" is /api/upstream/** (init flow, proxy-request with
// rewrites, status post-processing); "templated" is /api/hello/{name}
// (init flow, template answer → ImmediateResponse); "proxy-headers-warn" is
// examples/proxy-headers. The "-warn" cases log at
// warn, as flowproc bench's server child does: no flat_access record.
func BenchmarkProcessExample(b *testing.B) {
	example, errs := flat.Load("../examples/hello", flat.Options{Env: []string{}})
	if example == nil {
		b.Fatal(errs)
	}
	proxyHeaders, errs := flat.Load("../examples/proxy-headers", flat.Options{Env: []string{}})
	if proxyHeaders == nil {
		b.Fatal(errs)
	}
	noop := loadNoopProject(b)
	cases := []struct {
		name   string
		runner flowengine.Runner
		path   string
		sent   int
		level  slog.Level
	}{
		{"noop-project", noop, "/anything/42", 1, slog.LevelInfo},
		{"proxied", example, "/api/upstream/items/42?expand=1", 2, slog.LevelInfo},
		{"templated", example, "/api/hello/world?lang=de", 1, slog.LevelInfo},
		{"proxied-warn", example, "/api/upstream/items/42?expand=1", 2, slog.LevelWarn},
		// examples/proxy-headers: the proxied route without hello's init
		// flow, <log> and error condition.
		{"proxy-headers-warn", proxyHeaders, "/api/upstream/items/42?expand=1", 2, slog.LevelWarn},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			s := New(Options{Resolver: one(runnerFunc(c.runner.Run)), Logger: slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: c.level}))})
			ctx := metadata.NewIncomingContext(context.Background(), metadata.MD{})
			msgs := scriptFor(c.path)
			b.ReportAllocs()
			for b.Loop() {
				// grpcStreamContext: what GRPCOptions' tap and the transport give every stream.
				st := &fakeStream{ctx: grpcStreamContext(ctx), script: msgs}
				if err := s.Process(st); err != nil || st.sent != c.sent {
					b.Fatalf("process: %v, %d replies", err, st.sent)
				}
			}
		})
	}
}

// scriptFor is benchScript with the request for path.
func scriptFor(path string) []*extprocv3.ProcessingRequest {
	req := *benchRequest
	req.Path = path
	msgs := benchScript()
	msgs[0] = extproctest.RequestHeaders(&req, true)
	return msgs
}

func loadNoopProject(b testing.TB) *flat.Project {
	b.Helper()
	dir := b.TempDir()
	files := map[string]string{
		"swagger.yaml": "swagger: \"2.0\"\npaths:\n  /**:\n    x-flat-flow: noop.xml\n",
		"noop.xml":     "<flow/>\n",
	}
	for name, content := range files {
		if err := writeTestFile(dir, name, content); err != nil {
			b.Fatal(err)
		}
	}
	p, errs := flat.Load(dir, flat.Options{Env: []string{}})
	if p == nil {
		b.Fatal(errs)
	}
	return p
}

func writeTestFile(dir, name, content string) error {
	return os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
}

// BenchmarkProcessExampleParallel is BenchmarkProcessExample's proxied-warn
// case served from every core at once (b.RunParallel), as a loaded server
// does: what the exchanges share (metrics, pools, caches) is contended
// here and not in the one-goroutine benchmarks. It runs at flowproc
// serve's collector target (budget.DefaultGCPercent): at Go's default the
// collector marks for about half of the benchmark's time, and the write
// barriers of that marking, not the exchanges, would dominate.
func BenchmarkProcessExampleParallel(b *testing.B) {
	defer debug.SetGCPercent(debug.SetGCPercent(budget.DefaultGCPercent))
	example, errs := flat.Load("../examples/hello", flat.Options{Env: []string{}})
	if example == nil {
		b.Fatal(errs)
	}
	s := New(Options{Resolver: one(runnerFunc(example.Run)), Logger: slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	ctx := metadata.NewIncomingContext(context.Background(), metadata.MD{})
	msgs := scriptFor("/api/upstream/items/42?expand=1")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			st := &fakeStream{ctx: grpcStreamContext(ctx), script: msgs}
			if err := s.Process(st); err != nil || st.sent != 2 {
				b.Errorf("process: %v, %d replies", err, st.sent)
				return
			}
		}
	})
}

// BenchmarkProcessApigeeExample measures the embedded Apigee bundle's
// proxied route, GET /v1/orders/42 (the ProxyEndpoint's flows, a RouteRule
// to the orders TargetEndpoint and its flows), through Process: on one
// goroutine, and from every core at once as BenchmarkProcessExampleParallel
// does for the FLAT example.
func BenchmarkProcessApigeeExample(b *testing.B) {
	set := loadProjectSet(b, "../examples/apigee-hello")
	s := New(Options{Resolver: set, Logger: slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	ctx := metadata.NewIncomingContext(context.Background(), metadata.MD{})
	msgs := scriptFor("/v1/orders/42")
	exchange := func() error {
		st := &fakeStream{ctx: grpcStreamContext(ctx), script: msgs}
		if err := s.Process(st); err != nil || st.sent != 2 {
			return fmt.Errorf("process: %v, %d replies", err, st.sent)
		}
		return nil
	}
	b.Run("proxied", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := exchange(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("proxied-parallel", func(b *testing.B) {
		defer debug.SetGCPercent(debug.SetGCPercent(budget.DefaultGCPercent))
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := exchange(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkProcessApigeeJavascript is BenchmarkProcessApigeeExample's
// proxied route with a Javascript step added to the PreFlow: a policy that
// asks for its run context's Done (context.AfterFunc), so the exchange is
// reused without its run context (runCtx, TestRecycleLeavesWaitedContext).
func BenchmarkProcessApigeeJavascript(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "apigee-js")
	if err := os.CopyFS(dir, os.DirFS("../examples/apigee-hello")); err != nil {
		b.Fatal(err)
	}
	proxy := filepath.Join(dir, "apiproxy", "proxies", "default.xml")
	src, err := os.ReadFile(proxy)
	if err != nil {
		b.Fatal(err)
	}
	withJS := strings.Replace(string(src), "<Name>AM-Add-Via</Name>\n            </Step>",
		"<Name>AM-Add-Via</Name>\n            </Step>\n            <Step>\n                <Name>JS-Mark</Name>\n            </Step>", 1)
	if withJS == string(src) {
		b.Fatal("the PreFlow's AM-Add-Via step moved: update the benchmark")
	}
	for name, content := range map[string]string{
		"apiproxy/proxies/default.xml":   withJS,
		"apiproxy/policies/JS-Mark.xml":  `<Javascript name="JS-Mark"><ResourceURL>jsc://mark.js</ResourceURL></Javascript>`,
		"apiproxy/resources/jsc/mark.js": `context.setVariable("js.mark", "1");`,
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	set := loadProjectSet(b, dir)
	s := New(Options{Resolver: set, Logger: slog.New(slog.DiscardHandler)})
	ctx := metadata.NewIncomingContext(context.Background(), metadata.MD{})
	msgs := scriptFor("/v1/orders/42")
	b.ReportAllocs()
	for b.Loop() {
		st := &fakeStream{ctx: grpcStreamContext(ctx), script: msgs}
		if err := s.Process(st); err != nil || st.sent != 2 {
			b.Fatalf("process: %v, %d replies", err, st.sent)
		}
	}
}

// loadProjectSet loads the project in dir through the front ends' loaders
// (FLAT or Apigee), failing tb when it does not load cleanly.
func loadProjectSet(tb testing.TB, dir string) *projects.Set {
	tb.Helper()
	set, err := projects.Load([]string{dir}, "", projects.LoadOptions{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range set.Entries() {
		if len(e.Errors) > 0 {
			tb.Fatal(e.Errors)
		}
	}
	return set
}
