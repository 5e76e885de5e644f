package envoy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	extprocfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/structpb"
)

// Header is one HTTP header (or trailer) field. Names are lower-cased by
// the client, as Envoy's header maps do.
type Header struct {
	Name  string
	Value string
}

// Arrival says when the body chunks and trailers of a message reach the
// ext_proc filter, relative to the filter's exchanges with the server. It
// reproduces the timing that decides, e.g., whether a STREAMED body is sent
// as one message or one per chunk (Envoy's ext_proc: what Envoy sends and expects in each body mode; the message sequence of each processing mode).
type Arrival int

const (
	// ArrivalImmediate delivers every chunk and the trailers right after
	// the headers, before any reply is processed (a small request read in
	// one go). This is the default.
	ArrivalImmediate Arrival = iota
	// ArrivalAfterHeaders holds chunks and trailers until the direction is
	// no longer waiting for its headers reply, then delivers them all.
	ArrivalAfterHeaders
	// ArrivalLockstep delivers the next chunk (or the trailers) only when
	// the direction has no reply outstanding (FULL_DUPLEX_STREAMED: once
	// the headers reply arrived), i.e. one message in flight at a time.
	ArrivalLockstep
)

// HTTPRequest is a downstream HTTP request, and also the request as the
// upstream receives it after the filter (Upstream.RoundTrip).
type HTTPRequest struct {
	// Method, Scheme, Authority and Path are the :method, :scheme,
	// :authority and :path pseudo-headers.
	Method    string
	Scheme    string
	Authority string
	Path      string
	// Headers are the regular headers in order.
	Headers []Header
	// Body is the whole body; ignored when BodyChunks is non-nil. On a
	// forwarded request it is the concatenation of BodyChunks.
	Body []byte
	// BodyChunks are the body's DATA frames in order (the last one carries
	// end of stream unless there are trailers). On a forwarded request they
	// are the pieces as the filter released them.
	BodyChunks [][]byte
	// Trailers, when non-empty, end the message.
	Trailers []Header
	// Arrival controls the timing of chunks and trailers (downstream
	// requests only).
	Arrival Arrival
	// DynamicMetadata is the stream's dynamic metadata as earlier filters
	// left it; namespaces listed in metadata_options.forwarding_namespaces
	// are sent in metadata_context (Envoy's ext_proc: metadata_context is set on every message).
	DynamicMetadata map[string]*structpb.Struct
	// Downstream is the client connection the request arrived on (what
	// Envoy's source.* and connection.* attributes report).
	Downstream Downstream
	// Route and Cluster are set by the client on a forwarded request: the
	// route the router used (the one cached at arrival, or the re-matched
	// one after the ext_proc server cleared the route cache) and the
	// cluster it named. Both are nil when the filter configuration has no
	// routes or clusters (programmatic configs). See Router.
	Route   *Route
	Cluster *Cluster
}

// Downstream describes the client connection of a request.
type Downstream struct {
	// Address is the client's "ip:port" (Envoy's source.address).
	Address string
	// TLSVersion is the negotiated TLS version ("TLSv1.3"), "" for
	// plaintext; MTLS is true when the client presented a verified
	// certificate, whose subject, URI SAN and SHA-256 digest follow.
	TLSVersion     string
	MTLS           bool
	PeerSubject    string
	PeerURISAN     string
	PeerCertDigest string
	// SNI is the server name the client asked for.
	SNI string
}

// UpstreamResponse is what the upstream answered.
type UpstreamResponse struct {
	// Status is the HTTP status code.
	Status int
	// Headers are the response headers in order (names are lower-cased).
	Headers []Header
	// Body is the whole body; ignored when BodyChunks is non-nil.
	Body []byte
	// BodyChunks are the body's DATA frames in order.
	BodyChunks [][]byte
	// Trailers, when non-empty, end the response.
	Trailers []Header
	// Arrival controls the timing of chunks and trailers.
	Arrival Arrival
}

// Upstream receives the request exactly as Envoy's router would forward it
// (after the filter's mutations) and returns the upstream's response. An
// error becomes Envoy's 503 local reply for a failed upstream. RoundTrip is
// called once the whole request has passed the filter, from its own
// goroutine, and must return promptly once ctx is done (the client cancels
// it when a local reply makes the upstream response moot).
type Upstream interface {
	RoundTrip(ctx context.Context, req *HTTPRequest) (*UpstreamResponse, error)
}

