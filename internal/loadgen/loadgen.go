// Package loadgen is the engine of `flowproc bench`: it drives an ext_proc
// server with the Envoy-faithful client (package envoy) from many workers
// over several gRPC connections, closed-loop (saturation) or open-loop at a
// fixed rate, and measures exchanges per second, exchange and per-message
// latency percentiles (log-linear histograms), errors by kind, immediate
// responses, and the CPU time the server spends per exchange.
//
// The upstream is in-process (a fixed response of the configured size), so
// only the ext_proc round trips and the server are measured. The server's
// CPU time is read by a function the caller supplies (ProcCPU of a server
// child process, see StartChild), sampled at the end of the warm-up and
// when the measured window ends.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/flowproc/flowproc/envoy"
	"github.com/flowproc/flowproc/envoy/respdecode"
)

// Config configures one run.
type Config struct {
	// Target is the ext_proc server's gRPC address, host:port.
	Target string
	// Conns is the number of gRPC connections (ClientConns), used round
	// robin per exchange; each has its own envoy.Client. Default 4.
	Conns int
	// Workers is the number of concurrent exchanges at most. Default 32.
	Workers int
	// Duration is the measured time (after Warmup) when Count is 0.
	// Default 10s.
	Duration time.Duration
	// Count, when positive, ends the run after that many measured
	// exchanges instead of after Duration.
	Count int
	// Warmup is run first and excluded from every statistic.
	Warmup time.Duration
	// Rate is the open-loop arrival rate in exchanges per second; 0 runs
	// closed-loop: each worker starts its next exchange as soon as the
	// previous one ends (saturation).
	Rate float64
	// Filter is the ext_proc filter configuration the client follows
	// (processing_mode, routes, timeouts); nil is envoy.DefaultConfigYAML's.
	Filter *envoy.FilterConfig
	// Request is the downstream request; its Paths are used round robin.
	Request Request
	// Response is what the in-process upstream answers.
	Response Response
	// ExchangeTimeout bounds one exchange (default 30s); one that takes
	// longer counts as a client error.
	ExchangeTimeout time.Duration
	// ServerCPU, when set, returns the server's CPU time so far; it is
	// sampled at the start and the end of the measured window.
	ServerCPU func() (time.Duration, error)
	// ServerMemory, when set, measures the server's peak RSS and heap
	// allocations over the measured window (memory.go).
	ServerMemory MemoryProbe
	// ClientOptions are added to the envoy.Client options.
	ClientOptions []envoy.Option
}

// Request is the downstream HTTP request template.
type Request struct {
	// Method is the :method (default GET).
	Method string
	// Paths are the :path values, used round robin (default "/").
	Paths []string
	// Authority is the :authority (default "localhost").
	Authority string
	// Headers are extra request headers.
	Headers []envoy.Header
	// Body is the request body (none when empty). A content-length header
	// is added for it.
	Body []byte
}

// Response is the in-process upstream's fixed answer.
type Response struct {
	// Status is the status code (default 200).
	Status int
	// Headers are the response headers (default content-type
	// application/json); content-length is added.
	Headers []envoy.Header
	// Body is the response body.
	Body []byte
}

