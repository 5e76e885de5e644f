// Package extproc is flowproc's production host: the Envoy external
// processing (ext_proc) gRPC server.
//
// Envoy opens one ExternalProcessor.Process stream per HTTP request. The
// server runs the matched project's flowengine.Runner once per stream, in
// the stream's goroutine, and turns the run's I/O into ext_proc messages
// (a flow is one sequential program whose I/O is the ext_proc stream):
// reading a body is a CONTINUE + mode_override(BUFFERED)
// reply followed by waiting for the body message, forwarding is the reply
// carrying the request mutations followed by waiting for the response
// headers, and the run's Outcome becomes either an ImmediateResponse or the
// response-phase reply. docs/server.md describes the mapping in full, and
// docs/envoy-client.md the Envoy behaviour it follows.
package extproc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/budget"
	"github.com/flowproc/flowproc/internal/metricstripe"
)

const (
	// ProjectMetadataKey is the gRPC metadata key (Envoy per-route
	// grpc_initial_metadata) that names the project for a request.
	ProjectMetadataKey = "x-flowproc-project"
	// ServiceName is the ext_proc gRPC service, as reported by health checks.
	ServiceName = "envoy.service.ext_proc.v3.ExternalProcessor"
	// DefaultBodyLimit is the body size limit when Options.BodyLimit is 0.
	DefaultBodyLimit = 1 << 20
	// messageHeadroom is added to the body limit for the gRPC message size
	// limits: headers, metadata and attributes travel in the same message.
	messageHeadroom = 1 << 20
)

// Resolver picks the runner for a request: by the x-flowproc-project
// metadata value name ("" when absent), else by the request path, else a
// default. ok is false when no project matches.
type Resolver interface {
	Resolve(name, path string) (runner flowengine.Runner, project string, ok bool)
}

// Options configure a Server.
type Options struct {
	// Resolver selects the project per request. A nil Resolver answers every
	// request 404.
	Resolver Resolver
	// Logger receives the flat_access records and server errors. Nil
	// discards them.
	Logger *slog.Logger
	// Metrics is the registry for the server's metrics and /metrics. Nil
	// creates a dedicated registry with the Go and process collectors (the
	// global registry is never used).
	Metrics *prometheus.Registry
	// BodyLimit caps request and response bodies a flow reads, in bytes
	// (default DefaultBodyLimit). A request body over it is answered 413.
	BodyLimit int64
	// MaxReplyBytes is the largest reply the proxy accepts (Envoy's
	// envoy_grpc.max_receive_message_length, or the Google gRPC client's
	// limit); default BodyLimit plus 1 MiB, the server's own send limit.
	// A larger reply is not sent: the exchange is answered 500
	// (reply_too_large) while the response can still be replaced.
	MaxReplyBytes int
	// MessageTimeout is Envoy's ext_proc message_timeout: how long Envoy
	// waits for each reply before it fails the request with 504 (default
	// DefaultMessageTimeout, Envoy's default).
	MessageTimeout time.Duration
	// MaxMessageTimeout is Envoy's max_message_timeout, the largest
	// override_message_timeout Envoy accepts. When set (≥ 1 ms), a reply a
	// run still holds after OverrideAfter × MessageTimeout is preceded by
	// one override_message_timeout of MaxMessageTimeout (less when the
	// stream's deadline is nearer), so flows that wait for side calls are
	// not cut off by Envoy. 0 disables overrides, as in Envoy.
	MaxMessageTimeout time.Duration
	// OverrideAfter is the fraction of MessageTimeout (in (0, 1)) after
	// which the override is sent; default DefaultOverrideAfter.
	OverrideAfter float64
	// Tracing, when set, selects the exchanges to trace (the trace API's
	// sessions) and records them.
	Tracing Tracing
	// Limits are the gRPC serving limits (limits.go); zero fields take
	// their defaults.
	Limits Limits
	// StreamWaitTimeout bounds every wait for Envoy's next message on a
	// stream (the first message, a body asked for with mode_override, the
	// response headers after forwarding). When it expires the run's context
	// is cancelled and the stream ends with gRPC DEADLINE_EXCEEDED (error
	// code wait_timeout). 0 derives it from MessageTimeout
	// (StreamWaitTimeout); negative disables it.
	StreamWaitTimeout time.Duration
	// Reflection registers gRPC server reflection (off by default: it tells
	// anyone who can connect every service and message the server has).
	Reflection bool
	// ReadyWhen is the readiness rule once the projects' states are known
	// (SetProjects): ReadyAll (default) or ReadyAny.
	ReadyWhen ReadyRule
	// OTel, when non-nil, traces exchanges with OpenTelemetry (see
	// OTelFromEnv). Nil is off and costs nothing.
	OTel *OTel
	// StepMetrics times every flow step of every exchange for
	// flowproc_step_duration_seconds (docs/server.md: it has a cost).
	StepMetrics bool
	// BodyBudget, when set, is the server-wide budget every body read
	// reserves its estimated peak cost from (admission.go): size ×
	// BodyCostFactor. A read the budget cannot hold now is refused and the
	// exchange answered 503 (code CodeBodyBudget). Nil admits every body.
	BodyBudget *budget.Bytes
	// BodyCostFactor is the estimated peak heap cost of a body byte
	// (default budget.BodyCostFactor).
	BodyCostFactor float64
}

