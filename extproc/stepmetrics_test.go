package extproc

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// TestSideCallHostBound: the first maxHosts hosts get their own label,
// later ones, unparsable URLs and non-UTF-8 hosts count as "other".
func TestSideCallHostBound(t *testing.T) {
	m := newSideCallMetrics(prometheus.NewRegistry(), 2)
	tests := []struct{ url, want string }{
		{"http://a.example/x", "a.example"},
		{"https://b.example:8443/", "b.example:8443"},
		{"http://a.example/again", "a.example"},
		{"http://c.example/", otherHost},
		{"http://user:pw@b.example:8443/", "b.example:8443"},
		{"::not a url", otherHost},
		{"http://%ff/", otherHost},
	}
	for _, tc := range tests {
		if got := m.host(tc.url); got != tc.want {
			t.Errorf("host(%q) = %q, want %q", tc.url, got, tc.want)
		}
	}
}

// TestSideCallObserve: a response is observed under its status class, a
// failure under "error" and counted by kind.
func TestSideCallObserve(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := newSideCallMetrics(reg, 8)
	m.ObserveCall(&upstream.Call{URL: "http://a.example/"}, &upstream.Result{Status: 503}, time.Millisecond)
	m.ObserveCall(&upstream.Call{URL: "http://a.example/"}, &upstream.Result{Status: 204}, time.Millisecond)
	m.ObserveCall(&upstream.Call{URL: "http://a.example/"}, &upstream.Result{Err: &upstream.Error{Kind: upstream.KindTimeout}}, time.Second)
	if n := testutil.CollectAndCount(m.duration); n != 3 {
		t.Errorf("%d duration series, want 3 (2xx, 5xx, error)", n)
	}
	if v := testutil.ToFloat64(m.errors.WithLabelValues("a.example", "timeout")); v != 1 {
		t.Errorf("timeout errors = %v, want 1", v)
	}
}

func TestStatusClass(t *testing.T) {
	for status, want := range map[int]string{100: "1xx", 200: "2xx", 299: "2xx", 304: "3xx", 404: "4xx", 599: "5xx", 0: "other", 600: "other", 99: "other"} {
		if got := statusClass(status); got != want {
			t.Errorf("statusClass(%d) = %q, want %q", status, got, want)
		}
	}
}

// TestStepObserverBadLabel: a step label that is not UTF-8 is skipped,
// never a panic in the run; other events are ignored.
func TestStepObserverBadLabel(t *testing.T) {
	o := &stepObserver{hist: newStepHistogram(prometheus.NewRegistry()), project: "p"}
	o.TraceEvent(flowengine.Event{Kind: flowengine.StepEvent, Flow: "f\xff", Type: "t", Duration: time.Millisecond})
	o.TraceEvent(flowengine.Event{Kind: flowengine.MessageEvent, Flow: "f", Type: "t"})
	o.TraceEvent(flowengine.Event{Kind: flowengine.StepEvent, Flow: "f", Type: "t", Duration: time.Millisecond})
	if n := testutil.CollectAndCount(o.hist); n != 1 {
		t.Errorf("%d step series, want 1", n)
	}
}