// Result is what one run measured. Durations in JSON are in microseconds
// or seconds as their names say.
type Result struct {
	// Label names the server measured (set by the caller).
	Label string `json:"label,omitempty"`
	// Round is the round number within a comparison (set by the caller).
	Round int `json:"round,omitempty"`
	// Target is the server's address.
	Target string `json:"target"`
	// Rate is the configured arrival rate (0 = saturation).
	Rate float64 `json:"rate"`
	// Workers and Conns are the configured concurrency.
	Workers int `json:"workers"`
	Conns   int `json:"conns"`
	// Exchanges is the number of measured exchanges (all outcomes).
	Exchanges uint64 `json:"exchanges"`
	// ElapsedS is the measured window in seconds.
	ElapsedS float64 `json:"elapsed_s"`
	// Throughput is Exchanges / ElapsedS.
	Throughput float64 `json:"exchanges_per_s"`
	// Latency is the exchange latency: from the due time (fixed rate) or
	// the start (saturation) to the complete downstream response.
	Latency Summary `json:"latency"`
	// StartLag is how late exchanges started after they were due (fixed
	// rate only): large values mean the workers or the server could not
	// keep up and the latency includes queueing.
	StartLag *Summary `json:"start_lag,omitempty"`
	// Messages is the latency of each ext_proc message kind, from sending
	// it to accepting its reply (envoy.WithOnMessage).
	Messages map[string]Summary `json:"messages"`
	// MessagesPerExchange is ext_proc messages the client sent per
	// measured exchange.
	MessagesPerExchange float64 `json:"messages_per_exchange"`
	// ClientErrors are exchanges that ended with an error from the client
	// (transport gone, exchange timeout).
	ClientErrors uint64 `json:"client_errors"`
	// ErrorSamples are the first few distinct client error messages.
	ErrorSamples []string `json:"error_samples,omitempty"`
	// Non2xx counts responses whose status is not 2xx (including local
	// replies and immediate responses that are not 2xx).
	Non2xx uint64 `json:"non_2xx"`
	// LocalReplies counts responses Envoy generated itself rather than the
	// server or the upstream: ext_proc errors and timeouts, router 404,
	// buffer limits (the server failed or was misconfigured).
	LocalReplies uint64 `json:"local_replies"`
	// LocalDetails counts local replies by %RESPONSE_CODE_DETAILS%.
	LocalDetails map[string]uint64 `json:"local_details,omitempty"`
	// Resets counts streams Envoy had to reset after sending headers.
	Resets uint64 `json:"resets"`
	// Immediate counts exchanges the server answered with an
	// ImmediateResponse (an answer, not an error).
	Immediate uint64 `json:"immediate_responses"`
	// Statuses counts responses by status code.
	Statuses map[int]uint64 `json:"statuses"`
	// ServerCPUMeasured says whether ServerCPU was sampled.
	ServerCPUMeasured bool `json:"server_cpu_measured"`
	// ServerCPUS is the server's CPU time in the window, in seconds.
	ServerCPUS float64 `json:"server_cpu_s"`
	// ServerCPUPerExchangeUS is ServerCPUS per exchange, in microseconds.
	ServerCPUPerExchangeUS float64 `json:"server_cpu_us_per_exchange"`
	// ClientCPUS is the load generator's own CPU time in the window (this
	// process: client, upstream and, for an in-process server, the server).
	ClientCPUS float64 `json:"client_cpu_s"`
	// ClientCPUPerExchangeUS is ClientCPUS per exchange, in microseconds.
	ClientCPUPerExchangeUS float64 `json:"client_cpu_us_per_exchange"`
	// ServerPeakRSSBytes is the server's peak resident set size in the
	// window (the largest of the rounds' for merged results; 0 when not
	// measured), measured as ServerRSSSource says (MemoryWindow.RSSSource).
	ServerPeakRSSBytes int64  `json:"server_peak_rss_bytes,omitempty"`
	ServerRSSSource    string `json:"server_rss_source,omitempty"`
	// ServerAllocMeasured says whether the server's heap allocations were
	// read; ServerAllocBytes is their total in the window and
	// ServerAllocPerExchange that per exchange, in bytes.
	ServerAllocMeasured    bool    `json:"server_alloc_measured"`
	ServerAllocBytes       int64   `json:"server_alloc_bytes,omitempty"`
	ServerAllocPerExchange float64 `json:"server_alloc_bytes_per_exchange,omitempty"`
	// MemoryError is why the memory measurement failed, if it did.
	MemoryError string `json:"memory_error,omitempty"`

	// Hist is the exchange latency histogram (for Merge).
	Hist *Histogram `json:"-"`
	// MessageHists are the per-message histograms (for Merge).
	MessageHists map[string]*Histogram `json:"-"`
	// LagHist is the start lag histogram (fixed rate).
	LagHist *Histogram `json:"-"`
	// Elapsed, ServerCPU and ClientCPU are the raw durations.
	Elapsed   time.Duration `json:"-"`
	ServerCPU time.Duration `json:"-"`
	ClientCPU time.Duration `json:"-"`
	msgsSent  uint64
}

// Run runs the load described by cfg and returns what it measured. It
// returns an error when the configuration is invalid or the client cannot
// be set up; failures of single exchanges are counted in the Result.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	r, err := newRunner(cfg)
	if err != nil {
		return nil, err
	}
	defer r.close()
	return r.run(ctx)
}

