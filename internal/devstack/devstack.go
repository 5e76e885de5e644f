// Package devstack runs flowproc the way `flowproc dev` does: the real
// ext_proc gRPC server on a loopback port, the Envoy-faithful client
// connected to it over a real gRPC connection, and an HTTP listener that
// plays Envoy in front (filter + router) forwarding to an upstream. The e2e
// tests start the same stack.
package devstack

import (
	"context"
	cryptoRand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/flowproc/flowproc/envoy"
	"github.com/flowproc/flowproc/extproc"
	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/frontends"
	"github.com/flowproc/flowproc/flowengine/tracetree"
)

// Config configures a Stack.
type Config struct {
	// Projects selects the project per request.
	Projects extproc.Resolver
	// EnvoyConfig is an Envoy bootstrap YAML holding the ext_proc filter
	// (default envoy.DefaultConfigYAML).
	EnvoyConfig []byte
	// HTTPAddr is the HTTP listener (default ":10000").
	HTTPAddr string
	// GRPCAddr is the ext_proc server's listener (default "127.0.0.1:0").
	GRPCAddr string
	// AdminAddr, when set, serves /metrics, /healthz, /readyz.
	AdminAddr string
	// AdminAnyPort binds a free loopback port when AdminAddr is taken.
	AdminAnyPort bool
	// WrapAdmin, when set, wraps the admin handler (dev adds the trace
	// web page).
	WrapAdmin func(http.Handler) http.Handler
	// Upstream receives forwarded requests; nil starts the demo upstream,
	// which answers with the request it received as JSON.
	Upstream envoy.Upstream
	// BodyLimit is the server's body limit (0 = default).
	BodyLimit int64
	// Logger receives the server's logs (nil discards them).
	Logger *slog.Logger
	// OnRequest, when set, is called once per HTTP request.
	OnRequest func(Line)
	// Trace collects each exchange's trace events into Line.Trace.
	Trace bool
	// Tracing is the server's trace hub (extproc.Options.Tracing).
	Tracing extproc.Tracing
}

// Line describes one request that went through the stack.
type Line struct {
	Method, Path string
	Project      string
	Flow         string
	// Outcome is "forwarded", "answered" or, when Envoy answered without
	// the flow (errors, timeouts), "local:<details>".
	Outcome  string
	Status   int
	Duration time.Duration
	// Trace holds the run's trace events when Config.Trace is set.
	Trace []flowengine.Event
}

func (l Line) String() string {
	project := l.Project
	if project == "" {
		project = "-"
	}
	flow := l.Flow
	if flow == "" {
		flow = "-"
	}
	return fmt.Sprintf("%s %s project=%s flow=%s %s %d %s", l.Method, l.Path, project, flow, l.Outcome, l.Status, l.Duration.Round(10*time.Microsecond))
}

// Stack is a running dev stack.
type Stack struct {
	// HTTPAddr, GRPCAddr and UpstreamAddr are the bound addresses
	// (UpstreamAddr is empty when Config.Upstream was given).
	HTTPAddr, GRPCAddr, AdminAddr, UpstreamAddr string
	// Server is the ext_proc server; Client the Envoy-faithful client.
	Server *extproc.Server
	Client *envoy.Client

	grpcSrv  *grpc.Server
	conn     *grpc.ClientConn
	httpSrv  *http.Server
	admin    *http.Server
	upstream *http.Server
	cancel   context.CancelFunc
	done     chan error
	outcomes sync.Map // request ID → recorded
}

