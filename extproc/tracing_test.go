package extproc

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	"github.com/flowproc/flowproc/internal/tracehub"
	flowprocv1 "github.com/flowproc/flowproc/proto/flowproc/v1"
)

// BenchmarkProcessTracing measures the header-only exchange of
// BenchmarkProcessHandler with no Tracing ("none"), with a trace hub and no
// session ("off": must cost the same allocations, i.e. nothing), with a
// session that selects no exchange ("other-project"), and with a session
// that traces every exchange ("on").
func BenchmarkProcessTracing(b *testing.B) {
	run := benchRunners[1].run
	cases := []struct {
		name string
		req  *flowprocv1.TraceRequest // nil: no session
		hub  bool
	}{
		{"none", nil, false},
		{"off", nil, true},
		{"other-project", &flowprocv1.TraceRequest{Project: "other"}, true},
		{"on", &flowprocv1.TraceRequest{}, true},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			opts := Options{Resolver: one(run)}
			if c.hub {
				h, err := tracehub.New(tracehub.Options{Buffer: 1})
				if err != nil {
					b.Fatal(err)
				}
				if c.req != nil {
					s, err := h.Open(b.Context(), c.req)
					if err != nil {
						b.Fatal(err)
					}
					defer s.Close()
				}
				opts.Tracing = h
			}
			s := New(opts)
			ctx := metadata.NewIncomingContext(context.Background(), metadata.MD{})
			msgs := benchScript()
			b.ReportAllocs()
			for b.Loop() {
				st := &fakeStream{ctx: ctx, script: msgs}
				if err := s.Process(st); err != nil || st.sent != 2 {
					b.Fatalf("process: %v, %d replies", err, st.sent)
				}
			}
		})
	}
}

// TestTracingOffAllocatesNothing is the benchmark's claim as a test: a hub
// with no session adds no allocation to an exchange.
func TestTracingOffAllocatesNothing(t *testing.T) {
	h, err := tracehub.New(tracehub.Options{})
	if err != nil {
		t.Fatal(err)
	}
	run := benchRunners[1].run
	ctx := metadata.NewIncomingContext(context.Background(), metadata.MD{})
	msgs := benchScript()
	allocs := func(s *Server) float64 {
		return testing.AllocsPerRun(200, func() {
			st := &fakeStream{ctx: ctx, script: msgs}
			if err := s.Process(st); err != nil {
				t.Fatal(err)
			}
		})
	}
	without := allocs(New(Options{Resolver: one(run)}))
	with := allocs(New(Options{Resolver: one(run), Tracing: h}))
	if with != without {
		t.Errorf("allocations per exchange: %v with an idle trace hub, %v without", with, without)
	}
}

// TestTracingRecordsExchange checks the hub sees the exchange as the server
// runs it: request headers, the forward, the upstream response and the
// final status.
func TestTracingRecordsExchange(t *testing.T) {
	h, err := tracehub.New(tracehub.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := h.Open(t.Context(), &flowprocv1.TraceRequest{PathPrefix: "/items"})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	s := New(Options{Resolver: one(benchRunners[1].run), Tracing: h})
	st := &fakeStream{ctx: metadata.NewIncomingContext(context.Background(), metadata.MD{}), script: benchScript()}
	if err := s.Process(st); err != nil {
		t.Fatal(err)
	}
	select {
	case tr := <-sess.C:
		if tr.GetProject() != "demo" || tr.GetPath() != "/items/42?expand=1" || tr.GetStatus() != 200 || tr.GetOutcome() != "forward" {
			t.Errorf("trace = %v", tr)
		}
		if got := tr.GetForward().GetPath(); got != "/v2/items/42?expand=1" {
			t.Errorf("forward path = %q", got)
		}
		var phases []string
		for _, p := range tr.GetPhases() {
			phases = append(phases, p.GetPhase())
			for _, hd := range p.GetHeaders() {
				if hd.GetName() == "cookie" && hd.GetValue() != tracehub.Masked {
					t.Errorf("cookie not masked: %q", hd.GetValue())
				}
			}
		}
		if len(phases) != 2 || phases[0] != "request_headers" || phases[1] != "response_headers" {
			t.Errorf("phases = %v", phases)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no trace")
	}
}