// normalize checks c and fills in the defaults.
func (c *Config) normalize() error {
	if c.Target == "" {
		return errors.New("loadgen: no target address")
	}
	if c.Conns <= 0 {
		c.Conns = 4
	}
	if c.Workers <= 0 {
		c.Workers = 32
	}
	if c.Count < 0 || c.Warmup < 0 || c.Duration < 0 || c.Rate < 0 {
		return errors.New("loadgen: count, warm-up, duration and rate must not be negative")
	}
	if c.Count == 0 && c.Duration == 0 {
		c.Duration = 10 * time.Second
	}
	if c.ExchangeTimeout <= 0 {
		c.ExchangeTimeout = 30 * time.Second
	}
	if c.Filter == nil {
		fc, err := envoy.ParseFilterConfig(envoy.DefaultConfigYAML)
		if err != nil {
			return fmt.Errorf("loadgen: default filter config: %w", err)
		}
		c.Filter = fc
	}
	if c.Request.Method == "" {
		c.Request.Method = "GET"
	}
	if len(c.Request.Paths) == 0 {
		c.Request.Paths = []string{"/"}
	}
	if c.Request.Authority == "" {
		c.Request.Authority = "localhost"
	}
	if c.Response.Status == 0 {
		c.Response.Status = 200
	}
	if c.Response.Headers == nil {
		c.Response.Headers = []envoy.Header{{Name: "content-type", Value: "application/json"}}
	}
	return nil
}

// exchangeKey carries the *exchangeNote of an exchange in its context, where
// the stream interceptor finds it.
type exchangeKey struct{}

// exchangeNote is what the interceptor learns about one exchange: whether
// the server answered with an ImmediateResponse and, to time that reply,
// when the messages still awaiting a reply were sent.
type exchangeNote struct {
	immediate atomic.Bool
	sentN     atomic.Uint32
	msgs      *msgRecorder

	mu      sync.Mutex
	pending []sentMessage
}

// sentMessage is a message sent on the stream whose reply is outstanding.
type sentMessage struct {
	kind string
	at   time.Time
}

// sent notes a message sent to the server.
func (n *exchangeNote) sent(kind string) {
	n.mu.Lock()
	n.pending = append(n.pending, sentMessage{kind: kind, at: time.Now()})
	n.mu.Unlock()
}

// replied notes a reply: an ordinary reply settles the oldest pending
// message of its kind (the client times those, WithOnMessage); an
// ImmediateResponse answers the oldest pending message and is timed here,
// as "<kind> (immediate)", since the client reports no latency for it.
func (n *exchangeNote) replied(kind string, immediate bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i, m := range n.pending {
		if immediate || m.kind == kind {
			n.pending = append(n.pending[:i], n.pending[i+1:]...)
			if immediate {
				n.msgs.record(m.kind+" (immediate)", time.Since(m.at))
			}
			return
		}
	}
}

// requestKind names a ProcessingRequest by its message ("request_headers").
func requestKind(r *extprocv3.ProcessingRequest) string {
	switch r.GetRequest().(type) {
	case *extprocv3.ProcessingRequest_RequestHeaders:
		return "request_headers"
	case *extprocv3.ProcessingRequest_RequestBody:
		return "request_body"
	case *extprocv3.ProcessingRequest_RequestTrailers:
		return "request_trailers"
	case *extprocv3.ProcessingRequest_ResponseHeaders:
		return "response_headers"
	case *extprocv3.ProcessingRequest_ResponseBody:
		return "response_body"
	case *extprocv3.ProcessingRequest_ResponseTrailers:
		return "response_trailers"
	}
	return ""
}

// responseKind names the request message kind a ProcessingResponse answers.
func responseKind(r *extprocv3.ProcessingResponse) string {
	switch r.GetResponse().(type) {
	case *extprocv3.ProcessingResponse_RequestHeaders:
		return "request_headers"
	case *extprocv3.ProcessingResponse_RequestBody:
		return "request_body"
	case *extprocv3.ProcessingResponse_RequestTrailers:
		return "request_trailers"
	case *extprocv3.ProcessingResponse_ResponseHeaders:
		return "response_headers"
	case *extprocv3.ProcessingResponse_ResponseBody:
		return "response_body"
	case *extprocv3.ProcessingResponse_ResponseTrailers:
		return "response_trailers"
	}
	return ""
}

