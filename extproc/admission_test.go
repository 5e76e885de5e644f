package extproc

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/flowproc/flowproc/extproc/extproctest"
	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/budget"
)

// budgetServer is a test server whose body budget is limit bytes, with a
// cost factor of 1 so that reservations equal body sizes.
func budgetServer(t *testing.T, res Resolver, limit, bodyLimit int64) (*testServer, *budget.Bytes) {
	t.Helper()
	b := budget.NewBytes(limit)
	logs := &syncBuffer{}
	s := New(Options{Resolver: res, Logger: slog.New(slog.NewJSONHandler(logs, nil)), BodyLimit: bodyLimit, BodyBudget: b, BodyCostFactor: 1})
	return &testServer{Server: s, conn: extproctest.Dial(t, s), logs: logs}, b
}

// waitInUse waits until the budget's use is want (the stream's handler ends
// after the client saw its last reply).
func waitInUse(t *testing.T, b *budget.Bytes, want int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for b.InUse() != want {
		if time.Now().After(deadline) {
			t.Fatalf("body budget in use %d, want %d", b.InUse(), want)
		}
		time.Sleep(time.Millisecond)
	}
}

const refusal503 = `{"error":{"message":"server busy: too many bodies in flight, retry later","status":503,"code":5031}}`

// TestBodyAdmission: a body read reserves its declared size (× the factor)
// until the exchange ends; a read the budget cannot hold is answered 503
// with code 5031 and counted; a body of unknown length is estimated at the
// body limit and its reservation trimmed to the real size on arrival.
func TestBodyAdmission(t *testing.T) {
	holding := make(chan int64, 4)
	release := make(chan struct{})
	var srvBudget *budget.Bytes
	run := runnerFunc(func(ctx context.Context, req *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
		b, err := h.RequestBody(ctx)
		if err != nil {
			return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 500}}
		}
		if req.Path == "/hold" {
			holding <- srvBudget.InUse()
			<-release
		}
		return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 200, Body: b}}
	})
	ts, b := budgetServer(t, one(run), 100, 1000)
	srvBudget = b

	// A holds 60 of the 100 bytes while its flow runs.
	a := ts.open(t, "")
	a.send(reqHeaders("POST", "/hold", false, modes(none, none, false), "content-length", "60"))
	a.expect(withOverride(wantReqHeaders(&extprocv3.CommonResponse{}), buffered, none))
	a.send(reqBody(string(make([]byte, 60)), true))
	if got := <-holding; got != 60 {
		t.Fatalf("in use while A holds its body: %d, want 60", got)
	}

	// B declares 60 more: refused before its body is asked for.
	bs := ts.open(t, "")
	bs.send(reqHeaders("POST", "/b", false, modes(none, none, false), "content-length", "60"))
	bs.expect(wantImmediate(503, jsonType, refusal503, "flowproc_demo"))
	if err := bs.end(); err != nil {
		t.Fatalf("B: %v", err)
	}
	// C declares no length: estimated at the body limit (1000 > 100).
	c := ts.open(t, "")
	c.send(reqHeaders("POST", "/c", false, modes(none, none, false)))
	c.expect(wantImmediate(503, jsonType, refusal503, "flowproc_demo"))
	if err := c.end(); err != nil {
		t.Fatalf("C: %v", err)
	}
	if n := testutil.ToFloat64(ts.metrics.bodyRefusals.WithLabelValues("request")); n != 2 {
		t.Errorf("refusals counted: %v, want 2", n)
	}
	if n := testutil.ToFloat64(ts.metrics.errors.WithLabelValues(errCodeBodyBudget)); n != 2 {
		t.Errorf("errors{code=body_budget}: %v, want 2", n)
	}

	// A small body still fits next to A.
	d := ts.open(t, "")
	d.send(reqHeaders("POST", "/d", false, modes(none, none, false), "content-length", "5"))
	d.expect(withOverride(wantReqHeaders(&extprocv3.CommonResponse{}), buffered, none))
	d.send(reqBody("hello", true))
	d.expect(wantImmediate(200, nil, "hello", "flowproc_demo"))
	if err := d.end(); err != nil {
		t.Fatalf("D: %v", err)
	}

	close(release)
	a.expect(wantImmediate(200, nil, string(make([]byte, 60)), "flowproc_demo"))
	if err := a.end(); err != nil {
		t.Fatalf("A: %v", err)
	}
	waitInUse(t, b, 0)
	if p := b.Peak(); p > 100 {
		t.Errorf("peak reservation %d over the budget", p)
	}
}

// TestBodyAdmissionTrimsEstimate: with no content-length the read reserves
// the body limit, then only what arrived.
func TestBodyAdmissionTrimsEstimate(t *testing.T) {
	got := make(chan int64, 1)
	var srvBudget *budget.Bytes
	run := runnerFunc(func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
		if _, err := h.RequestBody(ctx); err != nil {
			return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 500}}
		}
		got <- srvBudget.InUse()
		return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 204}}
	})
	ts, b := budgetServer(t, one(run), 5000, 1000)
	srvBudget = b
	c := ts.open(t, "")
	c.send(reqHeaders("POST", "/x", false, modes(none, none, false)))
	c.expect(withOverride(wantReqHeaders(&extprocv3.CommonResponse{}), buffered, none))
	if b.InUse() != 1000 {
		t.Errorf("reserved before the body arrived: %d, want the body limit 1000", b.InUse())
	}
	c.send(reqBody("0123456789", true))
	c.expect(wantImmediate(204, nil, "", "flowproc_demo"))
	if n := <-got; n != 10 {
		t.Errorf("reserved once the body arrived: %d, want 10", n)
	}
	if err := c.end(); err != nil {
		t.Fatal(err)
	}
	waitInUse(t, b, 0)
}

