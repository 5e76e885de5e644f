package extproc

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/flowproc/flowproc/internal/metricstripe"
)

// phase is an exchange's phase, the phase label of
// flowproc_phase_duration_seconds. A phase lasts from the arrival of
// Envoy's message to the reply to it.
type phase uint8

const (
	phaseRequestHeaders phase = iota
	phaseRequestBody
	phaseResponseHeaders
	phaseResponseBody
	numPhases
)

// phaseNames are the phases' label values.
var phaseNames = [numPhases]string{"request_headers", "request_body", "response_headers", "response_body"}

// Error codes used as the code label of flowproc_errors_total for errors
// the server itself detects. Flow errors are counted under their front
// end's code instead (Outcome.Error: a FLAT code, an Apigee fault name).
const (
	errCodeProtocol        = "protocol"         // out-of-order or malformed message from Envoy
	errCodeBodyUnavailable = "body_unavailable" // mode_override not honoured
	errCodeBodyTooLarge    = "body_too_large"   // body over Options.BodyLimit
	errCodeNoProject       = "no_project"       // no project matched the request
	errCodePanic           = "panic"            // a run or the server panicked
	errCodeStream          = "stream"           // gRPC send/receive failed
	errCodeNoOutcome       = "no_outcome"       // a runner returned a nil outcome
	errCodeReplyTooLarge   = "reply_too_large"  // a reply was over Options.MaxReplyBytes
	errCodeWaitTimeout     = "wait_timeout"     // no message from Envoy within Options.StreamWaitTimeout
	// errCodeBodyBudget ("body_budget", admission.go): a body read refused by Options.BodyBudget
)

// metrics are the server's Prometheus collectors, registered on a dedicated
// registry.
type metrics struct {
	// streams, streamsActive and exchanges change on every exchange, from
	// every core: striped (internal/metricstripe).
	streams            *metricstripe.Counter
	streamsActive      *metricstripe.Gauge
	exchanges          *exchangeCounters
	immediateResponses *prometheus.CounterVec
	errors             *prometheus.CounterVec
	panics             prometheus.Counter
	overrides          prometheus.Counter
	bodyRefusals       *prometheus.CounterVec
	// phase is flowproc_phase_duration_seconds, striped: every exchange
	// observes it twice, from every core (internal/metricstripe).
	phase *metricstripe.HistogramSet
	// phaseObs are the phase histograms, resolved once, by phase.
	phaseObs [numPhases]*metricstripe.Histogram
	// project are the load, reload and per-project error metrics
	// (metrics_projects.go).
	project projectMetrics
}

func newMetrics(reg prometheus.Registerer, s *Server) *metrics {
	m := &metrics{
		streams: metricstripe.NewCounter(prometheus.CounterOpts{
			Name: "flowproc_streams_total",
			Help: "ext_proc streams (one per HTTP exchange) opened by Envoy.",
		}),
		streamsActive: metricstripe.NewGauge(prometheus.GaugeOpts{
			Name: "flowproc_streams_active",
			Help: "ext_proc streams currently open.",
		}),
		exchanges: newExchangeCounters(prometheus.CounterOpts{
			Name: "flowproc_exchanges_total",
			Help: "Exchanges processed, by project, flow and outcome (answered, forwarded, no_project, error, cancelled, panic).",
		}),
		immediateResponses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flowproc_immediate_responses_total",
			Help: "Responses sent to Envoy as ImmediateResponse, by HTTP status.",
		}, []string{"status"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flowproc_errors_total",
			Help: "Errors by code: a FLAT error code number, or protocol, body_unavailable, body_too_large, no_project, panic, stream, no_outcome, reply_too_large, wait_timeout.",
		}, []string{"code"}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "flowproc_panics_total",
			Help: "Panics recovered while processing a stream.",
		}),
		overrides: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "flowproc_message_timeout_overrides_total",
			Help: "override_message_timeout messages sent because a run held a reply past Options.OverrideAfter of Envoy's message_timeout.",
		}),
		bodyRefusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flowproc_body_admission_refusals_total",
			Help: "Body reads refused because the server's body budget could not hold their estimated cost (answered 503, code 5031), by direction.",
		}, []string{"direction"}),
	}
	phases, err := metricstripe.NewHistogramSet(prometheus.HistogramOpts{
		Name:    "flowproc_phase_duration_seconds",
		Help:    "Time from the arrival of an Envoy message to flowproc's reply, by phase.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .2, .5, 1, 2.5, 5},
	}, "phase", phaseNames[:])
	if err != nil {
		panic(err) // constant options: a programming error
	}
	m.phase = phases
	reg.MustRegister(m.streams, m.streamsActive, m.exchanges, m.immediateResponses, m.errors, m.panics, m.overrides, m.bodyRefusals, m.phase)
	m.project = newProjectMetrics(reg, s)
	for p, name := range phaseNames {
		m.phaseObs[p] = m.phase.Histogram(name)
	}
	return m
}

// newRegistry returns a registry with the Go runtime and process collectors,
// used when Options.Registry is nil.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}