// runner holds one run's state.
type runner struct {
	cfg      Config
	conns    []*grpc.ClientConn
	clients  []*envoy.Client
	requests []envoy.HTTPRequest
	upstream envoy.Upstream
	msgs     msgRecorder
	rr       atomic.Uint64

	start, warmupEnd, end time.Time
	sched                 *Schedule
	firstMeasured         int64 // fixed rate: first measured index
	stopIndex             int64 // fixed rate with Count: first index not run
	claimed               atomic.Int64

	// memBeginErr is the ServerMemory.Begin error (memory.go)
	memBeginErr error
}

// newRunner dials the connections, builds the clients, the request
// templates and the upstream.
func newRunner(cfg Config) (*runner, error) {
	r := &runner{cfg: cfg}
	r.msgs.hists = map[string]*Histogram{}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	opts := append([]envoy.Option{envoy.WithHCMHeaders(), envoy.WithLogger(logger), envoy.WithOnMessage(r.msgs.record)}, cfg.ClientOptions...)
	for range cfg.Conns {
		conn, err := grpc.NewClient(cfg.Target,
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			// Replies are decoded without reflection, as Envoy's generated
			// C++ code does (respdecode's overview).
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20), grpc.MaxCallSendMsgSize(64<<20), grpc.ForceCodecV2(respdecode.NewCodec())),
			grpc.WithStreamInterceptor(noteImmediate))
		if err != nil {
			r.close()
			return nil, fmt.Errorf("loadgen: dial %s: %w", cfg.Target, err)
		}
		conn.Connect()
		r.conns = append(r.conns, conn)
		c, err := envoy.NewClient(conn, cfg.Filter, opts...)
		if err != nil {
			r.close()
			return nil, fmt.Errorf("loadgen: envoy client: %w", err)
		}
		r.clients = append(r.clients, c)
	}
	req := cfg.Request
	headers := append([]envoy.Header{}, req.Headers...)
	if len(req.Body) > 0 {
		headers = append(headers, envoy.Header{Name: "content-length", Value: strconv.Itoa(len(req.Body))})
	}
	for _, p := range req.Paths {
		r.requests = append(r.requests, envoy.HTTPRequest{
			Method: req.Method, Scheme: "http", Authority: req.Authority, Path: p, Headers: headers, Body: req.Body,
		})
	}
	resp := cfg.Response
	respHeaders := append(append([]envoy.Header{}, resp.Headers...), envoy.Header{Name: "content-length", Value: strconv.Itoa(len(resp.Body))})
	r.upstream = envoy.UpstreamFunc(func(context.Context, *envoy.HTTPRequest) (*envoy.UpstreamResponse, error) {
		return &envoy.UpstreamResponse{Status: resp.Status, Headers: respHeaders, Body: resp.Body}, nil
	})
	return r, nil
}

// close closes the clients and their connections.
func (r *runner) close() {
	for _, c := range r.clients {
		_ = c.Close()
	}
	for _, c := range r.conns {
		_ = c.Close()
	}
}

// noteImmediate wraps each Process stream of an exchange so that its
// exchangeNote sees the messages: it counts those sent, and marks and times
// an ImmediateResponse reply — the client's HTTPResponse says only that
// Envoy generated the response (Local), not whether the server asked for
// it, and WithOnMessage reports no latency for it.
func noteImmediate(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	cs, err := streamer(ctx, desc, cc, method, opts...)
	if err != nil {
		return cs, err
	}
	if n, ok := ctx.Value(exchangeKey{}).(*exchangeNote); ok {
		return &watchedStream{ClientStream: cs, note: n}, nil
	}
	return cs, nil
}

// watchedStream is a Process stream reporting to an exchangeNote.
type watchedStream struct {
	grpc.ClientStream
	note *exchangeNote
}

// SendMsg counts the message and notes it as awaiting a reply.
func (s *watchedStream) SendMsg(m any) error {
	if pr, ok := m.(*extprocv3.ProcessingRequest); ok {
		s.note.sentN.Add(1)
		if k := requestKind(pr); k != "" && !pr.GetObservabilityMode() {
			s.note.sent(k)
		}
	}
	return s.ClientStream.SendMsg(m)
}

