package flatbench

import (
	"testing"

	"github.com/flowproc/flowproc/flowengine"
)

// durationSink is the cheapest Tracer that uses every step's timing, as
// step metrics do (without the metric's own label lookup): the engine's
// share of the cost of serve -step-metrics.
type durationSink struct{ total int64 }

func (d *durationSink) TraceEvent(e flowengine.Event) {
	if e.Kind == flowengine.StepEvent {
		d.total += int64(e.Duration)
	}
}

// BenchmarkRunStepTiming runs the templated and proxied routes with and
// without a step-timing Tracer; compare the pairs with benchstat to see
// what timing every step costs the engine.
func BenchmarkRunStepTiming(b *testing.B) {
	p := loadExample(b)
	routes := []struct {
		name, path string
		resp       *flowengine.Response
	}{
		{"templated", templatedPath, nil},
		{"proxied", proxiedPath, upstreamOK()},
	}
	for _, r := range routes {
		for _, timed := range []bool{false, true} {
			name := r.name + "/untimed"
			var tr flowengine.Tracer
			if timed {
				name, tr = r.name+"/timed", &durationSink{}
			}
			b.Run(name, func(b *testing.B) {
				req := &flowengine.Request{Method: "GET", Scheme: "http", Authority: "localhost:10000", Path: r.path, Headers: benchHeaders, ID: "rid", BodyKnownEmpty: true, Trace: tr}
				benchRun(b, p, req, r.resp, nil)
			})
		}
	}
}