// Server is the ext_proc server. Create it with New, register it on a
// grpc.Server with Register (using GRPCOptions for that server), and serve
// the admin endpoints from AdminHandler.
type Server struct {
	extprocv3.UnimplementedExternalProcessorServer

	resolver  Resolver
	log       *slog.Logger
	reg       *prometheus.Registry
	metrics   *metrics
	bodyLimit int64
	maxReply  int
	health    *health.Server
	limits    Limits
	// waitTimeout bounds each wait for Envoy's next message (0: none).
	waitTimeout time.Duration
	reflection  bool
	ready       readiness

	// message timeout overrides (watchdog.go)
	maxMessageTimeout time.Duration
	overrideAfter     time.Duration

	registered atomic.Bool
	draining   atomic.Bool

	// observability (otel.go, stepmetrics.go)
	otel        *OTel
	stepMetrics bool
	sideCalls   *sideCallMetrics
	stepHist    *prometheus.HistogramVec
	// body admission (admission.go); bodyBudget nil admits everything
	bodyBudget *budget.Bytes
	costFactor float64

	// post-response hooks in flight (after.go)
	hooks     sync.WaitGroup
	hookSlots chan struct{}

	tracing Tracing
}

// New returns a Server for opts.
func New(opts Options) *Server {
	s := &Server{
		resolver:   opts.Resolver,
		log:        opts.Logger,
		reg:        opts.Metrics,
		bodyLimit:  opts.BodyLimit,
		health:     health.NewServer(),
		hookSlots:  make(chan struct{}, maxAfterHooks),
		limits:     opts.Limits.withDefaults(),
		reflection: opts.Reflection,
		tracing:    opts.Tracing,
	}
	s.ready.rule = opts.ReadyWhen
	switch {
	case opts.StreamWaitTimeout == 0:
		s.waitTimeout = StreamWaitTimeout(opts.MessageTimeout)
	case opts.StreamWaitTimeout > 0:
		s.waitTimeout = opts.StreamWaitTimeout
	}
	if s.log == nil {
		s.log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	if s.reg == nil {
		s.reg = newRegistry()
	}
	if s.bodyLimit <= 0 {
		s.bodyLimit = DefaultBodyLimit
	}
	s.maxReply = opts.MaxReplyBytes
	if s.maxReply <= 0 || s.maxReply > int(s.bodyLimit+messageHeadroom) {
		s.maxReply = int(s.bodyLimit + messageHeadroom)
	}
	s.metrics = newMetrics(s.reg, s)
	s.newObservability(opts)
	s.bodyBudget, s.costFactor = opts.BodyBudget, opts.BodyCostFactor
	if s.costFactor <= 0 {
		s.costFactor = budget.BodyCostFactor
	}
	if s.bodyBudget != nil {
		registerBudgetMetrics(s.reg, s.bodyBudget)
	}
	if opts.MaxMessageTimeout >= time.Millisecond {
		mt := opts.MessageTimeout
		if mt <= 0 {
			mt = DefaultMessageTimeout
		}
		frac := opts.OverrideAfter
		if frac <= 0 || frac >= 1 {
			frac = DefaultOverrideAfter
		}
		s.maxMessageTimeout = min(opts.MaxMessageTimeout, time.Hour)
		s.overrideAfter = time.Duration(float64(mt) * frac)
	}
	s.health.SetServingStatus("", healthgrpc.HealthCheckResponse_NOT_SERVING)
	s.health.SetServingStatus(ServiceName, healthgrpc.HealthCheckResponse_NOT_SERVING)
	return s
}

// GRPCOptions are the grpc.Server options the ext_proc service needs:
// message size limits raised to fit a BUFFERED body of BodyLimit bytes plus
// headroom (grpc-go's default is 4 MiB; a BUFFERED body Envoy sends whole
// must fit in one message), and the serving limits and keepalive settings
// of Options.Limits (limitOptions).
//
// A server built with these options may add its own, but no stats handler
// or interceptor that keeps a sent reply after Send returns: Process reuses
// a reply's storage then (see Process).
func (s *Server) GRPCOptions() []grpc.ServerOption {
	n := int(s.bodyLimit + messageHeadroom)
	opts := append([]grpc.ServerOption{
		grpc.MaxRecvMsgSize(n),
		grpc.MaxSendMsgSize(n),
		tapOption(), // the stream wait timeout without a goroutine per stream (streamwait.go)
	}, s.limitOptions()...)
	return append(opts, transportOptions()...) // grpcopts.go
}

// Register registers the ext_proc service, gRPC health (services "" and
// ServiceName) and, with Options.Reflection, server reflection on g, and
// reports SERVING.
func (s *Server) Register(g *grpc.Server) {
	extprocv3.RegisterExternalProcessorServer(g, s)
	healthgrpc.RegisterHealthServer(g, s.health)
	if s.reflection {
		reflection.Register(g)
	}
	s.registered.Store(true)
	s.updateHealth()
}

// Registry returns the registry the server's metrics are on.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// Ready reports whether the server is registered, not draining and, once
// the projects' states are known (SetProjects), whether they satisfy
// Options.ReadyWhen.
func (s *Server) Ready() bool { return s.notReady() == "" }

// Drain marks the server as going away: gRPC health turns NOT_SERVING for
// every service and /readyz fails. In-flight and new streams are still
// served until the grpc.Server stops.
func (s *Server) Drain() {
	s.draining.Store(true)
	s.health.Shutdown()
}

// Shutdown drains the server and stops g gracefully: no new connections,
// in-flight streams run to completion. When ctx ends first the remaining
// streams are cancelled (g.Stop) and the context's error is returned.
func (s *Server) Shutdown(ctx context.Context, g *grpc.Server) error {
	s.Drain()
	stopped := make(chan struct{})
	go func() {
		g.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
		return s.waitHooks(ctx)
	case <-ctx.Done():
		g.Stop()
		<-stopped
		return fmt.Errorf("drain in-flight streams: %w", ctx.Err())
	}
}

// Serve serves g on lis until ctx ends, then shuts down with up to grace
// for in-flight streams (see Shutdown).
func (s *Server) Serve(ctx context.Context, g *grpc.Server, lis net.Listener, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- g.Serve(lis) }()
	select {
	case err := <-errc:
		if err == nil {
			return nil
		}
		return fmt.Errorf("serve gRPC: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	err := s.Shutdown(sctx, g)
	if serr := <-errc; serr != nil && !errors.Is(serr, grpc.ErrServerStopped) && err == nil {
		err = fmt.Errorf("serve gRPC: %w", serr)
	}
	return err
}

// AdminHandler serves /metrics (Prometheus), /healthz (liveness: always
// 200) and /readyz (200 only while Ready; otherwise 503 with the reason:
// "draining", "not serving", or the projects that have never loaded).
func (s *Server) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if reason := s.notReady(); reason != "" {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, reason+"\n")
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	return mux
}

// Process implements ExternalProcessorServer: one stream, one exchange.
//
// A reply's storage is reused for the next reply once stream.Send returns:
// grpc-go marshals the message inside Send, its binary log marshals it
// there too, and a stats handler must copy an OutPayload's message if it
// needs it after HandleRPC (grpc-go's stats.OutPayload). Only
// grpc.EnableTracing keeps sent messages for later; replies are not
// reused while it is set.
func (s *Server) Process(stream extprocv3.ExternalProcessor_ProcessServer) (err error) {
	shard := metricstripe.Shard()
	s.metrics.streams.IncAt(shard)
	s.metrics.streamsActive.AddAt(shard, 1)
	x := newExchange(s, stream, shard)
	defer func() {
		panicked := false
		if r := recover(); r != nil {
			panicked = true
			err = x.panicked(r, debug.Stack())
		}
		x.traceDone()
		x.close()
		s.safeRecord(x)
		s.afterResponse(x)
		s.metrics.streamsActive.AddAt(shard, -1)
		if !panicked && x.recycleRun() {
			x.recycle()
		}
	}()
	return x.serve()
}

// safeRecord writes the exchange's log record and metrics; a panic there
// (e.g. a label value that is not UTF-8) is logged, never propagated: grpc-go
// does not recover handler panics.
func (s *Server) safeRecord(x *exchange) {
	defer func() {
		if r := recover(); r != nil {
			s.metrics.panics.Inc()
			s.log.Error("panic recovered while recording an exchange", "requestID", x.request.ID, "panic", fmt.Sprint(r))
		}
	}()
	x.record()
}

var _ extprocv3.ExternalProcessorServer = (*Server)(nil)
