package extproc

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/metadata"

	"github.com/flowproc/flowproc/extproc/extproctest"
	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/flat"
	"github.com/flowproc/flowproc/internal/racecheck"
)

// TestRecycledRunsConcurrent drives the example project's proxied route
// from concurrent exchanges, each with its own request ID and path: the
// runs and reply stores the server recycles never carry one exchange's
// values into another's replies (go test -race also checks the hand-back).
func TestRecycledRunsConcurrent(t *testing.T) {
	example, errs := flat.Load("../examples/hello", flat.Options{Env: []string{}})
	if example == nil {
		t.Fatal(errs)
	}
	ts := newTestServer(t, one(example), 1<<20)
	concurrentExchanges(t, func(w, i int) error {
		id := fmt.Sprintf("req-%d-%d", w, i)
		res, err := extproctest.Exchange(context.Background(), ts.conn, &extproctest.Request{
			Path:    fmt.Sprintf("/api/upstream/items/%d/%d", w, i),
			Headers: []flowengine.Header{{Name: "x-request-id", Value: id}},
		}, &extproctest.Response{Status: 200})
		if err != nil {
			return err
		}
		return checkProxied(res, id, fmt.Sprintf("/v2/items/%d/%d", w, i))
	})
}

// concurrentExchanges runs exchange(w, i) for 25 exchanges i on each of 8
// concurrent workers w, each worker stopping at its first error; the
// errors fail t.
func concurrentExchanges(t *testing.T, exchange func(w, i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := range 25 {
				if err := exchange(w, i); err != nil {
					errc <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
}

// TestRecycledApigeeRunsConcurrent is TestRecycledRunsConcurrent for the
// embedded Apigee bundle's proxied route: its runs are recycled too
// (AssignMessage only), and each exchange's replies carry its own path.
func TestRecycledApigeeRunsConcurrent(t *testing.T) {
	ts := newTestServer(t, loadProjectSet(t, "../examples/apigee-hello"), 1<<20)
	concurrentExchanges(t, func(w, i int) error {
		item := fmt.Sprintf("%d-%d", w, i)
		res, err := extproctest.Exchange(context.Background(), ts.conn, &extproctest.Request{Path: "/v1/orders/" + item},
			&extproctest.Response{Status: 200})
		if err != nil {
			return err
		}
		return checkReplies(res, item, []map[string]string{
			{":path": "/v2/orders/" + item, ":authority": "upstream", "x-via": "apigee-hello", "x-client": "example-test"},
			{"x-served-by": "apigee-hello"},
		})
	})
}

// recyclerFunc is a flowengine.Recycler.
type recyclerFunc func()

func (f recyclerFunc) Recycle() { f() }

// TestRecycleLeavesWaitedContext: an exchange whose run waited on its
// context (a Redis call's timeout, JavaScript's cancellation callback) is
// reused, but a context the run handed to a goroutine that outlives it
// stays that run's: ended, whatever later exchanges do with the pooled
// exchange.
func TestRecycleLeavesWaitedContext(t *testing.T) {
	var kept []context.Context
	run := runnerFunc(func(ctx context.Context, req *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
		if len(kept) == 0 {
			_ = ctx.Done() // waits on it, as context.AfterFunc or WithTimeout do
		}
		kept = append(kept, ctx)
		return &flowengine.Outcome{Kind: flowengine.Answered, Recycle: recyclerFunc(func() {})}
	})
	s := New(Options{Resolver: one(run), Logger: slog.New(slog.DiscardHandler)})
	ctx := metadata.NewIncomingContext(context.Background(), metadata.MD{})
	msgs := scriptFor("/anything")
	for range 20 {
		st := &fakeStream{ctx: grpcStreamContext(ctx), script: msgs}
		if err := s.Process(st); err != nil || st.sent != 1 {
			t.Fatalf("process: %v, %d replies", err, st.sent)
		}
		if err := kept[0].Err(); err == nil {
			t.Fatalf("after %d exchanges the first run's context is live again", len(kept))
		}
	}
	reused := false
	for _, c := range kept[1:] {
		reused = reused || c == kept[0]
	}
	if reused {
		t.Error("a later run got the context the first run waited on")
	}
}

// TestApigeeProcessReusesRun pins the allocations of the embedded Apigee
// bundle's proxied exchange: its run is recycled (Kind.Recyclable), with
// the header lists its messages owned, and so is the exchange around it
// (41 allocations and 4.9 KiB before; what is left is the stream's own
// context, the request's header strings, the path and header values the
// policies build and the reply's own).
func TestApigeeProcessReusesRun(t *testing.T) {
	if racecheck.Enabled {
		t.Skip("-race: sync.Pool drops items at random, so allocation counts vary")
	}
	s := New(Options{Resolver: loadProjectSet(t, "../examples/apigee-hello"), Logger: slog.New(slog.DiscardHandler)})
	if n := allocsPerExchange(t, s, scriptFor("/v1/orders/42"), 2); n > 10 {
		t.Errorf("%.0f allocations per exchange, want ≤ 10", n)
	}
}

// TestProxiedProcessAllocations pins the allocations of the FLAT example's
// proxied exchange: the stream's contexts (the transport's and the tap's),
// the test's stream, and one string block for each message's header
// values. The upstream response's header list is the pooled exchange's
// (recycle), as the request's is.
func TestProxiedProcessAllocations(t *testing.T) {
	if racecheck.Enabled {
		t.Skip("-race: sync.Pool drops items at random, so allocation counts vary")
	}
	p, errs := flat.Load("../examples/hello", flat.Options{Env: []string{}})
	if p == nil {
		t.Fatal(errs)
	}
	s := New(Options{Resolver: one(runnerFunc(p.Run)), Logger: slog.New(slog.DiscardHandler)})
	if n := allocsPerExchange(t, s, scriptFor("/api/upstream/items/42?expand=1"), 2); n > 7 {
		t.Errorf("%.0f allocations per exchange, want ≤ 7", n)
	}
}

// allocsPerExchange serves msgs through s once to warm its pools, then
// returns the allocations of one exchange (each must send replies
// replies), and logs them.
func allocsPerExchange(t *testing.T, s *Server, msgs []*extprocv3.ProcessingRequest, replies int) float64 {
	t.Helper()
	ctx := metadata.NewIncomingContext(context.Background(), metadata.MD{})
	run := func() {
		st := &fakeStream{ctx: grpcStreamContext(ctx), script: msgs}
		if err := s.Process(st); err != nil || st.sent != replies {
			t.Fatalf("process: %v, %d replies", err, st.sent)
		}
	}
	run()
	n := testing.AllocsPerRun(200, run)
	t.Logf("%.0f allocations per exchange", n)
	return n
}

// checkProxied checks the two replies of a proxied exchange of the
// example: the request carries the rewritten path and the request ID, the
// response the request ID and the upstream status.
func checkProxied(res *extproctest.Result, id, path string) error {
	return checkReplies(res, id, []map[string]string{
		{":path": path, "x-request-id": id, "x-flowproc": "1"},
		{"x-request-id": id, "x-service": "hello", "x-upstream-status": "200"},
	})
}

// checkReplies checks that each reply of a proxied exchange sets the
// headers of want (one map per reply); id names the exchange in errors.
func checkReplies(res *extproctest.Result, id string, want []map[string]string) error {
	if len(res.Replies) != len(want) {
		return fmt.Errorf("%s: %d replies", id, len(res.Replies))
	}
	for i, r := range res.Replies {
		got := map[string]string{}
		for _, o := range mutationOf(r).GetSetHeaders() {
			got[o.GetHeader().GetKey()] = string(o.GetHeader().GetRawValue())
		}
		for k, v := range want[i] {
			if got[k] != v {
				return fmt.Errorf("%s: reply %d: %s = %q, want %q (all: %v)", id, i, k, got[k], v, got)
			}
		}
	}
	return nil
}

// TestProcessReusesExchange pins the allocations of a header-only
// exchange answered by an empty flow: the exchange (with its stream wait
// timer), its run and its reply storage are reused, so what is left is the
// stream's own context (the tap's), the request's header strings and the
// engine's per-request values (21 allocations and 5 KiB before reuse).
func TestProcessReusesExchange(t *testing.T) {
	s := New(Options{Resolver: one(runnerFunc(loadNoopProject(t).Run)), Logger: slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if n := allocsPerExchange(t, s, scriptFor("/anything/42"), 1); n > 10 {
		t.Errorf("%.0f allocations per exchange, want ≤ 10", n)
	}
}

// TestRecycleConditions: an exchange is pooled (and cleared) only when
// nothing can still refer to it; each condition alone keeps it out.
func TestRecycleConditions(t *testing.T) {
	for _, tc := range []struct {
		name   string
		set    func(x *exchange)
		pooled bool
	}{
		{"nothing left behind", func(*exchange) {}, true},
		{"a span or trace recorder saw it", func(x *exchange) { x.observed = true }, false},
		{"a pump goroutine reads for it", func(x *exchange) { x.pumping = true }, false},
		// Its wait guard goes with it, the timer possibly armed
		// (TestWaitGuardReused).
		{"its wait timer is armed", func(x *exchange) { x.wait.armed.Store(true) }, true},
		// Pooled, but without its run context (see below).
		{"something waited on its context", func(x *exchange) { x.rc.r.init(context.Background()); x.rc.r.materialize() }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := new(runCtx)
			x := &exchange{s: &Server{}, rc: rc, wait: newWaitGuard(time.Hour)}
			tc.set(x)
			x.recycle()
			pooled := x.s == nil
			if pooled != tc.pooled {
				t.Errorf("pooled = %v, want %v", pooled, tc.pooled)
			}
			// A run context somebody waited on may still be held through
			// a context derived from it: the pooled exchange drops it.
			waited := rc.r.child.Load() != nil
			if pooled && (x.rc == rc) == waited {
				t.Errorf("run context kept %v after a wait on it %v", x.rc == rc, waited)
			}
			if pooled && x.rc == rc && (rc.r.parent != nil || rc.o.Context != nil) {
				t.Error("kept run context not cleared")
			}
			if pooled && x.wait == nil {
				t.Error("the wait guard was not kept")
			}
		})
	}
}
