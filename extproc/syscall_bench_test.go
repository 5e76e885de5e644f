package extproc

import (
	"context"
	"io"
	"log/slog"
	"syscall"
	"testing"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/metadata"

	"github.com/flowproc/flowproc/flowengine/flat"
)

// syscallStream is a fakeStream that makes a system call before it hands
// out each message and after it takes each reply, as gRPC's reader and
// writer goroutines do between a handler's steps on a real server.
type syscallStream struct {
	fakeStream
	syscalls bool
}

func (s *syscallStream) Recv() (*extprocv3.ProcessingRequest, error) {
	if s.syscalls {
		_ = syscall.Getpid()
	}
	return s.fakeStream.Recv()
}

func (s *syscallStream) Send(r *extprocv3.ProcessingResponse) error {
	err := s.fakeStream.Send(r)
	if s.syscalls {
		_ = syscall.Getpid()
	}
	return err
}

// BenchmarkProcessSyscalls runs proxied exchanges through Process on a
// stream that makes a system call between the handler's steps (syscalls),
// and without (warm). On a machine whose kernel entry flushes the TLB
// (page-table isolation without PCID, as on the development VM) every step
// then starts cold, as it does end to end: the difference between the two
// forms is most of the gap between the in-process and the end-to-end cost.
// The noop case is the no-op server's handler on the same stream
// (internal/noopserver: an empty reply to each message); compare each
// case's syscalls form with it. docs/bench.md, "System calls between a
// handler's steps", reads the results.
func BenchmarkProcessSyscalls(b *testing.B) {
	ctx := metadata.NewIncomingContext(context.Background(), metadata.MD{})
	msgs := scriptFor("/api/upstream/items/42?expand=1")
	forms := []struct {
		name     string
		syscalls bool
	}{{"warm", false}, {"syscalls", true}}
	b.Run("noop", func(b *testing.B) {
		for _, f := range forms {
			b.Run(f.name, func(b *testing.B) {
				for b.Loop() {
					st := &syscallStream{fakeStream{ctx: grpcStreamContext(ctx), script: msgs}, f.syscalls}
					if n := noopHandler(st); n != 2 {
						b.Fatalf("%d replies", n)
					}
				}
			})
		}
	})
	for _, c := range []struct {
		name, dir string
		watchdog  bool // flowproc serve's message timeouts: the override_message_timeout watchdog
	}{
		{"minimal", "testdata/minproxy", false},
		{"hello-proxied", "../examples/hello", false},
		{"hello-proxied-watchdog", "../examples/hello", true},
		{"proxy-headers", "../examples/proxy-headers", false},
	} {
		p, errs := flat.Load(c.dir, flat.Options{Env: []string{}})
		if p == nil {
			b.Fatal(errs)
		}
		opts := Options{Resolver: one(runnerFunc(p.Run)), Logger: slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))}
		if c.watchdog {
			opts.MessageTimeout, opts.MaxMessageTimeout, opts.OverrideAfter = time.Second, 10*time.Second, 0.5
		}
		s := New(opts)
		b.Run(c.name, func(b *testing.B) {
			for _, f := range forms {
				b.Run(f.name, func(b *testing.B) {
					for b.Loop() {
						st := &syscallStream{fakeStream{ctx: grpcStreamContext(ctx), script: msgs}, f.syscalls}
						if err := s.Process(st); err != nil || st.sent != 2 {
							b.Fatalf("process: %v, %d replies", err, st.sent)
						}
					}
				})
			}
		})
	}
}

var (
	noopRequestReply  = &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestHeaders{RequestHeaders: &extprocv3.HeadersResponse{}}}
	noopResponseReply = &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseHeaders{ResponseHeaders: &extprocv3.HeadersResponse{}}}
)

// noopHandler answers each headers message with an empty reply until the
// stream ends, and returns how many replies it sent.
func noopHandler(st *syscallStream) int {
	n := 0
	for {
		m, err := st.Recv()
		if err != nil {
			return n
		}
		r := noopResponseReply
		if m.GetRequestHeaders() != nil {
			r = noopRequestReply
		}
		if st.Send(r) == nil {
			n++
		}
	}
}
