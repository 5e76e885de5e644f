package policies

import (
	"context"
	"strconv"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/diag"
)

func TestStatisticsCollector(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	if err := RegisterStatisticsMetrics(reg); err != nil {
		t.Fatal(err)
	}
	if err := RegisterStatisticsMetrics(reg); err != nil {
		t.Fatalf("registering twice: %v", err)
	}
	count := func(policy, stat, value string) float64 {
		return testutil.ToFloat64(statCounter.WithLabelValues("test", policy, stat, value))
	}
	// histo returns the sample count and sum of a numeric statistic.
	histo := func(policy, stat string) (uint64, float64) {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != "flowproc_apigee_statistic_value" {
				continue
			}
		next:
			for _, m := range mf.GetMetric() {
				want := map[string]string{"proxy": "test", "policy": policy, "statistic": stat}
				for _, l := range m.GetLabel() {
					if want[l.GetName()] != l.GetValue() {
						continue next
					}
				}
				return m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum()
			}
		}
		return 0, 0
	}
	policy := func(name, stats string) string {
		return `<StatisticsCollector name="` + name + `"><Statistics>` + stats + `</Statistics></StatisticsCollector>`
	}
	tests := []struct {
		name  string
		src   string
		vars  map[string]any
		check func(t *testing.T)
	}{
		{
			name: "string from a ref, default when unresolved",
			src:  policy("SC-1", `<Statistic name="color" ref="my.color" type="string">none</Statistic><Statistic name="shape" ref="my.shape" type="STRING">round</Statistic>`),
			vars: map[string]any{"my.color": "red"},
			check: func(t *testing.T) {
				if n := count("SC-1", "color", "red"); n != 1 {
					t.Errorf("color=red counted %v", n)
				}
				if n := count("SC-1", "shape", "round"); n != 1 {
					t.Errorf("shape default counted %v", n)
				}
			},
		},
		{
			name: "numbers and booleans",
			src: policy("SC-2", `<Statistic name="price" ref="my.price" type="double"/><Statistic name="qty" ref="my.qty" type="integer">0</Statistic>`+
				`<Statistic name="vip" ref="my.vip" type="boolean"/><Statistic name="bad" ref="my.bad" type="long"/><Statistic name="absent" ref="no.such" type="float"/>`),
			vars: map[string]any{"my.price": "12.5", "my.qty": 3, "my.vip": true, "my.bad": "twelve"},
			check: func(t *testing.T) {
				if n, sum := histo("SC-2", "price"); n != 1 || sum != 12.5 {
					t.Errorf("price: %d samples, sum %v", n, sum)
				}
				if n, sum := histo("SC-2", "qty"); n != 1 || sum != 3 {
					t.Errorf("qty: %d samples, sum %v", n, sum)
				}
				if n := count("SC-2", "vip", "true"); n != 1 {
					t.Errorf("vip=true counted %v", n)
				}
				if n, _ := histo("SC-2", "bad"); n != 0 {
					t.Errorf("a non-number was observed")
				}
				if n, _ := histo("SC-2", "absent"); n != 0 {
					t.Errorf("an unresolved statistic without default was observed")
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, errs := engine.TestPolicy(tc.src, nil, nil)
			if p == nil {
				t.Fatalf("compile: %v", errs)
			}
			r := engine.TestRun(context.Background(), engine.ProxyRequest, "GET", "/", nil, nil)
			for k, v := range tc.vars {
				if err := r.Set(k, v); err != nil {
					t.Fatal(err)
				}
			}
			if err := p.Execute(r); err != nil {
				t.Fatalf("Execute: %v", err)
			}
			tc.check(t)
		})
	}

	t.Run("value labels are bounded", func(t *testing.T) {
		p, errs := engine.TestPolicy(policy("SC-3", `<Statistic name="user" ref="user.id" type="string"/>`), nil, nil)
		if p == nil {
			t.Fatalf("compile: %v", errs)
		}
		for i := range MaxStatisticValues + 50 {
			r := engine.TestRun(context.Background(), engine.ProxyRequest, "GET", "/", nil, nil)
			_ = r.Set("user.id", "u"+strconv.Itoa(i))
			if err := p.Execute(r); err != nil {
				t.Fatal(err)
			}
		}
		if n := count("SC-3", "user", OtherStatisticValue); n != 50 {
			t.Errorf("other = %v, want 50", n)
		}
		if n := count("SC-3", "user", "u99"); n != 1 {
			t.Errorf("u99 = %v, want 1", n)
		}
		series := 0
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "policy" && l.GetValue() == "SC-3" {
						series++
					}
				}
			}
		}
		if series != MaxStatisticValues+1 {
			t.Errorf("%d series, want %d", series, MaxStatisticValues+1)
		}
		if _, err := reg.Gather(); err != nil {
			t.Errorf("the pedantic registry rejects the metrics: %v", err)
		}
	})
}

func TestStatisticsCollectorErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []diag.Code
	}{
		{"no Statistics", `<StatisticsCollector name="S"/>`, []diag.Code{diag.APMissingElement}},
		{"empty Statistics", `<StatisticsCollector name="S"><Statistics/></StatisticsCollector>`, []diag.Code{diag.APMissingElement}},
		{"unsupported datatype", `<StatisticsCollector name="S"><Statistics><Statistic name="a" ref="x" type="char"/></Statistics></StatisticsCollector>`, []diag.Code{diag.APBadPolicy}},
		{"missing datatype", `<StatisticsCollector name="S"><Statistics><Statistic name="a" ref="x"/></Statistics></StatisticsCollector>`, []diag.Code{diag.APMissingElement}},
		{"no name", `<StatisticsCollector name="S"><Statistics><Statistic ref="x" type="string"/></Statistics></StatisticsCollector>`, []diag.Code{diag.APMissingElement}},
		{"no ref nor default", `<StatisticsCollector name="S"><Statistics><Statistic name="a" type="string"/></Statistics></StatisticsCollector>`, []diag.Code{diag.APMissingElement}},
		{"twice", `<StatisticsCollector name="S"><Statistics><Statistic name="a" ref="x" type="string"/><Statistic name="a" ref="y" type="string"/></Statistics></StatisticsCollector>`, []diag.Code{diag.APBadPolicy}},
		{"bad default", `<StatisticsCollector name="S"><Statistics><Statistic name="a" ref="x" type="integer">many</Statistic></Statistics></StatisticsCollector>`, []diag.Code{diag.APBadPolicy}},
		{"integer overflow default", `<StatisticsCollector name="S"><Statistics><Statistic name="a" ref="x" type="integer">3000000000</Statistic></Statistics></StatisticsCollector>`, []diag.Code{diag.APBadPolicy}},
		{"unknown elements", `<StatisticsCollector name="S"><Stats/><Statistics><Stat/><Statistic name="a" ref="x" type="long"><X/></Statistic></Statistics></StatisticsCollector>`, []diag.Code{diag.APUnknownElement, diag.APUnknownElement, diag.APUnknownElement}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, errs := engine.TestPolicy(tc.src, nil, nil)
			if p != nil {
				t.Fatal("compiled")
			}
			var codes []diag.Code
			for _, e := range errs {
				codes = append(codes, e.Code)
			}
			if !calloutSameCodes(codes, tc.want) {
				t.Errorf("errors %v, want %v", errs, tc.want)
			}
		})
	}
}
