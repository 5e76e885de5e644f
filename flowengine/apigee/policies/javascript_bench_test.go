package policies

import (
	"context"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

// BenchmarkJavascript measures one execution of a typical small script
// (read a header, set a variable and a header) with a fresh runtime per
// execution (production) and with pooled runtimes whose new globals are
// deleted (reuseJSRuntimes); "baseline" is the TestRun setup alone.
func BenchmarkJavascript(b *testing.B) {
	src := `var ua = context.getVariable("request.header.user-agent");
var n = ua ? ua.length : 0;
context.setVariable("ua.length", n);
request.headers["x-seen"] = "yes";`
	p := jsPolicy(b, inlineJS(src), nil)
	run := func() *engine.Run {
		return engine.TestRun(context.Background(), engine.ProxyRequest, "GET", "/p?a=1", nil, nil, "User-Agent", "bench/1.0")
	}
	b.Run("baseline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = run()
		}
	})
	for _, mode := range []struct {
		name  string
		reuse bool
	}{{"fresh", false}, {"pooled", true}} {
		b.Run(mode.name, func(b *testing.B) {
			reuseJSRuntimes = mode.reuse
			defer func() { reuseJSRuntimes = false }()
			b.ReportAllocs()
			for b.Loop() {
				if err := p.Execute(run()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
