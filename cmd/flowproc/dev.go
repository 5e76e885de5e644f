package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/flowproc/flowproc/envoy"
	"github.com/flowproc/flowproc/flowengine/projects"
	"github.com/flowproc/flowproc/flowengine/store"
	"github.com/flowproc/flowproc/flowengine/tracetree"
	"github.com/flowproc/flowproc/internal/adminapi"
	"github.com/flowproc/flowproc/internal/devstack"
)

func init() {
	register(&command{
		name:    "dev",
		summary: "run projects behind a local HTTP proxy that speaks ext_proc like Envoy (no Envoy needed)",
		run:     runDev,
	})
}

const devUsage = `Usage: flowproc dev [flags] [DIR...]

Starts the flowproc ext_proc server in-process on a loopback gRPC port and,
in front of it, an HTTP listener that drives it exactly as Envoy's ext_proc
filter does (configured from the Envoy YAML), forwarding to -upstream. With
no -upstream URL, a built-in demo upstream answers with the request it
received as JSON. A flow that chooses an origin (FLAT origin, Apigee
TargetEndpoint) is routed as Envoy routes it (dynamic forward proxy); map
such origins to local servers with -upstream HOST=URL (repeatable), e.g.
-upstream api.example.com=http://127.0.0.1:9000. The local server sees the
origin's Host header. With no DIR, the project in the current directory runs
(a FLAT app or an Apigee layout), else the embedded example project.

Prints one line per request: method, path, project, flow, outcome, status,
duration.

Edits under DIR... reload the projects (unless -watch=false); each reload
prints one line per project, with its load errors, and a project that fails
to reload keeps its last good version. Unlike serve, dev leaves SIGHUP alone,
so closing its terminal stops it.

Flags:
`

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", ":10000", "HTTP listen address (plays Envoy's listener)")
	grpcAddr := fs.String("grpc-listen", "127.0.0.1:0", "ext_proc gRPC listen address")
	admin := fs.String("admin", DefaultDevAdminAddr, "admin `address` for /metrics, /healthz, /readyz and the trace web page /trace/ (a free port when the default is taken; \"off\" disables)")
	var upstreams devUpstreams
	fs.Var(&upstreams, "upstream", "upstream base `URL`, e.g. http://127.0.0.1:8080 (default: built-in demo upstream); "+
		"repeat as HOST=URL (or HOST:PORT=URL) to send requests a flow routes to origin HOST to a local URL")
	envoyCfg := fs.String("envoy-config", "", "Envoy YAML holding the ext_proc filter (default: envoy/envoy.yaml, embedded)")
	defProject := fs.String("default-project", "", "project for requests no other rule selects (default: the first)")
	bodyLimit := fs.String("body-limit", "1MiB", "largest body a flow may read")
	logLevel := fs.String("log-level", "warn", "server log level: debug, info, warn, error")
	watch := fs.Bool("watch", true, "reload the projects when a file under DIR... changes")
	trace := fs.Bool("trace", false, "print each request's steps (conditions, timings, variables) under its line")
	apiAddr := fs.String("api", DefaultAPIAddr, "flowproc API `address` for flowproc trace, status and reload (loopback unless mTLS; a free port when the default is taken; \"off\" disables)")
	maskHeaders := fs.String("trace-mask-headers", "", "extra header `names` (comma-separated) whose values read *** in traces")
	fs.Usage = func() {
		fmt.Fprint(stderr, devUsage)
		fs.PrintDefaults()
	}
	if err := parseInterspersed(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	limit, err := parseSize(*bodyLimit)
	if err != nil {
		fmt.Fprintf(stderr, "flowproc dev: -body-limit: %v\n", err)
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "flowproc dev: -log-level %q: want debug, info, warn or error\n", *logLevel)
		return 2
	}
	cfgYAML := envoy.DefaultConfigYAML
	if *envoyCfg != "" {
		if cfgYAML, err = os.ReadFile(*envoyCfg); err != nil {
			fmt.Fprintf(stderr, "flowproc dev: %v\n", err)
			return 1
		}
	}
	fc, err := envoy.ParseFilterConfig(cfgYAML)
	if err != nil {
		fmt.Fprintf(stderr, "flowproc dev: envoy config: %v\n", err)
		return 1
	}
	target := ""
	var def envoy.Upstream
	defURL := ""
	if upstreams.def != "" {
		u, _ := upstreamURL(upstreams.def) // checked by Set
		def, target, defURL = &envoy.HTTPUpstream{Addr: u.Host, Scheme: u.Scheme}, upstreams.def, u.Scheme+"://"+u.Host
	} else {
		// The demo upstream, started here so the router can send the
		// static clusters to it.
		addr, stop, err := startDemoUpstream()
		if err != nil {
			fmt.Fprintf(stderr, "flowproc dev: %v\n", err)
			return 1
		}
		defer stop()
		def, target, defURL = &envoy.HTTPUpstream{Addr: addr}, "demo upstream on "+addr, "http://"+addr
	}
	router := upstreams.router(fc, def)
	// The origin host "upstream" (the example projects' and the compose
	// demo's name for the service behind Envoy) is the default upstream,
	// unless -upstream maps it.
	if _, mapped := router.Hosts[devDefaultHost]; !mapped {
		router.Hosts[devDefaultHost] = defURL
	}
	for h, t := range upstreams.hosts {
		target += ", " + h + " → " + t
	}
	logger := newLogger(stderr, level)
	// Encrypted KVMs work in dev without configuration (docs/state.md).
	if err := devKVMKey(store.MemoryStores()); err != nil {
		fmt.Fprintf(stderr, "flowproc dev: %v\n", err)
		return 2
	}
	// writeReload prints the reloads; per-project log records would repeat it.
	reg, extracted, err := loadRegistry(devDirs(fs.Args(), stdout), projects.RegistryOptions{Default: *defProject, Logger: logger, QuietReloads: true, Load: projects.LoadOptions{MaxBodyBytes: limit, Logger: logger}},
		func(err error) { fmt.Fprintf(stderr, "flowproc dev: %v\n", err) })
	if err != nil {
		fmt.Fprintf(stderr, "flowproc dev: %v\n", err)
		return 1
	}
	if extracted != "" {
		defer os.RemoveAll(extracted)
	}
	printReload := func(trigger string, rep projects.ReloadReport, err error) {
		writeReload(stderr, "flowproc dev: ", trigger, rep, err)
	}
	stopReloading, watching := startReloading(ctx, reg, false, *watch && extracted == "", reloadHooks{
		reloaded: printReload,
		warn:     func(err error) { fmt.Fprintf(stderr, "flowproc dev: %v\n", err) },
	})
	defer stopReloading()
	api, err := newAPIStack(apiOptions{listen: adminapi.Config{Addr: *apiAddr}, maskHeaders: *maskHeaders, ui: *admin != "off", reloaded: printReload}, reg)
	if err != nil {
		fmt.Fprintf(stderr, "flowproc dev: %v\n", err)
		return 2
	}
	api.anyPortIfDefault(fs)
	adminAddr, adminDefault := *admin, true
	fs.Visit(func(f *flag.Flag) { adminDefault = adminDefault && f.Name != "admin" })
	if adminAddr == "off" {
		adminAddr = ""
	}
	var mu sync.Mutex
	stack, err := devstack.Start(ctx, devstack.Config{
		AdminAnyPort: adminDefault,
		WrapAdmin:    func(h http.Handler) http.Handler { return withTraceUI(h, api) },
		Tracing:      api.tracing(),
		Projects:     reg,
		EnvoyConfig:  cfgYAML,
		HTTPAddr:     *listen,
		GRPCAddr:     *grpcAddr,
		AdminAddr:    adminAddr,
		Upstream:     router,
		BodyLimit:    limit,
		Logger:       logger,
		Trace:        *trace,
		OnRequest: func(l devstack.Line) {
			mu.Lock()
			fmt.Fprintln(stdout, l.String())
			if len(l.Trace) > 0 {
				_ = tracetree.Write(stdout, l.Trace, tracetree.Options{Durations: true, Indent: "    "})
			}
			mu.Unlock()
		},
	})
	if err != nil {
		fmt.Fprintf(stderr, "flowproc dev: %v\n", err)
		return 1
	}
	if err := api.start(stack.Server.Registry(), stdout, "flowproc dev: "); err != nil {
		fmt.Fprintf(stderr, "flowproc dev: %v\n", err)
		_ = stack.Close()
		return 1
	}
	defer api.stop()
	watchNote := ""
	if watching {
		watchNote = " (watching for changes)"
	}
	fmt.Fprintf(stdout, "flowproc dev: http://%s → ext_proc %s → %s; projects: %s%s\n",
		displayAddr(stack.HTTPAddr), stack.GRPCAddr, target, strings.Join(reg.Names(), ", "), watchNote)
	if stack.AdminAddr != "" && api != nil {
		fmt.Fprintf(stdout, "flowproc dev: trace page: http://%s%s\n", stack.AdminAddr, TraceUIPath)
	}
	<-ctx.Done()
	fmt.Fprintln(stdout, "flowproc dev: shutting down")
	if err := stack.Close(); err != nil {
		fmt.Fprintf(stderr, "flowproc dev: %v\n", err)
		return 1
	}
	return 0
}

// displayAddr turns "[::]:10000" into "localhost:10000" for messages.
func displayAddr(addr string) string {
	for _, p := range []string{"[::]:", "0.0.0.0:", ":"} {
		if strings.HasPrefix(addr, p) {
			return "localhost:" + addr[len(p):]
		}
	}
	return addr
}
