package extproc

import (
	"context"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/extproc/extproctest"
	"github.com/flowproc/flowproc/flowengine"
)

// TestProjectErrorMetrics: exchanges that end in an error are counted per
// project by class (4xx, 5xx); successful ones and unknown projects are not.
func TestProjectErrorMetrics(t *testing.T) {
	ts := newTestServer(t, resolverFunc(func(_, path string) (flowengine.Runner, string, bool) {
		if path == "/none" {
			return nil, "", false
		}
		return runnerFunc(func(context.Context, *flowengine.Request, flowengine.Host) *flowengine.Outcome {
			o := &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 200}}
			switch path {
			case "/missing":
				o.Status, o.Error = 404, "3204"
			case "/broken":
				o.Status, o.Error = 502, "5000"
			}
			return o
		}), "shop", true
	}), 0)
	ctx := context.Background()
	for _, p := range []string{"/ok", "/ok", "/missing", "/broken", "/broken", "/none"} {
		if _, err := extproctest.Exchange(ctx, ts.conn, &extproctest.Request{Path: p}, nil); err != nil {
			t.Fatal(err)
		}
	}
	m := scrape(t, ts.Server)
	for series, want := range map[string]float64{
		`flowproc_project_errors_total{class="4xx",project="shop"}`: 1,
		`flowproc_project_errors_total{class="5xx",project="shop"}`: 2,
	} {
		if got := metricValue(t, m, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if strings.Contains(m, `flowproc_project_errors_total{class="4xx",project=""}`) {
		t.Error("an unknown project got a project error series")
	}
}
