package extproc

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// projectMetrics are the operability metrics: project load states, reloads
// and per-project error counts. Labels are bounded: project names come from
// the configuration (never from a request), results and classes are fixed
// sets.
type projectMetrics struct {
	loaded      *prometheus.GaugeVec
	loadSuccess *prometheus.GaugeVec
	ready       prometheus.GaugeFunc
	reloads     *prometheus.CounterVec
	lastReload  prometheus.Gauge
	lastSuccess prometheus.Gauge
	errors      *prometheus.CounterVec
}

// Error classes, the class label of flowproc_project_errors_total.
const (
	errClassClient = "4xx"    // answered with a 4xx status
	errClassServer = "5xx"    // answered with a 5xx status
	errClassStream = "stream" // no HTTP answer: the stream failed (Envoy's status_on_error applies)
)

func newProjectMetrics(reg prometheus.Registerer, s *Server) projectMetrics {
	m := projectMetrics{
		loaded: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "flowproc_project_loaded",
			Help: "1 while a version of the project serves, 0 while it has never loaded (its routes answer 503).",
		}, []string{"project"}),
		loadSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "flowproc_project_load_success",
			Help: "1 when the project's latest load or reload succeeded, 0 when it failed (a last good version may still serve).",
		}, []string{"project"}),
		ready: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "flowproc_ready",
			Help: "1 while the server is ready (/readyz 200, gRPC health SERVING), else 0.",
		}, func() float64 {
			if s.Ready() {
				return 1
			}
			return 0
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flowproc_reloads_total",
			Help: "Project reloads by result: success (every project loaded), partial (some kept their last good version or still fail), failure (rejected as a whole).",
		}, []string{"result"}),
		lastReload: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "flowproc_reload_last_timestamp_seconds",
			Help: "Unix time of the latest reload (0: none since start).",
		}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "flowproc_reload_last_success",
			Help: "1 when the latest reload loaded every project, else 0.",
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flowproc_project_errors_total",
			Help: "Exchanges of a project that ended in an error, by class: 4xx, 5xx (answered with that status) or stream (no HTTP answer; Envoy's status_on_error applies).",
		}, []string{"project", "class"}),
	}
	for _, r := range []string{"success", "partial", "failure"} {
		m.reloads.WithLabelValues(r)
	}
	m.lastSuccess.Set(1)
	reg.MustRegister(m.loaded, m.loadSuccess, m.ready, m.reloads, m.lastReload, m.lastSuccess, m.errors)
	return m
}

// setProjects replaces the per-project load gauges, so a project that is no
// longer configured leaves no stale series.
func (m *metrics) setProjects(states []ProjectState) {
	m.project.loaded.Reset()
	m.project.loadSuccess.Reset()
	for _, p := range states {
		m.project.loaded.WithLabelValues(p.Name).Set(b2f(p.Loaded))
		m.project.loadSuccess.WithLabelValues(p.Name).Set(b2f(p.Error == ""))
	}
}

// recordReload counts a reload with its result (success, partial, failure).
func (m *metrics) recordReload(at time.Time, result string) {
	m.project.reloads.WithLabelValues(result).Inc()
	m.project.lastReload.Set(float64(at.UnixNano()) / 1e9)
	m.project.lastSuccess.Set(b2f(result == "success"))
}

// countProjectError counts an exchange of a known project that ended in an
// error: answered with status ≥ 400, or failed without an answer. failed
// reports that the exchange recorded an error (a server error code, a
// flow error code, or an error/panic outcome); one answered below 400 is
// not counted.
func (m *metrics) countProjectError(project string, status int, completed, failed bool) {
	if project == "" {
		return // no_project: counted in flowproc_errors_total{code="no_project"}
	}
	var class string
	switch {
	case completed && status >= 500:
		class = errClassServer
	case completed && status >= 400:
		class = errClassClient
	case failed && !completed:
		class = errClassStream
	default:
		return // answered below 400: the client saw no error
	}
	m.project.errors.WithLabelValues(project, class).Inc()
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