// Start starts a stack; Close stops it.
func Start(ctx context.Context, cfg Config) (*Stack, error) {
	if cfg.Projects == nil {
		return nil, errors.New("devstack: no projects")
	}
	if cfg.EnvoyConfig == nil {
		cfg.EnvoyConfig = envoy.DefaultConfigYAML
	}
	if cfg.HTTPAddr == "" {
		cfg.HTTPAddr = ":10000"
	}
	if cfg.GRPCAddr == "" {
		cfg.GRPCAddr = "127.0.0.1:0"
	}
	fc, err := envoy.ParseFilterConfig(cfg.EnvoyConfig)
	if err != nil {
		return nil, fmt.Errorf("envoy config: %w", err)
	}
	s := &Stack{done: make(chan error, 1)}
	// The server asks for override_message_timeout as the proxy's filter
	// allows it: the same message_timeout and max_message_timeout the
	// Envoy-faithful client enforces.
	s.Server = extproc.New(extproc.Options{Resolver: recording{cfg.Projects, &s.outcomes, cfg.Trace}, Logger: cfg.Logger, BodyLimit: cfg.BodyLimit,
		MessageTimeout: fc.Filter.GetMessageTimeout().AsDuration(), MaxMessageTimeout: fc.Filter.GetMaxMessageTimeout().AsDuration(), Tracing: cfg.Tracing})
	if err := frontends.RegisterMetrics(s.Server.Registry()); err != nil {
		return nil, fmt.Errorf("devstack: register front-end metrics: %w", err)
	}
	s.grpcSrv = grpc.NewServer(s.Server.GRPCOptions()...)
	s.Server.Register(s.grpcSrv)
	glis, err := net.Listen("tcp", cfg.GRPCAddr)
	if err != nil {
		return nil, fmt.Errorf("listen gRPC: %w", err)
	}
	s.GRPCAddr = glis.Addr().String()
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	go func() { s.done <- s.Server.Serve(sctx, s.grpcSrv, glis, 5*time.Second) }()

	s.conn, err = grpc.NewClient(s.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20), grpc.MaxCallSendMsgSize(64<<20)))
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("dial ext_proc server: %w", err)
	}
	s.Client, err = envoy.NewClient(s.conn, fc, envoy.WithHCMHeaders(), envoy.WithLogger(cfg.Logger))
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("envoy client: %w", err)
	}

	up := cfg.Upstream
	if up == nil {
		ulis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("listen demo upstream: %w", err)
		}
		s.UpstreamAddr = ulis.Addr().String()
		s.upstream = &http.Server{Handler: DemoUpstream(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = s.upstream.Serve(ulis) }()
		up = &envoy.HTTPUpstream{Addr: s.UpstreamAddr}
	}

	proxy := &envoy.Proxy{Client: s.Client, Upstream: up}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("x-request-id") == "" {
			r.Header.Set("x-request-id", newID())
		}
		proxy.ServeHTTP(w, r)
	})
	proxy.OnDone = func(r *http.Request, resp *envoy.HTTPResponse, d time.Duration) {
		if cfg.OnRequest == nil {
			return
		}
		l := Line{Method: r.Method, Path: r.URL.RequestURI(), Status: resp.Status, Duration: d}
		if v, ok := s.outcomes.LoadAndDelete(r.Header.Get("x-request-id")); ok {
			rec := v.(recorded)
			l.Project, l.Flow, l.Outcome = rec.project, rec.flow, rec.kind.String()
			if rec.trace != nil {
				l.Trace = rec.trace.Events()
			}
		}
		if l.Outcome == "" || (resp.Local && resp.Details != "" && !strings.HasPrefix(resp.Details, "flowproc")) {
			l.Outcome = "local:" + resp.Details
		}
		cfg.OnRequest(l)
	}
	hlis, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("listen HTTP: %w", err)
	}
	s.HTTPAddr = hlis.Addr().String()
	s.httpSrv = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.httpSrv.Serve(hlis) }()

	if cfg.AdminAddr != "" {
		alis, err := net.Listen("tcp", cfg.AdminAddr)
		if err != nil && cfg.AdminAnyPort {
			alis, err = net.Listen("tcp", "127.0.0.1:0")
		}
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("listen admin: %w", err)
		}
		s.AdminAddr = alis.Addr().String()
		var h http.Handler = s.Server.AdminHandler()
		if cfg.WrapAdmin != nil {
			h = cfg.WrapAdmin(h)
		}
		s.admin = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = s.admin.Serve(alis) }()
	}
	return s, nil
}

// Close stops everything: HTTP first, then the client, then the server
// (draining in-flight streams).
func (s *Stack) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, srv := range []*http.Server{s.httpSrv, s.admin, s.upstream} {
		if srv != nil {
			_ = srv.Shutdown(ctx)
		}
	}
	if s.Client != nil {
		s.Client.Close()
	}
	if s.conn != nil {
		_ = s.conn.Close()
	}
	if s.cancel != nil {
		s.cancel()
		return <-s.done
	}
	return nil
}

// recording wraps the resolver so the stack can report each exchange's
// project, flow and outcome.
type recording struct {
	next     extproc.Resolver
	outcomes *sync.Map
	trace    bool
}

func (r recording) Resolve(name, path string) (flowengine.Runner, string, bool) {
	run, project, ok := r.next.Resolve(name, path)
	if !ok {
		return run, project, ok
	}
	return recordingRunner{run, r.outcomes, r.trace}, project, true
}

type recordingRunner struct {
	next     flowengine.Runner
	outcomes *sync.Map
	trace    bool
}

// recorded is what the stack keeps of one exchange until its line is
// printed: copies, not the Outcome, which the server may recycle once the
// exchange ends (Outcome.Recycle).
type recorded struct {
	project, flow string
	kind          flowengine.OutcomeKind
	trace         *tracetree.Collector
}

func (r recordingRunner) Run(ctx context.Context, req *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
	var c *tracetree.Collector
	if r.trace {
		c = &tracetree.Collector{}
		req.Trace = flowengine.MultiTracer(req.Trace, c)
	}
	out := r.next.Run(ctx, req, h)
	if out != nil && req.ID != "" {
		r.outcomes.Store(req.ID, recorded{project: out.Project, flow: out.Flow, kind: out.Kind, trace: c})
	}
	return out
}

// DemoUpstream answers every request with what it received, as JSON:
// {"method","path","query","headers","body"} (headers lower-case, repeated
// values joined with ", "). Status 200 unless the path holds /status/NNN.
func DemoUpstream() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		headers := map[string]string{}
		names := make([]string, 0, len(r.Header))
		for k := range r.Header {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			headers[strings.ToLower(k)] = strings.Join(r.Header[k], ", ")
		}
		headers["host"] = r.Host
		out := map[string]any{
			"method":  r.Method,
			"path":    r.URL.Path,
			"query":   r.URL.RawQuery,
			"headers": headers,
			"body":    string(body),
		}
		status := http.StatusOK
		if i := strings.Index(r.URL.Path, "/status/"); i >= 0 {
			var code int
			if _, err := fmt.Sscanf(r.URL.Path[i+len("/status/"):], "%d", &code); err == nil && code >= 200 && code <= 599 {
				status = code
			}
		}
		w.Header().Set("content-type", "application/json")
		w.Header().Set("x-demo-upstream", "1")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(out)
	})
}

func newID() string {
	var b [16]byte
	if _, err := io.ReadFull(randReader, b[:]); err != nil {
		return fmt.Sprint(time.Now().UnixNano())
	}
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

var randReader = cryptoRand.Reader
