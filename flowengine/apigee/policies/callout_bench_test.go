package policies

import (
	"context"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

// BenchmarkStatisticsCollector measures one string and one numeric
// statistic recorded on the request path.
func BenchmarkStatisticsCollector(b *testing.B) {
	p, errs := engine.TestPolicy(`<StatisticsCollector name="SC-B"><Statistics><Statistic name="color" ref="my.color" type="string"/>`+
		`<Statistic name="price" ref="my.price" type="double"/></Statistics></StatisticsCollector>`, nil, nil)
	if p == nil {
		b.Fatal(errs)
	}
	r := engine.TestRun(context.Background(), engine.ProxyRequest, "GET", "/", nil, nil)
	_ = r.Set("my.color", "red")
	_ = r.Set("my.price", "12.5")
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Execute(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMessageLoggingRender measures what MessageLogging costs on the
// request path: rendering a formatted syslog message and registering its
// delivery (the send itself runs after the answer; the hooks pile up on
// the one run here, as they would not in a real exchange).
func BenchmarkMessageLoggingRender(b *testing.B) {
	p, errs := engine.TestPolicy(syslogPolicy("127.0.0.1", 9, "UDP", "<FormatMessage>true</FormatMessage>"), nil, nil)
	if p == nil {
		b.Fatal(errs)
	}
	r := engine.TestRun(context.Background(), engine.ProxyRequest, "GET", "/", nil, nil)
	_ = r.Set("my.var", "some value")
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Execute(r); err != nil {
			b.Fatal(err)
		}
	}
}