// UpstreamFunc adapts a function to Upstream.
type UpstreamFunc func(ctx context.Context, req *HTTPRequest) (*UpstreamResponse, error)

// RoundTrip calls f.
func (f UpstreamFunc) RoundTrip(ctx context.Context, req *HTTPRequest) (*UpstreamResponse, error) {
	return f(ctx, req)
}

// HTTPResponse is the response the downstream client receives.
type HTTPResponse struct {
	// Status is the HTTP status code.
	Status int
	// Headers are the response headers in order, without :status.
	Headers []Header
	// Body is the response body.
	Body []byte
	// Trailers are the response trailers, if any.
	Trailers []Header
	// Local is true when Envoy generated the response (ext_proc immediate
	// response or error, buffer limit, router 503/404, stream timeout).
	Local bool
	// Details is %RESPONSE_CODE_DETAILS%: "via_upstream" for upstream
	// responses, else the local reply's details (whitespace → "_").
	Details string
	// Reset is true when Envoy had to reset the stream because a local
	// reply was needed after the response headers were already sent
	// downstream; Status/Headers/Body are what had been sent by then.
	Reset bool
	// DynamicMetadata is the stream's dynamic metadata at the end of the
	// exchange, including what the server wrote into receiving namespaces
	// (Envoy's ext_proc: dynamic metadata reaches Envoy only for configured receiving namespaces).
	DynamicMetadata map[string]*structpb.Struct
}

// Version is the Envoy release whose ext_proc behaviour the client
// reproduces where releases differ (Envoy's ext_proc: what each Envoy release supports).
type Version struct {
	Major, Minor int
}

// DefaultVersion is the release emulated unless WithVersion says otherwise.
var DefaultVersion = Version{Major: 1, Minor: 37}

// ParseVersion parses "1.37" or "v1.37.2" (the patch level is ignored).
func ParseVersion(s string) (Version, error) {
	t := strings.TrimPrefix(strings.TrimSpace(s), "v")
	parts := strings.Split(t, ".")
	if len(parts) < 2 {
		return Version{}, fmt.Errorf("envoy: version %q: want MAJOR.MINOR", s)
	}
	maj, err1 := strconv.Atoi(parts[0])
	min, err2 := strconv.Atoi(parts[1])
	if err := errors.Join(err1, err2); err != nil || maj < 1 || min < 0 {
		return Version{}, fmt.Errorf("envoy: version %q: want MAJOR.MINOR: %w", s, err)
	}
	return Version{Major: maj, Minor: min}, nil
}

// String returns "1.37".
func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

func (v Version) atLeast(minor int) bool { return v.Major > 1 || v.Minor >= minor }

// Feature gates by release (Envoy's ext_proc: what each Envoy release supports).
func (v Version) protocolConfig() bool      { return v.atLeast(34) }
func (v Version) spuriousFailClose() bool   { return v.atLeast(35) }
func (v Version) perRouteFailureMode() bool { return v.atLeast(35) }
func (v Version) statusOnError() bool       { return v.atLeast(36) }
func (v Version) fdsNoFailOpenAfterBody() bool {
	return v.atLeast(36)
}
func (v Version) modeOverrideFDSCheck() bool { return v.atLeast(36) }
func (v Version) grpcErrorMessage() bool     { return v.atLeast(36) }
func (v Version) earlyClose() bool           { return v.atLeast(37) }
func (v Version) allowContentLength() bool   { return v.atLeast(38) }

// Stats are the filter's counters (Envoy's ext_proc: the filter's counters), summed over all
// exchanges of a Client.
type Stats struct {
	StreamsStarted                 uint64
	StreamMsgsSent                 uint64
	StreamMsgsReceived             uint64
	SpuriousMsgsReceived           uint64
	StreamsClosed                  uint64
	StreamsFailed                  uint64
	FailureModeAllowed             uint64
	MessageTimeouts                uint64
	RejectedHeaderMutations        uint64
	OverrideMessageTimeoutReceived uint64
	OverrideMessageTimeoutIgnored  uint64
	ClearRouteCacheIgnored         uint64
	ClearRouteCacheDisabled        uint64
}

