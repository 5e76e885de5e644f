package extproc

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
)

// TestReplyTooLarge: a reply over MaxReplyBytes is never sent; the
// exchange is answered with a 500 error document instead of failing the
// stream, and a Forward whose body would be too large fails for the flow.
func TestReplyTooLarge(t *testing.T) {
	big := []byte(strings.Repeat("x", 200<<10))
	var fwdErr error
	res := resolverFunc(func(_, path string) (flowengine.Runner, string, bool) {
		return runnerFunc(func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
			if path == "/forward" {
				_, fwdErr = h.Forward(ctx, &flowengine.Mutation{Body: big, BodySet: true})
				return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 502, Body: []byte("forward failed")}}
			}
			return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 200, Body: big}}
		}), "p", true
	})
	ts := newTestServer(t, res, 0)
	ts.maxReply = 100 << 10

	c := ts.open(t, "")
	c.send(reqHeaders("GET", "/answer", true, nil, "x-request-id", "rid"))
	c.expect(wantImmediate(500, mut(nil, set("content-type", "application/json")),
		`{"error":{"message":"response too large for the proxy","status":500,"requestID":"rid"}}`, "flowproc_p"))
	if err := c.end(); err != nil {
		t.Fatal(err)
	}
	if got := metricValue(t, scrape(t, ts.Server), `flowproc_errors_total{code="reply_too_large"}`); got != 1 {
		t.Errorf("reply_too_large counted %v times", got)
	}

	c = ts.open(t, "")
	c.send(reqHeaders("POST", "/forward", true, nil, "x-request-id", "rid2"))
	c.expect(wantImmediate(502, nil, "forward failed", "flowproc_p"))
	if err := c.end(); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(fwdErr, ErrReplyTooLarge) {
		t.Errorf("Forward error = %v, want ErrReplyTooLarge", fwdErr)
	}
}
