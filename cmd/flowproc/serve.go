package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/flowproc/flowproc/extproc"
	"github.com/flowproc/flowproc/flowengine/budget"
	"github.com/flowproc/flowproc/flowengine/frontends"
	"github.com/flowproc/flowproc/flowengine/projects"
	"github.com/flowproc/flowproc/flowengine/store"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

func init() {
	register(&command{
		name:    "serve",
		summary: "serve projects to Envoy as an ext_proc gRPC service (production)",
		run:     runServe,
	})
}

// serveConfig is the serve command's configuration: defaults, then the
// -config YAML file, then flags given on the command line.
type serveConfig struct {
	// Listen is the gRPC (ext_proc) listen address.
	Listen string `json:"listen"`
	// Admin is the admin HTTP listen address (/metrics, /healthz, /readyz);
	// "" or "off" disables it.
	Admin string `json:"admin"`
	// TLS configures the gRPC listener; empty means plaintext (h2c).
	TLS tlsFiles `json:"tls"`
	// BodyLimit is the largest body a flow reads, e.g. "1MiB".
	BodyLimit string `json:"bodyLimit"`
	// MaxReply is the largest reply Envoy accepts ("" = body limit + 1MiB):
	// set it to Envoy's envoy_grpc.max_receive_message_length when that is
	// configured.
	MaxReply string `json:"maxReply"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `json:"logLevel"`
	// DefaultProject serves requests no other rule selects.
	DefaultProject string `json:"defaultProject"`
	// ShutdownGrace is how long in-flight streams may run after SIGTERM.
	ShutdownGrace string `json:"shutdownGrace"`
	// Projects are the project directories (DIR arguments replace them).
	Projects []string `json:"projects"`
	// Watch reloads the projects when a file under their directories
	// changes (SIGHUP always reloads them).
	Watch bool `json:"watch"`
	// TraceUI serves the trace web page at /trace/ on the admin listener
	// (docs/trace.md); off by default.
	TraceUI bool `json:"traceUI"`
	// Store is where state that outlives a request lives (Apigee quotas,
	// spike arrests, KVMs, caches, OAuth tokens): "" or "memory://" for
	// this process only, redis://[user:pass@]host:port[/db] or rediss://
	// to share it between replicas (docs/state.md).
	Store string `json:"store"`
	// KVMKeyFile holds the key (32 bytes: 64 hex digits or base64) that
	// the values of encrypted Apigee KVMs are sealed with in the store;
	// "" reads $FLOWPROC_KVM_KEY. Without either, a project declaring an
	// encrypted KVM does not load (AP206; docs/state.md).
	KVMKeyFile string `json:"kvmKeyFile"`
	// MessageTimeout and MaxMessageTimeout are Envoy's ext_proc
	// message_timeout and max_message_timeout (defaults: the shipped
	// configs' 1s and 10s). "0" for MaxMessageTimeout disables
	// override_message_timeout.
	MessageTimeout    string `json:"messageTimeout"`
	MaxMessageTimeout string `json:"maxMessageTimeout"`
	// OverrideAfter is the fraction of MessageTimeout a run may hold a
	// reply before flowproc asks Envoy for more time (default 0.5).
	OverrideAfter string `json:"overrideAfter"`
	// API is the listen address of flowproc's API (trace, status, reload;
	// docs/trace.md): "" or "off" disables it, a port alone binds
	// loopback. A non-loopback address needs APITLS with a client CA or
	// APITokenFile.
	API          string   `json:"api"`
	APITLS       tlsFiles `json:"apiTLS"`
	APITokenFile string   `json:"apiTokenFile"`
	// TraceMaskHeaders are extra header names (comma-separated) whose
	// values read "***" in traces; TraceMaxSessions bounds the trace
	// sessions open at once (default 16).
	TraceMaskHeaders string `json:"traceMaskHeaders"`
	TraceMaxSessions string `json:"traceMaxSessions"`
	// netConfig are the gRPC serving limits, the stream wait timeout,
	// reflection, the readiness rule and TLS reloading (serve_net.go).
	netConfig
	// StepMetrics times every flow step for flowproc_step_duration_seconds
	// (off by default: it costs per step; docs/server.md).
	StepMetrics bool `json:"stepMetrics"`
	// MemoryLimit is the Go runtime's soft memory limit (a size, or "off");
	// "" is GOMEMLIMIT if set, else 90% of the cgroup limit, else none
	// (docs/server.md, Memory).
	MemoryLimit string `json:"memoryLimit"`
	// BodyBudget is the server-wide budget of estimated body cost (a size,
	// or "off"); "" is half the memory limit, none without one.
	BodyBudget string `json:"bodyBudget"`
}

// tlsFiles are PEM file paths.
type tlsFiles struct {
	Cert     string `json:"cert"`
	Key      string `json:"key"`
	ClientCA string `json:"clientCA"`
}

func defaultServeConfig() serveConfig {
	return serveConfig{Listen: ":50051", Admin: "127.0.0.1:9090", BodyLimit: "1MiB", LogLevel: "info", ShutdownGrace: "15s",
		MessageTimeout: "1s", MaxMessageTimeout: "10s", OverrideAfter: "0.5", netConfig: defaultNetConfig()}
}

// settings is a serveConfig parsed and checked.
type settings struct {
	serveConfig
	bodyLimit int64
	maxReply  int64
	grace     time.Duration
	level     slog.Level
	// message timeouts (extproc.Options)
	messageTimeout, maxMessageTimeout time.Duration
	overrideAfter                     float64
	tls                               *tls.Config
	net                               netSettings
	// memory (servemem.go): 0 = automatic, -1 = off
	memoryLimit, bodyBudget int64
	// apiReloaded reports reloads through the API as SIGHUP's are
	// (metrics, load states, log).
	apiReloaded func(trigger string, rep projects.ReloadReport, err error)
	// kvmKey seals encrypted KVMs (nil: none configured).
	kvmKey []byte
}

const serveUsage = `Usage: flowproc serve [flags] [DIR...]

Serves the projects in DIR... (or those named in the config file) to Envoy's
ext_proc filter. Envoy connects as configured in envoy/envoy.yaml.
Flags override the -config file; SIGTERM/SIGINT drain in-flight streams for
up to -shutdown-grace, then stop. SIGHUP reloads the projects (as does a file
change with -watch); a project that fails to reload keeps its last good
version.

Flags:`

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	st, err := parseServeArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "flowproc serve: %v\n", err)
		return 2
	}
	logger := newLogger(stderr, st.level)
	slog.SetDefault(logger) // the engine's own records (flat_alert …) use the default logger
	state, err := openState(ctx, st.Store)
	if err != nil {
		fmt.Fprintf(stderr, "flowproc serve: %v\n", err)
		return 1
	}
	defer state.Close()
	if st.kvmKey != nil {
		if err := store.SetKVMKey(state, st.kvmKey); err != nil {
			fmt.Fprintf(stderr, "flowproc serve: %v\n", err)
			return 1
		}
	}
	// Side calls share one client; with Redis its HTTP cache is the shared
	// store's, like Apigee's cache policies.
	var side upstream.Client
	if state.Redis != nil {
		side = upstream.NewSharedWith(state.Cache)
	}
	reg, extracted, err := loadRegistry(st.Projects, projects.RegistryOptions{Default: st.DefaultProject, Logger: logger, Load: projects.LoadOptions{MaxBodyBytes: st.bodyLimit, Logger: logger, State: state, Upstream: side}}, func(err error) {
		logger.Error("project failed to load", "error", err.Error())
	})
	if err != nil {
		fmt.Fprintf(stderr, "flowproc serve: %v\n", err)
		return 1
	}
	if extracted != "" {
		defer os.RemoveAll(extracted)
	}
	hooks, tracker := serveReloadHooks(logger), &projectTracker{reg: reg}
	hooks.reloaded, st.net.attach = tracker.wrap(hooks.reloaded), tracker.attach
	st.apiReloaded = hooks.reloaded
	stopReloading, watching := startReloading(ctx, reg, true, st.Watch && extracted == "", hooks)
	defer stopReloading()
	if watching {
		logger.Info("watching the project directories; a file change reloads the projects", "dirs", reg.Dirs())
	}
	if err := serve(ctx, st, reg, logger, stdout); err != nil {
		fmt.Fprintf(stderr, "flowproc serve: %v\n", err)
		return 1
	}
	return 0
}

// serveReloadHooks log reloads: the Registry logs one record per project
// (errors as "file:line:col: CODE: message"), this one record per reload.
func serveReloadHooks(logger *slog.Logger) reloadHooks {
	return reloadHooks{
		reloaded: func(trigger string, rep projects.ReloadReport, err error) {
			if err != nil {
				logger.Error("reload failed; the previous projects keep serving", "trigger", trigger, "error", err.Error())
				return
			}
			logger.Info("projects reloaded", "trigger", trigger, "projects", len(rep.Projects), "allLoaded", rep.OK())
		},
		warn: func(err error) { logger.Warn("project reloading", "error", err.Error()) },
	}
}

// parseServeArgs applies defaults, the -config file and flags, in that order.
func parseServeArgs(args []string, stderr io.Writer) (*settings, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var fl serveConfig
	def := defaultServeConfig()
	configFile := fs.String("config", "", "YAML config `file` (keys: listen, admin, tls{cert,key,clientCA}, bodyLimit, maxReply, logLevel, defaultProject, shutdownGrace, messageTimeout, maxMessageTimeout, overrideAfter, projects, watch, store, kvmKeyFile, api, apiTLS{cert,key,clientCA}, apiTokenFile, traceMaskHeaders, traceMaxSessions, traceUI, maxConcurrentStreams, maxConnectionIdle, maxConnectionAge, maxConnectionAgeGrace, keepaliveTime, keepaliveTimeout, streamWaitTimeout, reflection, readyWhen, tlsReloadInterval, stepMetrics, memoryLimit, bodyBudget)")
	fs.BoolVar(&fl.Watch, "watch", def.Watch, "reload the projects when a file under their directories changes (SIGHUP always reloads)")
	fs.BoolVar(&fl.TraceUI, "trace-ui", def.TraceUI, "serve the trace web page at /trace/ on the admin listener (docs/trace.md)")
	fs.BoolVar(&fl.netConfig.Reflection, "reflection", def.netConfig.Reflection, "register gRPC server reflection (off: it lists every service to anyone who connects)")
	fs.BoolVar(&fl.StepMetrics, "step-metrics", def.StepMetrics, "time every flow step for flowproc_step_duration_seconds (costs per step)")
	bind := []struct {
		name, usage string
		dst         func(*serveConfig) *string
	}{
		{"listen", "gRPC ext_proc listen `address`", func(c *serveConfig) *string { return &c.Listen }},
		{"admin", "admin HTTP `address` for /metrics, /healthz, /readyz (\"off\" disables)", func(c *serveConfig) *string { return &c.Admin }},
		{"tls-cert", "TLS certificate PEM `file` for the gRPC listener", func(c *serveConfig) *string { return &c.TLS.Cert }},
		{"tls-key", "TLS private key PEM `file`", func(c *serveConfig) *string { return &c.TLS.Key }},
		{"tls-client-ca", "client CA PEM `file`: require client certificates (mTLS)", func(c *serveConfig) *string { return &c.TLS.ClientCA }},
		{"body-limit", "largest request/response body a flow reads (`size`, e.g. 512KiB, 4MiB)", func(c *serveConfig) *string { return &c.BodyLimit }},
		{"max-reply", "largest reply Envoy accepts (`size`; default body limit + 1MiB); set to envoy_grpc.max_receive_message_length", func(c *serveConfig) *string { return &c.MaxReply }},
		{"log-level", "log `level`: debug, info, warn, error", func(c *serveConfig) *string { return &c.LogLevel }},
		{"default-project", "`project` for requests no metadata or base path selects (\"\" = the first)", func(c *serveConfig) *string { return &c.DefaultProject }},
		{"shutdown-grace", "how long in-flight streams may finish after SIGTERM (`duration`)", func(c *serveConfig) *string { return &c.ShutdownGrace }},
		{"message-timeout", "Envoy's ext_proc message_timeout (`duration`)", func(c *serveConfig) *string { return &c.MessageTimeout }},
		{"max-message-timeout", "Envoy's max_message_timeout (`duration`): the override_message_timeout sent for slow flows; 0 disables overrides", func(c *serveConfig) *string { return &c.MaxMessageTimeout }},
		{"override-after", "`fraction` of -message-timeout a flow may hold a reply before flowproc asks Envoy for more time", func(c *serveConfig) *string { return &c.OverrideAfter }},
		{"memory-limit", "Go soft memory limit (`size`, or off; default GOMEMLIMIT, else 90% of the cgroup limit, else none)", func(c *serveConfig) *string { return &c.MemoryLimit }},
		{"body-budget", "server-wide budget of estimated body cost (`size`, or off; default half the memory limit): reads beyond it are answered 503", func(c *serveConfig) *string { return &c.BodyBudget }},
		{"store", "state store `URL`: memory:// (this process) or redis://host:port / rediss:// (shared by replicas)", func(c *serveConfig) *string { return &c.Store }},
		{"kvm-key-file", "`file` with the key encrypted KVMs are sealed with (32 bytes, hex or base64; default $FLOWPROC_KVM_KEY; docs/state.md)", func(c *serveConfig) *string { return &c.KVMKeyFile }},
		{"api", "flowproc API `address` (trace, status, reload; off by default; a port alone binds loopback; docs/trace.md)", func(c *serveConfig) *string { return &c.API }},
		{"api-tls-cert", "TLS certificate PEM `file` for the API listener", func(c *serveConfig) *string { return &c.APITLS.Cert }},
		{"api-tls-key", "TLS private key PEM `file` for the API listener", func(c *serveConfig) *string { return &c.APITLS.Key }},
		{"api-tls-client-ca", "client CA PEM `file`: the API requires client certificates (mTLS)", func(c *serveConfig) *string { return &c.APITLS.ClientCA }},
		{"api-token-file", "`file` holding the bearer token API clients must send", func(c *serveConfig) *string { return &c.APITokenFile }},
		{"trace-mask-headers", "extra header `names` (comma-separated) whose values read *** in traces", func(c *serveConfig) *string { return &c.TraceMaskHeaders }},
		{"trace-max-sessions", "most trace sessions open at once (`n`, default 16)", func(c *serveConfig) *string { return &c.TraceMaxSessions }},
		{"max-concurrent-streams", "most ext_proc streams per gRPC connection (`n`); more wait in Envoy", func(c *serveConfig) *string { return (*string)(&c.netConfig.MaxConcurrentStreams) }},
		{"max-connection-idle", "close a gRPC connection without streams after this `duration` (0 = never)", func(c *serveConfig) *string { return (*string)(&c.netConfig.MaxConnectionIdle) }},
		{"max-connection-age", "send GOAWAY to a gRPC connection this old (`duration`, 0 = never)", func(c *serveConfig) *string { return (*string)(&c.netConfig.MaxConnectionAge) }},
		{"max-connection-age-grace", "how long streams of an aged connection may finish (`duration`, 0 = forever)", func(c *serveConfig) *string { return (*string)(&c.netConfig.MaxConnectionAgeGrace) }},
		{"keepalive-time", "ping a silent gRPC connection after this `duration` (0 = never)", func(c *serveConfig) *string { return (*string)(&c.netConfig.KeepaliveTime) }},
		{"keepalive-timeout", "close the connection when a ping is not answered within this `duration`", func(c *serveConfig) *string { return (*string)(&c.netConfig.KeepaliveTimeout) }},
		{"stream-wait-timeout", "longest wait for Envoy's next message on a stream (`duration`; auto = 60 × message-timeout in [60s, 5m]; 0 = none)", func(c *serveConfig) *string { return (*string)(&c.netConfig.StreamWaitTimeout) }},
		{"ready-when", "readiness `rule`: all (every project loaded at least once) or any (one did)", func(c *serveConfig) *string { return (*string)(&c.netConfig.ReadyWhen) }},
		{"tls-reload-interval", "how often the TLS files are checked for changes (`duration`; 0 = SIGHUP only)", func(c *serveConfig) *string { return (*string)(&c.netConfig.TLSReloadInterval) }},
	}
	for _, b := range bind {
		fs.StringVar(b.dst(&fl), b.name, *b.dst(&def), b.usage)
	}
	fs.Usage = func() {
		fmt.Fprintln(stderr, serveUsage)
		fs.PrintDefaults()
	}
	if err := parseInterspersed(fs, args); err != nil {
		return nil, err
	}

	cfg := def
	if *configFile != "" {
		data, err := os.ReadFile(*configFile)
		if err != nil {
			return nil, fmt.Errorf("read config: %w", err)
		}
		if err := loadServeConfig(*configFile, data, &cfg); err != nil {
			return nil, fmt.Errorf("config %w", err)
		}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, b := range bind {
		if set[b.name] {
			*b.dst(&cfg) = *b.dst(&fl)
		}
	}
	if set["watch"] {
		cfg.Watch = fl.Watch
	}
	if set["trace-ui"] {
		cfg.TraceUI = fl.TraceUI
	}
	if set["reflection"] {
		cfg.netConfig.Reflection = fl.netConfig.Reflection
	}
	if set["step-metrics"] {
		cfg.StepMetrics = fl.StepMetrics
	}
	if fs.NArg() > 0 {
		cfg.Projects = fs.Args()
	}
	return cfg.check()
}

// check parses and validates the configuration.
func (c serveConfig) check() (*settings, error) {
	st := &settings{serveConfig: c}
	var err error
	if st.bodyLimit, err = parseSize(c.BodyLimit); err != nil {
		return nil, fmt.Errorf("body limit: %w", err)
	}
	if c.MaxReply != "" {
		if st.maxReply, err = parseSize(c.MaxReply); err != nil {
			return nil, fmt.Errorf("max reply: %w", err)
		}
	}
	if st.memoryLimit, st.bodyBudget, err = parseMemorySettings(c.MemoryLimit, c.BodyBudget); err != nil {
		return nil, err
	}
	if st.grace, err = time.ParseDuration(c.ShutdownGrace); err != nil || st.grace < 0 {
		return nil, fmt.Errorf("shutdown grace %q: want a duration such as 15s", c.ShutdownGrace)
	}
	if st.messageTimeout, err = time.ParseDuration(c.MessageTimeout); err != nil || st.messageTimeout <= 0 || st.messageTimeout > time.Hour {
		return nil, fmt.Errorf("message timeout %q: want a duration in (0, 1h] such as 1s (Envoy's message_timeout)", c.MessageTimeout)
	}
	if st.maxMessageTimeout, err = time.ParseDuration(c.MaxMessageTimeout); err != nil || st.maxMessageTimeout < 0 || st.maxMessageTimeout > time.Hour ||
		st.maxMessageTimeout > 0 && st.maxMessageTimeout < time.Millisecond {
		return nil, fmt.Errorf("max message timeout %q: want 0 or a duration in [1ms, 1h] such as 10s (Envoy's max_message_timeout)", c.MaxMessageTimeout)
	}
	if st.overrideAfter, err = strconv.ParseFloat(c.OverrideAfter, 64); err != nil || !(st.overrideAfter > 0 && st.overrideAfter < 1) {
		return nil, fmt.Errorf("override after %q: want a fraction between 0 and 1 such as 0.5", c.OverrideAfter)
	}
	if err := st.level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", c.LogLevel)
	}
	if st.net, err = c.netConfig.check(); err != nil {
		return nil, err
	}
	if st.kvmKey, err = kvmKeyOf(c.KVMKeyFile); err != nil {
		return nil, err
	}
	if c.Listen == "" {
		return nil, errors.New("listen address is empty")
	}
	if c.Admin == "off" {
		st.Admin = ""
	}
	if st.TraceUI && st.Admin == "" {
		return nil, errors.New("trace-ui needs the admin listener: set -admin")
	}
	switch t := c.TLS; {
	case t.Cert != "" || t.Key != "":
		if st.net.certs, err = extproc.NewCertReloader(t.Cert, t.Key, t.ClientCA); err != nil {
			return nil, err
		}
		st.tls = st.net.certs.Config()
	case t.ClientCA != "":
		return nil, errors.New("tls: a client CA needs a server certificate and key")
	}
	return st, nil
}

// parseSize parses a byte size: a number with an optional unit B, K/KiB,
// M/MiB, G/GiB (binary) or KB, MB, GB (decimal).
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	mult := map[string]float64{
		"": 1, "b": 1, "k": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gib": 1 << 30,
		"kb": 1e3, "mb": 1e6, "gb": 1e9,
	}[strings.ToLower(unit)]
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || mult == 0 || n <= 0 {
		return 0, fmt.Errorf("%q: want a positive size such as 1MiB, 512KiB or 1048576", s)
	}
	return int64(n * mult), nil
}

// newLogger returns the JSON logger: one event per line on w, FLAT's
// "timestamp" key for the time.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				a.Key = "timestamp"
			}
			return a
		},
	}))
}

// serverOptions are the ext_proc server's options for st, without the
// tracing and OpenTelemetry the caller sets up. flowproc bench's server
// child takes them from serve's defaults, so that it measures the server
// flowproc serve runs (the override_message_timeout watchdog, the stream
// wait, the serving limits).
func (st *settings) serverOptions(res extproc.Resolver, logger *slog.Logger, bodyBudget *budget.Bytes) extproc.Options {
	return extproc.Options{Resolver: res, Logger: logger, BodyLimit: st.bodyLimit, MaxReplyBytes: int(st.maxReply),
		MessageTimeout: st.messageTimeout, MaxMessageTimeout: st.maxMessageTimeout, OverrideAfter: st.overrideAfter,
		Limits: st.net.limits, StreamWaitTimeout: st.net.wait, Reflection: st.net.reflection, ReadyWhen: st.net.ready,
		StepMetrics: st.StepMetrics, BodyBudget: bodyBudget}
}

// serve runs the gRPC and admin servers until ctx ends, then drains.
func serve(ctx context.Context, st *settings, res extproc.Resolver, logger *slog.Logger, stdout io.Writer) error {
	otel, err := extproc.OTelFromEnv(ctx)
	if err != nil {
		return err
	}
	defer flushOTel(ctx, otel, logger)
	api, err := newAPIStack(st.apiOptions(), registryOf(res))
	if err != nil {
		return err
	}
	mem, err := applyMemorySettings(st, logger, stdout)
	if err != nil {
		return err
	}
	opts := st.serverOptions(res, logger, mem.bodyBudget)
	opts.Tracing, opts.OTel = api.tracing(), otel
	srv := extproc.New(opts)
	if st.net.attach != nil {
		st.net.attach(srv)
	}
	defer startCertReloading(ctx, st.net.certs, st.net.tlsReloadInterval, logger)()
	if err := frontends.RegisterMetrics(srv.Registry()); err != nil {
		return fmt.Errorf("register front-end metrics: %w", err)
	}
	gopts := srv.GRPCOptions()
	security := "plaintext h2c"
	if st.tls != nil {
		gopts = append(gopts, grpc.Creds(credentials.NewTLS(st.tls)))
		security = "TLS"
		if st.TLS.ClientCA != "" {
			security = "mTLS"
		}
	}
	g := grpc.NewServer(gopts...)
	srv.Register(g)
	lis, err := net.Listen("tcp", st.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if err := api.start(srv.Registry(), stdout, "flowproc: "); err != nil {
		_ = lis.Close()
		return err
	}
	defer api.stop()

	adminLine, adminAddr := "admin disabled", ""
	var admin *http.Server
	adminDone := make(chan error, 1)
	if st.Admin != "" {
		alis, err := net.Listen("tcp", st.Admin)
		if err != nil {
			_ = lis.Close()
			return fmt.Errorf("admin listen: %w", err)
		}
		admin = &http.Server{Handler: withTraceUI(srv.AdminHandler(), api), ReadHeaderTimeout: 10 * time.Second}
		go func() { adminDone <- admin.Serve(alis) }()
		adminAddr = alis.Addr().String()
		adminLine = "admin on http://" + adminAddr + " (/metrics /healthz /readyz)"
	}
	stamp := currentStamp()
	fmt.Fprintf(stdout, "flowproc serve %s: ext_proc gRPC on %s (%s), %s; Envoy connects as configured in envoy/envoy.yaml\n",
		stamp, lis.Addr(), security, adminLine)
	logger.Info("serving", "version", stamp.Version, "revision", stamp.Revision, "listen", lis.Addr().String(), "security", security, "admin", adminAddr,
		"bodyLimit", st.bodyLimit, "shutdownGrace", st.grace.String(), "openTelemetry", otel != nil, "stepMetrics", st.StepMetrics)

	err = srv.Serve(ctx, g, lis, st.grace)
	if errors.Is(err, context.DeadlineExceeded) {
		logger.Warn("shutdown grace period over: remaining streams cancelled", "shutdownGrace", st.grace.String())
		err = nil
	}
	if admin != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = admin.Shutdown(sctx)
		if aerr := <-adminDone; aerr != nil && !errors.Is(aerr, http.ErrServerClosed) && err == nil {
			err = fmt.Errorf("admin server: %w", aerr)
		}
	}
	logger.Info("stopped")
	return err
}

// openState opens the state store the settings name: the process's memory
// stores for "" and memory://, Redis otherwise. An unreachable Redis stops
// the start: running with a quota nobody shares would let replicas exceed it.
func openState(ctx context.Context, url string) (*store.Stores, error) {
	if url == "" || url == "memory://" {
		return store.MemoryStores(), nil
	}
	s, err := store.OpenConfig(ctx, store.Config{URL: url})
	if err != nil {
		return nil, fmt.Errorf("state store: %w", err)
	}
	return s, nil
}