// TestBodyAdmissionReleasedOnEveryEnding: the reservation comes back when
// Envoy cancels the stream while the body is awaited, when the flow
// panics after reading it, and when the stream fails with a protocol
// error: no ending leaks budget.
func TestBodyAdmissionReleasedOnEveryEnding(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  runnerFunc
		// after the request headers and the body request: what the client
		// does; it returns when the exchange is over from its side
		client func(t *testing.T, c *client)
	}{
		{
			name: "cancelled while the body is awaited",
			run: func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
				_, err := h.RequestBody(ctx)
				if !errors.Is(err, ErrStreamClosed) {
					return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599}}
				}
				return &flowengine.Outcome{Kind: flowengine.Answered}
			},
			client: func(t *testing.T, c *client) { c.cancel() },
		},
		{
			name: "flow panics after reading the body",
			run: func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
				if _, err := h.RequestBody(ctx); err == nil {
					panic("flow bug")
				}
				return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599}}
			},
			client: func(t *testing.T, c *client) {
				c.send(reqBody("abc", true))
				r, err := c.stream.Recv()
				if err != nil || r.GetImmediateResponse().GetStatus().GetCode() != 500 {
					t.Fatalf("after the panic: %v %v", r, err)
				}
			},
		},
		{
			name: "protocol error instead of the body",
			run: func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
				_, _ = h.RequestBody(ctx)
				return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599}}
			},
			client: func(t *testing.T, c *client) {
				c.send(reqHeaders("GET", "/again", true, nil))
				if err := c.end(); codeOf(err) != "FailedPrecondition" {
					t.Fatalf("stream ended with %v, want FailedPrecondition", err)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts, b := budgetServer(t, one(tc.run), 1000, 100)
			c := ts.open(t, "")
			c.send(reqHeaders("POST", "/x", false, modes(none, none, false), "content-length", "3"))
			c.expect(withOverride(wantReqHeaders(&extprocv3.CommonResponse{}), buffered, none))
			if b.InUse() != 3 {
				t.Fatalf("reserved %d, want 3", b.InUse())
			}
			tc.client(t, c)
			waitInUse(t, b, 0)
		})
	}
}

// TestBodyAdmissionResponse: a response body read the budget cannot hold
// is answered 503 in place of the response.
func TestBodyAdmissionResponse(t *testing.T) {
	run := runnerFunc(func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
		if _, err := h.Forward(ctx, nil); err != nil {
			return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599}}
		}
		if _, err := h.ResponseBody(ctx); !errors.Is(err, ErrBodyBudget) {
			return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 598}}
		}
		// the flow's own error handling: overridden by the 503
		return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 502}}
	})
	ts, b := budgetServer(t, one(run), 100, 1000)
	c := ts.open(t, "")
	c.send(reqHeaders("GET", "/x", true, nil))
	c.expect(wantReqHeaders(&extprocv3.CommonResponse{}))
	c.send(respHeaders("200", false, "content-length", "500"))
	c.expect(wantImmediate(503, jsonType, refusal503, "flowproc_demo"))
	if err := c.end(); err != nil {
		t.Fatal(err)
	}
	if n := testutil.ToFloat64(ts.metrics.bodyRefusals.WithLabelValues("response")); n != 1 {
		t.Errorf("response refusals: %v, want 1", n)
	}
	waitInUse(t, b, 0)
}

// TestBodyAdmissionOff: without a budget nothing is reserved or refused.
func TestBodyAdmissionOff(t *testing.T) {
	run := runnerFunc(func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
		b, err := h.RequestBody(ctx)
		if err != nil {
			return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599}}
		}
		return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 200, Body: b}}
	})
	ts := newTestServer(t, one(run), 0)
	c := ts.open(t, "")
	c.send(reqHeaders("POST", "/x", false, modes(none, none, false)))
	c.expect(withOverride(wantReqHeaders(&extprocv3.CommonResponse{}), buffered, none))
	c.send(reqBody("hi", true))
	c.expect(wantImmediate(200, nil, "hi", "flowproc_demo"))
	if err := c.end(); err != nil {
		t.Fatal(err)
	}
}

// TestBodyAdmissionNoForwardAfterRefusal: a flow that ignores the refusal
// and forwards anyway sends nothing upstream; the exchange is answered 503.
func TestBodyAdmissionNoForwardAfterRefusal(t *testing.T) {
	forwardErr := make(chan error, 1)
	run := runnerFunc(func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
		_, _ = h.RequestBody(ctx)
		_, err := h.Forward(ctx, nil)
		forwardErr <- err
		return &flowengine.Outcome{Kind: flowengine.Forwarded}
	})
	ts, b := budgetServer(t, one(run), 10, 1000)
	c := ts.open(t, "")
	c.send(reqHeaders("POST", "/x", false, modes(none, none, false), "content-length", "500"))
	c.expect(wantImmediate(503, jsonType, refusal503, "flowproc_demo"))
	if err := c.end(); err != nil {
		t.Fatal(err)
	}
	if err := <-forwardErr; !errors.Is(err, ErrBodyBudget) {
		t.Errorf("Forward after the refusal: %v, want ErrBodyBudget", err)
	}
	waitInUse(t, b, 0)
}