// RecvMsg notes the reply (and whether it is an ImmediateResponse).
func (s *watchedStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if err != nil {
		return err
	}
	if pr, ok := m.(*extprocv3.ProcessingResponse); ok {
		immediate := pr.GetImmediateResponse() != nil
		if immediate {
			s.note.immediate.Store(true)
		}
		s.note.replied(responseKind(pr), immediate)
	}
	return nil
}

// msgRecorder collects per-message latencies while on.
type msgRecorder struct {
	on    atomic.Bool
	mu    sync.Mutex
	hists map[string]*Histogram
}

// record adds one message latency (WithOnMessage callback).
func (m *msgRecorder) record(kind string, d time.Duration) {
	if !m.on.Load() {
		return
	}
	m.mu.Lock()
	h := m.hists[kind]
	if h == nil {
		h = NewHistogram()
		m.hists[kind] = h
	}
	h.Record(d)
	m.mu.Unlock()
}

// worker is one worker's tallies, merged at the end.
type worker struct {
	hist, lag                            *Histogram
	n, clientErrs, non2xx, local, resets uint64
	immediate, msgsSent                  uint64
	statuses                             map[int]uint64
	localDetails                         map[string]uint64
	errSamples                           []string
	timer                                *time.Timer
}

// sample is a snapshot of the counters at a window edge.
type sample struct {
	at        time.Time
	server    time.Duration
	serverErr error
	client    time.Duration
	clientErr error
	// at the window's end only
	mem    MemoryWindow
	memErr error
}

// snapshot samples the server's and this process's CPU time.
func (r *runner) snapshot() sample {
	s := sample{}
	if r.cfg.ServerCPU != nil {
		s.server, s.serverErr = r.cfg.ServerCPU()
	}
	s.client, s.clientErr = ProcCPU(os.Getpid())
	s.at = time.Now()
	return s
}

// run starts the workers, opens the measured window after the warm-up and
// closes it when the last worker is done.
func (r *runner) run(ctx context.Context) (*Result, error) {
	cfg := r.cfg
	r.start = time.Now()
	r.warmupEnd = r.start.Add(cfg.Warmup)
	if cfg.Count == 0 {
		r.end = r.warmupEnd.Add(cfg.Duration)
	}
	if cfg.Rate > 0 {
		r.sched = NewSchedule(r.start, cfg.Rate)
		r.firstMeasured = r.sched.IndexAt(r.warmupEnd)
		r.stopIndex = -1
		if cfg.Count > 0 {
			r.stopIndex = r.firstMeasured + int64(cfg.Count)
		}
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Without a warm-up the window opens before the first exchange.
	var before sample
	if cfg.Warmup == 0 {
		before = r.snapshot()
		r.memBegin()
		r.msgs.on.Store(true)
	}
	workers := make([]*worker, cfg.Workers)
	var wg sync.WaitGroup
	done := make(chan struct{})
	for i := range workers {
		w := &worker{hist: NewHistogram(), statuses: map[int]uint64{}, localDetails: map[string]uint64{}}
		if r.sched != nil {
			w.lag = NewHistogram()
		}
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.work(rctx, w)
		}()
	}
	go func() {
		wg.Wait()
		close(done)
	}()

	// Otherwise it opens at the end of the warm-up.
	if cfg.Warmup > 0 {
		t := time.NewTimer(time.Until(r.warmupEnd))
		select {
		case <-t.C:
		case <-done:
		case <-ctx.Done():
		}
		t.Stop()
		before = r.snapshot()
		r.memBegin()
		r.msgs.on.Store(true)
	}
	select {
	case <-done:
	case <-ctx.Done():
		<-done
	}
	after := r.snapshot()
	after.mem, after.memErr = r.memEnd()
	r.msgs.on.Store(false)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("loadgen: run interrupted: %w", err)
	}
	return r.result(workers, before, after), nil
}

// work runs exchanges until the run is over.
func (r *runner) work(ctx context.Context, w *worker) {
	w.timer = time.NewTimer(time.Hour)
	w.timer.Stop()
	defer w.timer.Stop()
	for ctx.Err() == nil {
		var due time.Time
		var measured bool
		if r.sched != nil {
			i, d := r.sched.Next()
			if (r.stopIndex >= 0 && i >= r.stopIndex) || (r.stopIndex < 0 && !d.Before(r.end)) {
				return
			}
			measured = i >= r.firstMeasured
			if wait := time.Until(d); wait > 0 {
				w.timer.Reset(wait)
				select {
				case <-w.timer.C:
				case <-ctx.Done():
					return
				}
			}
			due = d
			if measured {
				w.lag.Record(time.Since(d))
			}
		} else {
			due = time.Now()
			if r.cfg.Count == 0 && !due.Before(r.end) {
				return
			}
			if !due.Before(r.warmupEnd) {
				if r.cfg.Count > 0 && r.claimed.Add(1) > int64(r.cfg.Count) {
					return
				}
				measured = true
			}
		}
		r.exchange(ctx, w, due, measured)
	}
}