// Map returns the counters under Envoy's names (the part after
// "http.<prefix>.ext_proc.").
func (s Stats) Map() map[string]uint64 {
	return map[string]uint64{
		"streams_started":                   s.StreamsStarted,
		"stream_msgs_sent":                  s.StreamMsgsSent,
		"stream_msgs_received":              s.StreamMsgsReceived,
		"spurious_msgs_received":            s.SpuriousMsgsReceived,
		"streams_closed":                    s.StreamsClosed,
		"streams_failed":                    s.StreamsFailed,
		"failure_mode_allowed":              s.FailureModeAllowed,
		"message_timeouts":                  s.MessageTimeouts,
		"rejected_header_mutations":         s.RejectedHeaderMutations,
		"override_message_timeout_received": s.OverrideMessageTimeoutReceived,
		"override_message_timeout_ignored":  s.OverrideMessageTimeoutIgnored,
		"clear_route_cache_ignored":         s.ClearRouteCacheIgnored,
		"clear_route_cache_disabled":        s.ClearRouteCacheDisabled,
	}
}

type counters struct {
	streamsStarted, streamMsgsSent, streamMsgsReceived, spuriousMsgsReceived atomic.Uint64
	streamsClosed, streamsFailed, failureModeAllowed, messageTimeouts        atomic.Uint64
	rejectedHeaderMutations                                                  atomic.Uint64
	overrideReceived, overrideIgnored                                        atomic.Uint64
	clearRouteCacheIgnored, clearRouteCacheDisabled                          atomic.Uint64
}

// Option configures a Client.
type Option func(*clientOptions)

type clientOptions struct {
	version         Version
	bufferLimit     int
	maxHeaders      int
	maxHeadersKB    int
	logger          *slog.Logger
	onMessage       func(kind string, d time.Duration)
	hcmHeaders      bool
	graceful        bool
	remoteCloseWait time.Duration
	idleTimeout     time.Duration
}

// WithVersion selects the Envoy release to emulate (default 1.37).
func WithVersion(v Version) Option { return func(o *clientOptions) { o.version = v } }

// WithBufferLimit sets the per-connection buffer limit in bytes (BUFFERED
// bodies above it get 413/500; BUFFERED_PARTIAL splits there). Default: the
// listener's per_connection_buffer_limit_bytes, else 1 MiB.
func WithBufferLimit(n int) Option { return func(o *clientOptions) { o.bufferLimit = n } }

// WithHeaderLimits sets the HCM max_headers_count and
// max_request_headers_kb used by mutation checks (defaults: the HCM's, else
// 100 and 60).
func WithHeaderLimits(count, kb int) Option {
	return func(o *clientOptions) { o.maxHeaders, o.maxHeadersKB = count, kb }
}

// WithLogger sets the logger for protocol violations and decisions.
func WithLogger(l *slog.Logger) Option { return func(o *clientOptions) { o.logger = l } }

// WithOnMessage registers a callback invoked after each accepted reply with
// the message kind ("request_headers", "request_body", "request_trailers",
// "response_headers", "response_body", "response_trailers") and the time
// since the corresponding request message was sent. It must be safe for
// concurrent use.
func WithOnMessage(f func(kind string, d time.Duration)) Option {
	return func(o *clientOptions) { o.onMessage = f }
}

// WithHCMHeaders makes the client add what Envoy's HTTP connection manager
// adds before any filter runs: x-forwarded-proto (the scheme) and a random
// x-request-id, each only when absent.
func WithHCMHeaders() Option { return func(o *clientOptions) { o.hcmHeaders = true } }

// WithGracefulClose emulates runtime ext_proc_graceful_grpc_close=true:
// the client half-closes and waits up to wait (default 1 s) for the server
// to end the stream before cancelling it (Envoy's ext_proc: Envoy ends a stream by half-closing and then cancelling it).
func WithGracefulClose(wait time.Duration) Option {
	return func(o *clientOptions) { o.graceful, o.remoteCloseWait = true, wait }
}

// WithStreamIdleTimeout sets the HCM stream_idle_timeout (default 5 min;
// 0 disables): an exchange with no activity for that long ends with 408
// (stream_idle_timeout), or a reset once response headers were sent.
func WithStreamIdleTimeout(d time.Duration) Option {
	return func(o *clientOptions) { o.idleTimeout = d }
}

