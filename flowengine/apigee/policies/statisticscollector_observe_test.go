package policies

import (
	"context"
	"reflect"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

// TestStatisticsCollectorObserved: in a test run the statistics go to the
// observer (values in canonical form), not to the Prometheus metrics.
func TestStatisticsCollectorObserved(t *testing.T) {
	p, errs := engine.TestPolicy(`<StatisticsCollector name="SC-Obs"><Statistics>`+
		`<Statistic name="color" ref="my.color" type="string">none</Statistic>`+
		`<Statistic name="shape" ref="my.shape" type="string">round</Statistic>`+
		`<Statistic name="price" ref="my.price" type="double"/>`+
		`<Statistic name="qty" ref="my.qty" type="Integer"/>`+
		`<Statistic name="vip" ref="my.vip" type="boolean"/>`+
		`<Statistic name="bad" ref="my.bad" type="long"/>`+
		`<Statistic name="absent" ref="no.such" type="float"/>`+
		`</Statistics></StatisticsCollector>`, nil, nil)
	if p == nil {
		t.Fatalf("compile: %v", errs)
	}
	r := engine.TestRun(context.Background(), engine.ProxyRequest, "GET", "/", nil, nil)
	obs := &recObserver{}
	r.SetTestObserver(obs)
	for k, v := range map[string]string{"my.color": "red", "my.price": " 12.50", "my.qty": "007", "my.vip": "TRUE", "my.bad": "twelve"} {
		if err := r.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Execute(r); err != nil {
		t.Fatalf("Execute: %v", err)
	}
	want := []engine.StatisticRecord{
		{Policy: "SC-Obs", Name: "color", Type: "string", Value: "red"},
		{Policy: "SC-Obs", Name: "shape", Type: "string", Value: "round"},
		{Policy: "SC-Obs", Name: "price", Type: "double", Value: "12.5"},
		{Policy: "SC-Obs", Name: "qty", Type: "integer", Value: "7"},
		{Policy: "SC-Obs", Name: "vip", Type: "boolean", Value: "true"},
	}
	if !reflect.DeepEqual(obs.stats, want) {
		t.Errorf("observed %+v\nwant     %+v", obs.stats, want)
	}
	if n := testutil.ToFloat64(statCounter.WithLabelValues("test", "SC-Obs", "color", "red")); n != 0 {
		t.Errorf("a test run counted color=red %v times in the metrics", n)
	}
}