// exchange runs one exchange and, when measured, records it.
func (r *runner) exchange(ctx context.Context, w *worker, due time.Time, measured bool) {
	k := r.rr.Add(1) - 1
	client := r.clients[k%uint64(len(r.clients))]
	req := r.requests[k%uint64(len(r.requests))]
	note := &exchangeNote{msgs: &r.msgs}
	xctx, cancel := context.WithTimeout(context.WithValue(ctx, exchangeKey{}, note), r.cfg.ExchangeTimeout)
	resp, err := client.Do(xctx, &req, r.upstream)
	cancel()
	lat := time.Since(due)
	if !measured {
		return
	}
	if err != nil && ctx.Err() != nil {
		return // the run was interrupted; not the server's fault
	}
	w.n++
	w.msgsSent += uint64(note.sentN.Load())
	w.hist.Record(lat)
	if err != nil {
		w.clientErrs++
		if len(w.errSamples) < 3 {
			w.errSamples = append(w.errSamples, err.Error())
		}
		return
	}
	w.statuses[resp.Status]++
	if resp.Status < 200 || resp.Status > 299 {
		w.non2xx++
	}
	if resp.Reset {
		w.resets++
	}
	switch {
	case note.immediate.Load():
		w.immediate++
	case resp.Local:
		w.local++
		w.localDetails[resp.Details]++
	}
}

// result merges the workers' tallies into the run's Result.
func (r *runner) result(workers []*worker, before, after sample) *Result {
	res := &Result{
		Target:       r.cfg.Target,
		Rate:         r.cfg.Rate,
		Workers:      r.cfg.Workers,
		Conns:        r.cfg.Conns,
		Hist:         NewHistogram(),
		MessageHists: map[string]*Histogram{},
		Statuses:     map[int]uint64{},
		LocalDetails: map[string]uint64{},
		Elapsed:      after.at.Sub(before.at),
	}
	if r.sched != nil {
		res.LagHist = NewHistogram()
	}
	seen := map[string]bool{}
	for _, w := range workers {
		res.Hist.Merge(w.hist)
		if res.LagHist != nil {
			res.LagHist.Merge(w.lag)
		}
		res.Exchanges += w.n
		res.ClientErrors += w.clientErrs
		res.Non2xx += w.non2xx
		res.LocalReplies += w.local
		res.Resets += w.resets
		res.Immediate += w.immediate
		res.msgsSent += w.msgsSent
		for k, v := range w.statuses {
			res.Statuses[k] += v
		}
		for k, v := range w.localDetails {
			res.LocalDetails[k] += v
		}
		for _, e := range w.errSamples {
			if !seen[e] && len(res.ErrorSamples) < 5 {
				seen[e] = true
				res.ErrorSamples = append(res.ErrorSamples, e)
			}
		}
	}
	r.msgs.mu.Lock()
	for k, h := range r.msgs.hists {
		res.MessageHists[k] = h
	}
	r.msgs.mu.Unlock()
	if r.cfg.ServerCPU != nil && before.serverErr == nil && after.serverErr == nil {
		res.ServerCPUMeasured = true
		res.ServerCPU = after.server - before.server
	}
	if before.clientErr == nil && after.clientErr == nil {
		res.ClientCPU = after.client - before.client
	}
	if r.cfg.ServerMemory != nil {
		res.ServerPeakRSSBytes, res.ServerRSSSource = after.mem.PeakRSS, after.mem.RSSSource
		if after.mem.Allocated >= 0 {
			res.ServerAllocMeasured, res.ServerAllocBytes = true, after.mem.Allocated
		}
		if after.memErr != nil {
			res.MemoryError = after.memErr.Error()
		}
	}
	res.finish()
	return res
}