// Client drives an ext_proc gRPC server exactly as Envoy's HTTP ext_proc
// filter does, one Process stream per HTTP exchange. It is safe for
// concurrent use.
type Client struct {
	api     extprocv3.ExternalProcessorClient
	cfg     *FilterConfig
	opts    clientOptions
	log     *slog.Logger
	checker *mutationChecker
	limits  mutationLimits
	stats   counters

	mu       sync.Mutex
	closing  chan struct{}
	closed   bool
	deferred sync.WaitGroup
}

// NewClient returns a Client that opens its streams on conn. The filter
// configuration is checked the way Envoy checks it at load (Envoy's ext_proc: the processing-mode rules Envoy enforces when it loads the config) for the emulated version.
func NewClient(conn grpc.ClientConnInterface, cfg *FilterConfig, opts ...Option) (*Client, error) {
	if conn == nil {
		return nil, errors.New("envoy: NewClient: nil connection")
	}
	return NewClientFromProcessor(extprocv3.NewExternalProcessorClient(conn), cfg, opts...)
}

// NewClientFromProcessor is NewClient for an existing ExternalProcessor
// client stub.
func NewClientFromProcessor(api extprocv3.ExternalProcessorClient, cfg *FilterConfig, opts ...Option) (*Client, error) {
	if api == nil {
		return nil, errors.New("envoy: NewClient: nil ExternalProcessorClient")
	}
	if cfg == nil {
		cfg = NewFilterConfig(nil)
	}
	if cfg.Filter == nil {
		cfg.Filter = &extprocfilterv3.ExternalProcessor{}
	}
	o := clientOptions{version: DefaultVersion, remoteCloseWait: time.Second, idleTimeout: 5 * time.Minute}
	for _, f := range opts {
		f(&o)
	}
	if o.bufferLimit <= 0 {
		o.bufferLimit = cfg.BufferLimit
	}
	if o.bufferLimit <= 0 {
		o.bufferLimit = 1 << 20
	}
	if o.maxHeaders <= 0 {
		o.maxHeaders = cfg.MaxHeadersCount
	}
	if o.maxHeaders <= 0 {
		o.maxHeaders = 100
	}
	if o.maxHeadersKB <= 0 {
		o.maxHeadersKB = cfg.MaxRequestHeadersKB
	}
	if o.maxHeadersKB <= 0 {
		o.maxHeadersKB = 60
	}
	if o.remoteCloseWait <= 0 {
		o.remoteCloseWait = time.Second
	}
	if err := validateFilter(cfg.Filter, o.version); err != nil {
		return nil, err
	}
	chk, err := newMutationChecker(cfg.Filter.GetMutationRules())
	if err != nil {
		return nil, fmt.Errorf("envoy: invalid ext_proc config: %w", err)
	}
	l := o.logger
	if l == nil {
		l = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Client{
		api:     api,
		cfg:     cfg,
		opts:    o,
		log:     l,
		checker: chk,
		limits:  mutationLimits{maxCount: o.maxHeaders, maxKB: o.maxHeadersKB},
		closing: make(chan struct{}),
	}, nil
}

// ErrInvalidConfig is wrapped by errors for configurations Envoy would
// reject at load.
var ErrInvalidConfig = errors.New("invalid ext_proc config")

// validateFilter applies the config-load checks of Envoy's config.cc that
// matter to the client (Envoy's ext_proc: the processing-mode rules Envoy enforces when it loads the config).
func validateFilter(f *extprocfilterv3.ExternalProcessor, v Version) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("envoy: %w: "+format, append([]any{ErrInvalidConfig}, a...)...)
	}
	if f.GetHttpService() != nil {
		if f.GetGrpcService() != nil {
			return bad("only one of grpc_service or http_service may be set")
		}
		return bad("http_service is not supported by this client (gRPC only)")
	}
	pm := f.GetProcessingMode()
	fds := extprocfilterv3.ProcessingMode_FULL_DUPLEX_STREAMED
	reqFDS, respFDS := pm.GetRequestBodyMode() == fds, pm.GetResponseBodyMode() == fds
	if (reqFDS || respFDS) && !v.atLeast(33) {
		return bad("FULL_DUPLEX_STREAMED needs Envoy 1.33 or later (emulating %s)", v)
	}
	if reqFDS && pm.GetRequestTrailerMode() != extprocfilterv3.ProcessingMode_SEND {
		return bad("request_body_mode FULL_DUPLEX_STREAMED requires request_trailer_mode SEND")
	}
	if respFDS && pm.GetResponseTrailerMode() != extprocfilterv3.ProcessingMode_SEND {
		return bad("response_body_mode FULL_DUPLEX_STREAMED requires response_trailer_mode SEND")
	}
	if v.Major == 1 && v.Minor == 35 && (reqFDS || respFDS) && f.GetFailureModeAllow() {
		return bad("failure_mode_allow cannot be used with FULL_DUPLEX_STREAMED (Envoy 1.35)")
	}
	if f.GetDisableClearRouteCache() && f.GetRouteCacheAction() != extprocfilterv3.ExternalProcessor_DEFAULT {
		return bad("disable_clear_route_cache and route_cache_action cannot both be set")
	}
	for name, d := range map[string]interface{ AsDuration() time.Duration }{
		"message_timeout": f.GetMessageTimeout(), "max_message_timeout": f.GetMaxMessageTimeout(),
	} {
		if d != nil && d.AsDuration() > time.Hour {
			return bad("%s must be at most 3600s", name)
		}
	}
	return nil
}

