package tracehub

import (
	"context"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine"
	flowprocv1 "github.com/flowproc/flowproc/proto/flowproc/v1"
)

// TestExchangeDone: a traced exchange's trace is delivered by
// ExchangeDone, not when the run returns; its duration runs until then; a
// status given replaces the run's; later calls deliver nothing more; a run
// that panicked is reported as such.
func TestExchangeDone(t *testing.T) {
	h := newHub(t, Options{})
	s, err := h.Open(t.Context(), &flowprocv1.TraceRequest{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	req := request()
	r := h.Trace("p", req, proxyRunner)
	tr, ok := r.(interface{ ExchangeDone(int) })
	if !ok {
		t.Fatalf("%T has no ExchangeDone", r)
	}
	r.Run(context.Background(), req, okHost())
	select {
	case d := <-s.C:
		t.Fatalf("trace delivered when the run returned: %v", d)
	default:
	}
	const after = 30 * time.Millisecond
	time.Sleep(after)
	tr.ExchangeDone(502)
	tr.ExchangeDone(200)
	d := <-s.C
	if got := time.Duration(d.DurationUs) * time.Microsecond; got < after {
		t.Errorf("durationUs %v, want at least %v (until ExchangeDone)", got, after)
	}
	if d.Status != 502 {
		t.Errorf("status %d, want 502 from ExchangeDone", d.Status)
	}
	select {
	case d := <-s.C:
		t.Errorf("a second ExchangeDone delivered again: %v", d)
	default:
	}

	// A run that panicked (its caller recovered) still ends with a trace.
	req = request()
	r = h.Trace("p", req, runnerFunc(func(context.Context, *flowengine.Request, flowengine.Host) *flowengine.Outcome { panic("boom") }))
	func() {
		defer func() { _ = recover() }()
		r.Run(context.Background(), req, okHost())
	}()
	r.(interface{ ExchangeDone(int) }).ExchangeDone(500)
	if d := <-s.C; d.Outcome != "error" || d.Error != "the run panicked (see the server log)" || d.Status != 500 {
		t.Errorf("panicked run: %v", d)
	}

	// An exchange that never ran (refused before its run) delivers nothing.
	r = h.Trace("p", request(), proxyRunner)
	r.(interface{ ExchangeDone(int) }).ExchangeDone(404)
	select {
	case d := <-s.C:
		t.Errorf("a run that never started was traced: %v", d)
	default:
	}
}
