package extproc

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"google.golang.org/grpc/metadata"

	"github.com/flowproc/flowproc/flowengine/flat"
)

// evictBuf is larger than this machine's per-core caches: writing a byte
// of each of its cache lines leaves little of an exchange's working set
// cached for the next one.
var evictBuf = make([]byte, 2<<20)

func evictCaches() {
	for i := 0; i < len(evictBuf); i += 64 {
		evictBuf[i]++
	}
}

// BenchmarkProcessEvicted runs the proxied routes of the example projects
// with the caches evicted before each exchange, as a saturated server that
// shares its cores with other work meets them: a run then pays a cache
// miss for most of the memory it touches (compiled flows, templates,
// pooled runs), which the warm in-process benchmarks hide. Subtract the
// evict-only case's time; docs/bench.md (2026-12-06, tenth session) reads
// it.
func BenchmarkProcessEvicted(b *testing.B) {
	b.Run("evict-only", func(b *testing.B) {
		for b.Loop() {
			evictCaches()
		}
	})
	for _, c := range []struct{ name, dir string }{
		{"hello-proxied", "../examples/hello"},
		{"proxy-headers", "../examples/proxy-headers"},
	} {
		p, errs := flat.Load(c.dir, flat.Options{Env: []string{}})
		if p == nil {
			b.Fatal(errs)
		}
		b.Run(c.name, func(b *testing.B) {
			s := New(Options{Resolver: one(runnerFunc(p.Run)), Logger: slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))})
			ctx := metadata.NewIncomingContext(context.Background(), metadata.MD{})
			msgs := scriptFor("/api/upstream/items/42?expand=1")
			for b.Loop() {
				evictCaches()
				st := &fakeStream{ctx: grpcStreamContext(ctx), script: msgs}
				if err := s.Process(st); err != nil || st.sent != 2 {
					b.Fatalf("process: %v, %d replies", err, st.sent)
				}
			}
		})
	}
}