// Config returns the filter configuration the client uses.
func (c *Client) Config() *FilterConfig { return c.cfg }

// Version returns the emulated Envoy release.
func (c *Client) Version() Version { return c.opts.version }

// Stats returns a snapshot of the counters.
func (c *Client) Stats() Stats {
	s := &c.stats
	return Stats{
		StreamsStarted:                 s.streamsStarted.Load(),
		StreamMsgsSent:                 s.streamMsgsSent.Load(),
		StreamMsgsReceived:             s.streamMsgsReceived.Load(),
		SpuriousMsgsReceived:           s.spuriousMsgsReceived.Load(),
		StreamsClosed:                  s.streamsClosed.Load(),
		StreamsFailed:                  s.streamsFailed.Load(),
		FailureModeAllowed:             s.failureModeAllowed.Load(),
		MessageTimeouts:                s.messageTimeouts.Load(),
		RejectedHeaderMutations:        s.rejectedHeaderMutations.Load(),
		OverrideMessageTimeoutReceived: s.overrideReceived.Load(),
		OverrideMessageTimeoutIgnored:  s.overrideIgnored.Load(),
		ClearRouteCacheIgnored:         s.clearRouteCacheIgnored.Load(),
		ClearRouteCacheDisabled:        s.clearRouteCacheDisabled.Load(),
	}
}

// Close ends the streams whose close is deferred (observability mode keeps
// each stream open for deferred_close_timeout after its exchange, observability mode)
// and waits for them. The Client must not be used afterwards.
func (c *Client) Close() error {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.closing)
	}
	c.mu.Unlock()
	c.deferred.Wait()
	return nil
}

// ErrClientClosed is returned by Do after Close.
var ErrClientClosed = errors.New("envoy: client closed")

// Do runs one HTTP exchange through the emulated ext_proc filter: it opens
// a Process stream when the first message must be sent, exchanges messages
// per the processing mode, forwards the (mutated) request to upstream and
// passes the upstream's response back through the filter. Every protocol
// failure of the server becomes the response Envoy would give; the error
// is non-nil only for misuse (nil or incomplete request, nil upstream,
// closed client) or when ctx ends before the exchange does.
func (c *Client) Do(ctx context.Context, req *HTTPRequest, upstream Upstream) (*HTTPResponse, error) {
	if req == nil {
		return nil, errors.New("envoy: Do: nil request")
	}
	if upstream == nil {
		return nil, errors.New("envoy: Do: nil upstream")
	}
	if req.Method == "" || req.Path == "" {
		return nil, errors.New("envoy: Do: request needs Method and Path")
	}
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return nil, ErrClientClosed
	}
	if len(c.cfg.EarlyRemoveHeaders) > 0 {
		cp := *req
		cp.Headers = withoutHeaders(req.Headers, c.cfg.EarlyRemoveHeaders)
		req = &cp
	}
	eff := c.cfg.ForRequest(req.Authority, req.Path, req.Headers)
	x := newExchange(ctx, c, eff, req, upstream)
	resp, err := x.run()
	if err != nil {
		return nil, fmt.Errorf("envoy: Do %s %s: %w", req.Method, req.Path, err)
	}
	return resp, nil
}