// finish computes the derived fields from the raw ones.
func (res *Result) finish() {
	res.ElapsedS = res.Elapsed.Seconds()
	res.Throughput, res.MessagesPerExchange, res.ServerCPUPerExchangeUS, res.ClientCPUPerExchangeUS = 0, 0, 0, 0
	if res.Elapsed > 0 {
		res.Throughput = float64(res.Exchanges) / res.Elapsed.Seconds()
	}
	res.ServerCPUS = res.ServerCPU.Seconds()
	res.ClientCPUS = res.ClientCPU.Seconds()
	if res.Exchanges > 0 {
		n := float64(res.Exchanges)
		res.MessagesPerExchange = float64(res.msgsSent) / n
		res.ServerCPUPerExchangeUS = float64(res.ServerCPU) / 1e3 / n
		res.ClientCPUPerExchangeUS = float64(res.ClientCPU) / 1e3 / n
		res.ServerAllocPerExchange = 0
		if res.ServerAllocMeasured {
			res.ServerAllocPerExchange = float64(res.ServerAllocBytes) / n
		}
	}
	if res.Hist != nil {
		res.Latency = res.Hist.Summary()
	}
	res.StartLag = nil
	if res.LagHist != nil {
		s := res.LagHist.Summary()
		res.StartLag = &s
	}
	res.Messages = map[string]Summary{}
	for k, h := range res.MessageHists {
		res.Messages[k] = h.Summary()
	}
	if len(res.LocalDetails) == 0 {
		res.LocalDetails = nil
	}
}

// Merge combines the results of several rounds against the same server
// into one: counts and times add up, histograms merge, so throughput is
// total exchanges over total measured time and CPU per exchange is total
// CPU over total exchanges. Label, target and configuration come from the
// first result; Round is 0.
func Merge(results ...*Result) *Result {
	if len(results) == 0 {
		return nil
	}
	first := results[0]
	m := &Result{
		Label: first.Label, Target: first.Target, Rate: first.Rate, Workers: first.Workers, Conns: first.Conns,
		Hist: NewHistogram(), MessageHists: map[string]*Histogram{}, Statuses: map[int]uint64{}, LocalDetails: map[string]uint64{},
		ServerCPUMeasured: true, ServerAllocMeasured: true,
	}
	seen := map[string]bool{}
	for _, r := range results {
		m.Exchanges += r.Exchanges
		m.Elapsed += r.Elapsed
		m.ClientErrors += r.ClientErrors
		m.Non2xx += r.Non2xx
		m.LocalReplies += r.LocalReplies
		m.Resets += r.Resets
		m.Immediate += r.Immediate
		m.ServerCPU += r.ServerCPU
		m.ClientCPU += r.ClientCPU
		m.msgsSent += r.msgsSent
		m.ServerCPUMeasured = m.ServerCPUMeasured && r.ServerCPUMeasured
		m.ServerAllocMeasured = m.ServerAllocMeasured && r.ServerAllocMeasured
		m.ServerAllocBytes += r.ServerAllocBytes
		if r.ServerPeakRSSBytes > m.ServerPeakRSSBytes {
			m.ServerPeakRSSBytes, m.ServerRSSSource = r.ServerPeakRSSBytes, r.ServerRSSSource
		}
		if r.MemoryError != "" && m.MemoryError == "" {
			m.MemoryError = r.MemoryError
		}
		m.Hist.Merge(r.Hist)
		if r.LagHist != nil {
			if m.LagHist == nil {
				m.LagHist = NewHistogram()
			}
			m.LagHist.Merge(r.LagHist)
		}
		for k, h := range r.MessageHists {
			if m.MessageHists[k] == nil {
				m.MessageHists[k] = NewHistogram()
			}
			m.MessageHists[k].Merge(h)
		}
		for k, v := range r.Statuses {
			m.Statuses[k] += v
		}
		for k, v := range r.LocalDetails {
			m.LocalDetails[k] += v
		}
		for _, e := range r.ErrorSamples {
			if !seen[e] && len(m.ErrorSamples) < 5 {
				seen[e] = true
				m.ErrorSamples = append(m.ErrorSamples, e)
			}
		}
	}
	if !m.ServerCPUMeasured {
		m.ServerCPU = 0
	}
	if !m.ServerAllocMeasured {
		m.ServerAllocBytes = 0
	}
	m.finish()
	return m
}
