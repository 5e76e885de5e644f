package extproc

import (
	"context"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine"
)

// TestAfterResponseHook: an outcome's post-response hook runs once the
// answer has gone to Envoy, off the stream, with a live context of its
// own; a panic in it is recovered and counted, and shutdown waits for it.
func TestAfterResponseHook(t *testing.T) {
	ran := make(chan error, 2)
	release := make(chan struct{})
	res := resolverFunc(func(_, path string) (flowengine.Runner, string, bool) {
		return runnerFunc(func(context.Context, *flowengine.Request, flowengine.Host) *flowengine.Outcome {
			return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 204},
				After: func(ctx context.Context) {
					if path == "/panic" {
						panic("hook failed")
					}
					<-release // the answer must not wait for this
					ran <- ctx.Err()
				}}
		}), "p", true
	})
	ts := newTestServer(t, res, 0)

	c := ts.open(t, "")
	c.send(reqHeaders("GET", "/log", true, nil))
	c.expect(wantImmediate(204, nil, "", "flowproc_p"))
	if err := c.end(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-ran:
		t.Fatalf("the hook finished before it was released: %v", err)
	default:
	}
	close(release)
	select {
	case err := <-ran:
		if err != nil {
			t.Errorf("the hook's context: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the hook did not run")
	}

	c = ts.open(t, "")
	c.send(reqHeaders("GET", "/panic", true, nil))
	c.expect(wantImmediate(204, nil, "", "flowproc_p"))
	if err := c.end(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ts.waitHooks(ctx); err != nil {
		t.Fatal(err)
	}
	if got := metricValue(t, scrape(t, ts.Server), "flowproc_panics_total"); got != 1 {
		t.Errorf("panics counted: %v", got)
	}
}
