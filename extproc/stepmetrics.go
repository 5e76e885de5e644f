package extproc

import (
	"net/url"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// maxSideCallHosts bounds the host label of the side-call metrics: hosts
// past the first maxSideCallHosts seen are counted as otherHost.
const maxSideCallHosts = 64

// otherHost is the host label of side calls to hosts past the bound.
const otherHost = "other"

// durationBuckets are the buckets of the step and side-call histograms
// (seconds): from 50 µs for a cheap step to 10 s for a slow side call.
var durationBuckets = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// newStepHistogram registers flowproc_step_duration_seconds.
func newStepHistogram(reg prometheus.Registerer) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "flowproc_step_duration_seconds",
		Help:    "Duration of flow steps (a step that contains others includes them), by project, flow or segment, and step type (FLAT action, Apigee policy type). Only with serve -step-metrics.",
		Buckets: durationBuckets,
	}, []string{"project", "flow", "type"})
	reg.MustRegister(h)
	return h
}

// stepObserver is the flowengine.Tracer of Options.StepMetrics: it
// observes every step event's duration. It lives in the exchange.
type stepObserver struct {
	hist    *prometheus.HistogramVec
	project string
}

// TraceEvent implements flowengine.Tracer.
func (o *stepObserver) TraceEvent(e flowengine.Event) {
	if e.Kind != flowengine.StepEvent {
		return
	}
	// GetMetricWithLabelValues, not WithLabelValues: a label that is not
	// UTF-8 must not panic inside the run.
	if h, err := o.hist.GetMetricWithLabelValues(o.project, e.Flow, e.Type); err == nil {
		h.Observe(e.Duration.Seconds())
	}
}

// sideCallMetrics counts side calls (upstream.Observer): duration by target
// host and status class, failures by host and kind.
type sideCallMetrics struct {
	duration *prometheus.HistogramVec
	errors   *prometheus.CounterVec

	mu       sync.Mutex
	hosts    map[string]bool
	maxHosts int
}

func newSideCallMetrics(reg prometheus.Registerer, maxHosts int) *sideCallMetrics {
	m := &sideCallMetrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "flowproc_side_call_duration_seconds",
			Help:    "Duration of side calls flows make (FLAT request, Apigee ServiceCallout …), by target host and status class (2xx … 5xx, or error when no response came).",
			Buckets: durationBuckets,
		}, []string{"host", "status_class"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flowproc_side_call_errors_total",
			Help: "Side calls that got no response, by target host and kind (timeout, connect, tls, too-many-redirects, body-too-large, canceled, http, invalid).",
		}, []string{"host", "kind"}),
		hosts:    map[string]bool{},
		maxHosts: maxHosts,
	}
	reg.MustRegister(m.duration, m.errors)
	return m
}

// ObserveCall implements upstream.Observer.
func (m *sideCallMetrics) ObserveCall(c *upstream.Call, r *upstream.Result, d time.Duration) {
	host := m.host(c.URL)
	class := "error"
	if r.Err != nil {
		m.errors.WithLabelValues(host, string(r.Err.Kind)).Inc()
	} else {
		class = statusClass(r.Status)
	}
	m.duration.WithLabelValues(host, class).Observe(d.Seconds())
}

// The labels above are always valid UTF-8: host() checks the host, kinds
// and classes are constants.

// host is the bounded host label of a call's URL: host[:port] of the
// first maxHosts targets, otherHost past them and for URLs that do not
// parse or whose host is not UTF-8 (a label that is not panics).
func (m *sideCallMetrics) host(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return otherHost
	}
	h := u.Host
	if !utf8.ValidString(h) {
		return otherHost
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.hosts[h] {
		return h
	}
	if len(m.hosts) >= m.maxHosts {
		return otherHost
	}
	m.hosts[h] = true
	return h
}

// statusClass is "2xx" for 200–299 and so on ("1xx" … "5xx"), "other" for
// codes outside 100–599.
func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}
