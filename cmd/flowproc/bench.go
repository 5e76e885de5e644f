package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"google.golang.org/grpc"

	"github.com/flowproc/flowproc/envoy"
	"github.com/flowproc/flowproc/examples"
	"github.com/flowproc/flowproc/extproc"
	"github.com/flowproc/flowproc/flowengine/projects"
	"github.com/flowproc/flowproc/flowengine/store"
	"github.com/flowproc/flowproc/internal/loadgen"
	"github.com/flowproc/flowproc/internal/noopserver"
)

func init() {
	register(&command{
		name:    "bench",
		summary: "ext_proc load generator: exchanges/s, latency percentiles and server CPU per exchange, with a no-op baseline",
		run:     runBench,
	})
}

// serverChildFlag, as the first argument of bench, runs the server child
// that bench starts (re-executing its own binary) instead of a benchmark.
// It is deliberately not a registered flag: users never type it.
const serverChildFlag = "--server-child"

const benchUsage = `Usage: flowproc bench [flags] [DIR...]

Drives an ext_proc server with the Envoy-faithful client (the processing
mode of envoy/envoy.yaml unless -mode or -envoy-config say otherwise) and
reports exchanges/s, exchange and per-message latency percentiles, errors,
immediate responses, the server's CPU time per exchange, its peak RSS and
its heap bytes allocated per exchange. The upstream is in-process (a fixed
response), so only ext_proc is measured. It exits 1 when any exchange
failed (client error or Envoy local reply).

The server runs in a child process (this binary again), serving DIR... (the
embedded example project when none; -example apigee for the Apigee one), so
its CPU time and memory can be read from /proc apart from the load
generator's. -target ADDR measures any running ext_proc server instead (its
CPU and RSS too when -pid is given, its allocations with -metrics).
-baseline also runs the no-op ext_proc server (answers CONTINUE to
everything) under the same load, alternating rounds, and prints
flowproc/no-op ratios: overall, per round, and the medians of the rounds
with their confidence intervals (6 rounds or more reach 95 %; a goal is
met when the whole interval is on its side). -trace-compare F also runs a second flowproc child
with a trace session sampling the fraction F of the exchanges, alternating
rounds with the untraced child, and prints traced/untraced ratios of
throughput and CPU per exchange, per round and overall. -compare DIR also
runs a flowproc child serving DIR (a variant of the project: one action
removed, one setting changed), alternating rounds with the first, and
prints variant/flowproc ratios (and variant/no-op with -baseline): what
the difference costs end to end. Repeat it for several variants.
-compare-binary PATH does the same with another build of flowproc serving
the same projects: what a change to flowproc itself costs or saves.

-rate 0 (default) is saturation: -workers closed-loop workers. -rate N is an
open-loop schedule of N exchanges/s; latency is measured from each
exchange's scheduled start, so a stalled server is charged for the requests
that queued behind it (no coordinated omission). docs/bench.md explains the
method and how to read the output.

Examples:
  flowproc bench -baseline
  flowproc bench -baseline -rate 2000 -path /api/upstream/x
  flowproc bench -baseline -rounds 10 -warmup 1s -duration 3s -path /api/upstream/x
  flowproc bench -baseline -path /api/echo -body-size 1KiB -mode request_body=BUFFERED
  flowproc bench -target 127.0.0.1:50051 -pid $(pgrep -n flowproc) -metrics http://127.0.0.1:9090/metrics -json
  flowproc bench -baseline -example apigee -path /v1/orders/42
  flowproc bench -trace-compare 0.01 -rounds 6
  flowproc bench -baseline -rounds 10 -duration 3s -path /api/upstream/x ./myproject -compare ./myproject-without-log
  flowproc bench -baseline -rounds 10 -duration 3s -path /api/upstream/x -compare-binary ./flowproc-before
  flowproc bench -baseline -path /api/upstream/x -cpuprofile srv.pprof -gen-cpuprofile gen.pprof
  flowproc bench -server-env GOGC=100 -server-env GOMEMLIMIT=256MiB -path /api/echo -body-size 4KiB -mode request_body=BUFFERED

Flags:
`

// benchOptions is the parsed command line.
type benchOptions struct {
	target         string
	pid            int
	baseline       bool
	rounds         int
	workers        int
	conns          int
	duration       time.Duration
	warmup         time.Duration
	count          int
	rate           float64
	timeout        time.Duration
	method         string
	paths          []string
	authority      string
	headers        []envoy.Header
	body           []byte
	responseBody   []byte
	responseStatus int
	modes          []string
	filter         *envoy.FilterConfig
	jsonOut        bool
	cpuProfile     string
	// genProfile is -gen-cpuprofile: the load generator's CPU profile,
	// one file per server and round (benchgenprof.go).
	genProfile     string
	serverProcs    int
	serverLogLevel string
	bodyLimit      string
	defaultProject string
	dirs           []string
	traceSample    string
	// traceCompare is -trace-compare's sampling rate (0 = off;
	// bench_tracecompare.go).
	traceCompare float64
	// compare are -compare's project directories and -compare-binary's
	// binaries, one variant child each (bench_compare.go).
	compare []compareVariant
	// memory and examples (benchmem.go)
	metricsURL string
	serverEnv  []string
	example    string
}

// listFlag is a repeatable string flag.
type listFlag []string

// String implements flag.Value.
func (l *listFlag) String() string { return strings.Join(*l, " ") }

// Set implements flag.Value: each use of the flag adds a value.
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// runBench is the bench command: parse, run, print (or, with the internal
// first argument, be the server child).
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == serverChildFlag {
		return runBenchServer(ctx, args[1:], stdout, stderr)
	}
	o, err := parseBenchArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "flowproc bench: %v\n", err)
		return 2
	}
	rep, err := runBenchmark(ctx, o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "flowproc bench: %v\n", err)
		return 1
	}
	if o.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "flowproc bench: %v\n", err)
			return 1
		}
		return benchExitCode(rep, stderr)
	}
	writeBenchTable(stdout, rep)
	return benchExitCode(rep, stderr)
}

// parseBenchArgs parses and checks the flags.
func parseBenchArgs(args []string, stderr io.Writer) (*benchOptions, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &benchOptions{}
	var paths, headers, modes, compare, compareBinary listFlag
	fs.StringVar(&o.target, "target", "", "measure the ext_proc server at this `address` (host:port) instead of starting one")
	fs.IntVar(&o.pid, "pid", 0, "process ID of the -target server, to measure its CPU time (Linux /proc)")
	fs.BoolVar(&o.baseline, "baseline", false, "also run the no-op ext_proc server under the same load, alternating rounds, and print ratios")
	fs.IntVar(&o.rounds, "rounds", 0, "measured rounds per server (default 3 with -baseline, else 1)")
	fs.IntVar(&o.workers, "workers", 32, "concurrent exchanges at most (closed-loop workers at -rate 0)")
	fs.IntVar(&o.conns, "conns", 4, "gRPC connections to the server, used round robin")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured time per round, after the warm-up")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "warm-up per round, excluded from the results")
	fs.IntVar(&o.count, "count", 0, "measured exchanges per round (overrides -duration when > 0)")
	fs.Float64Var(&o.rate, "rate", 0, "open-loop arrival rate in exchanges/s; 0 = saturation (closed loop)")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "longest one exchange may take before it counts as a client error")
	fs.StringVar(&o.method, "method", "", "request method (default GET, or POST with a body)")
	fs.Var(&paths, "path", "request `path`; repeat to use several round robin (default /api/hello/world)")
	fs.StringVar(&o.authority, "authority", "localhost", "request :authority")
	fs.Var(&headers, "H", "extra request `header` \"Name: value\"; repeatable")
	bodyStr := fs.String("body", "", "request body `text`")
	bodyFile := fs.String("body-file", "", "request body from `file`")
	bodySize := fs.String("body-size", "", "generated JSON request body of this `size` (e.g. 1KiB), shaped for the example's /api/echo")
	respSize := fs.String("response-size", "0", "upstream response body `size` (generated JSON)")
	fs.IntVar(&o.responseStatus, "response-status", 200, "upstream response status")
	fs.Var(&modes, "mode", "processing mode override `phase=MODE`, repeatable or comma-separated; phases request_headers, request_body,\n"+
		"request_trailers, response_headers, response_body, response_trailers; headers/trailers SEND|SKIP|DEFAULT,\n"+
		"bodies NONE|STREAMED|BUFFERED|BUFFERED_PARTIAL|FULL_DUPLEX_STREAMED (e.g. request_body=BUFFERED)")
	envoyCfg := fs.String("envoy-config", "", "Envoy bootstrap YAML `file` with the ext_proc filter (default: envoy/envoy.yaml, embedded)")
	fs.BoolVar(&o.jsonOut, "json", false, "print the results as JSON instead of tables")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write the flowproc server child's CPU profile (all rounds) to `file`, the no-op's to file.noop, the -trace-compare traced child's to file.traced, a -compare or -compare-binary child's to file.variantN (go tool pprof)")
	fs.StringVar(&o.genProfile, "gen-cpuprofile", "", "write the load generator's own CPU profile for each server and round to `file`.SERVER.ROUND (file.flowproc.1, file.noop.1, …), to see what the generator spends on each server's replies (go tool pprof merges several files)")
	fs.IntVar(&o.serverProcs, "server-procs", 0, "GOMAXPROCS of the server child(ren) (0 = Go's default)")
	fs.StringVar(&o.serverLogLevel, "server-log-level", "warn", "log level of the flowproc server child (info includes the per-request access log)")
	fs.StringVar(&o.bodyLimit, "body-limit", "1MiB", "largest body a flow reads (server child)")
	fs.StringVar(&o.defaultProject, "default-project", "", "project for requests no other rule selects (server child)")
	fs.StringVar(&o.traceSample, "trace-sample", "", "open a trace session on the server child sampling this `fraction` of exchanges, read by a client that keeps up (docs/trace.md)")
	fs.Var(&compare, "compare", "also run a flowproc child serving this project `DIR` alone (a variant: one action removed, one setting changed), alternating rounds with the first, and print variant/flowproc ratios per round; repeatable (docs/bench.md)")
	fs.Var(&compareBinary, "compare-binary", "also run this flowproc `binary` (another build) as a server child serving the same projects, alternating rounds with the first, and print variant/flowproc ratios per round; repeatable (docs/bench.md)")
	traceCompare := fs.String("trace-compare", "", "also run a second flowproc child with a trace session sampling this `fraction`, alternating rounds with the untraced one, and print traced/untraced ratios per round (docs/bench.md)")
	var serverEnv listFlag
	addMemoryFlags(fs, o, &serverEnv)
	fs.Usage = func() {
		fmt.Fprint(stderr, benchUsage)
		fs.PrintDefaults()
	}
	if err := parseInterspersed(fs, args); err != nil {
		return nil, err
	}
	o.dirs = fs.Args()
	o.paths = paths
	var err error
	if o.traceCompare, err = parseTraceCompare(*traceCompare); err != nil {
		return nil, err
	}
	if o.traceCompare > 0 && (o.traceSample != "" || o.target != "") {
		return nil, errors.New("-trace-compare starts its own traced and untraced server children: it cannot be used with -trace-sample or -target")
	}
	if (len(compare) > 0 || len(compareBinary) > 0) && o.target != "" {
		return nil, errors.New("-compare and -compare-binary start a server child for each directory or binary: they cannot be used with -target")
	}
	if o.compare, err = compareVariants(compare, compareBinary); err != nil {
		return nil, err
	}
	if err := checkMemoryFlags(o, serverEnv, len(o.paths) > 0); err != nil {
		return nil, err
	}
	if len(o.paths) == 0 {
		o.paths = []string{"/api/hello/world"}
	}
	for _, p := range o.paths {
		if !strings.HasPrefix(p, "/") {
			return nil, fmt.Errorf("-path %q: want an absolute path such as /api/hello/world", p)
		}
	}
	hasCT := false
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		name = strings.ToLower(strings.TrimSpace(name))
		if !ok || name == "" || strings.HasPrefix(name, ":") {
			return nil, fmt.Errorf("-H %q: want \"Name: value\"", h)
		}
		hasCT = hasCT || name == "content-type"
		o.headers = append(o.headers, envoy.Header{Name: name, Value: strings.TrimSpace(value)})
	}
	set := 0
	for _, s := range []string{*bodyStr, *bodyFile, *bodySize} {
		if s != "" {
			set++
		}
	}
	if set > 1 {
		return nil, errors.New("-body, -body-file and -body-size are mutually exclusive")
	}
	switch {
	case *bodyStr != "":
		o.body = []byte(*bodyStr)
	case *bodyFile != "":
		b, err := os.ReadFile(*bodyFile)
		if err != nil {
			return nil, fmt.Errorf("-body-file: %w", err)
		}
		o.body = b
	case *bodySize != "":
		n, err := parseSize(*bodySize)
		if err != nil {
			return nil, fmt.Errorf("-body-size: %w", err)
		}
		o.body = loadgen.JSONBody(int(n))
	}
	if len(o.body) > 0 && !hasCT {
		o.headers = append(o.headers, envoy.Header{Name: "content-type", Value: "application/json"})
	}
	if o.method == "" {
		o.method = "GET"
		if len(o.body) > 0 {
			o.method = "POST"
		}
	}
	if *respSize != "0" && *respSize != "" {
		n, err := parseSize(*respSize)
		if err != nil {
			return nil, fmt.Errorf("-response-size: %w", err)
		}
		o.responseBody = loadgen.JSONBody(int(n))
	}
	if o.responseStatus < 200 || o.responseStatus > 599 {
		return nil, fmt.Errorf("-response-status %d: want 200…599", o.responseStatus)
	}
	if o.workers <= 0 || o.conns <= 0 {
		return nil, errors.New("-workers and -conns must be positive")
	}
	if o.count < 0 || o.rate < 0 || o.warmup < 0 || o.duration <= 0 || o.timeout <= 0 || o.rounds < 0 || o.serverProcs < 0 {
		return nil, errors.New("-count, -rate, -warmup, -rounds and -server-procs must not be negative; -duration and -timeout must be positive")
	}
	if o.rounds == 0 {
		o.rounds = 1
		if o.baseline || o.traceCompare > 0 || len(o.compare) > 0 {
			o.rounds = 3
		}
	}
	if o.pid != 0 && o.target == "" {
		return nil, errors.New("-pid needs -target (the started server child is measured anyway)")
	}
	if o.target != "" && (o.cpuProfile != "" || len(o.dirs) > 0) {
		return nil, errors.New("-cpuprofile and DIR arguments apply to the server child; they cannot be used with -target")
	}
	if _, err := parseSize(o.bodyLimit); err != nil {
		return nil, fmt.Errorf("-body-limit: %w", err)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.serverLogLevel)); err != nil {
		return nil, fmt.Errorf("-server-log-level %q: want debug, info, warn or error", o.serverLogLevel)
	}
	cfgYAML := envoy.DefaultConfigYAML
	if *envoyCfg != "" {
		b, err := os.ReadFile(*envoyCfg)
		if err != nil {
			return nil, fmt.Errorf("-envoy-config: %w", err)
		}
		cfgYAML = b
	}
	fc, err := envoy.ParseFilterConfig(cfgYAML)
	if err != nil {
		return nil, fmt.Errorf("envoy config: %w", err)
	}
	o.modes = modes
	if o.filter, err = loadgen.WithModes(fc, modes); err != nil {
		return nil, fmt.Errorf("-mode: %w", err)
	}
	return o, nil
}

// benchReport is the result of a bench run, as printed with -json.
type benchReport struct {
	Started  time.Time         `json:"started"`
	Host     benchHost         `json:"host"`
	Settings benchSettings     `json:"settings"`
	Rounds   []*loadgen.Result `json:"rounds"`
	// Totals are the rounds merged per server.
	Totals []*loadgen.Result `json:"totals"`
	// Ratios compare flowproc with the no-op (nil without -baseline).
	Ratios *benchRatios `json:"ratios,omitempty"`
	// TraceCompare compares the traced flowproc child with the untraced
	// one (nil without -trace-compare).
	TraceCompare *traceCompare `json:"trace_compare,omitempty"`
	// Compare compares each -compare child with the flowproc child (and
	// the no-op, with -baseline); nil without -compare.
	Compare  []*variantCompare `json:"compare,omitempty"`
	Warnings []string          `json:"warnings,omitempty"`
}

// benchHost describes the machine during the run.
type benchHost struct {
	CPUs         int        `json:"cpus"`
	GoVersion    string     `json:"go_version"`
	LoadAvgStart [3]float64 `json:"load_avg_start"`
	LoadAvgEnd   [3]float64 `json:"load_avg_end"`
}

// benchSettings are the load settings.
type benchSettings struct {
	Method         string   `json:"method"`
	Paths          []string `json:"paths"`
	RequestBytes   int      `json:"request_body_bytes"`
	ResponseBytes  int      `json:"response_body_bytes"`
	ProcessingMode string   `json:"processing_mode"`
	Rate           float64  `json:"rate"`
	Workers        int      `json:"workers"`
	Conns          int      `json:"conns"`
	DurationS      float64  `json:"duration_s"`
	WarmupS        float64  `json:"warmup_s"`
	Count          int      `json:"count,omitempty"`
	Rounds         int      `json:"rounds"`
	ServerProcs    int      `json:"server_procs,omitempty"`
}

// benchRatios are flowproc's totals divided by the no-op's.
type benchRatios struct {
	Throughput     float64 `json:"throughput"`
	P50            float64 `json:"p50"`
	P99            float64 `json:"p99"`
	CPUPerExchange float64 `json:"cpu_per_exchange,omitempty"`
	// Rounds are flowproc / no-op per round (flowproc's round i against
	// the no-op's round i, run back to back), with more than one round.
	Rounds []roundRatio `json:"rounds,omitempty"`
	// Median is the median of the per-round ratios.
	Median *roundRatio `json:"median,omitempty"`
	// MedianInterval are the medians' confidence intervals
	// (bench_interval.go).
	MedianInterval *roundInterval `json:"median_interval,omitempty"`
}

// benchTarget is one server under load.
type benchTarget struct {
	label string
	addr  string
	cpu   func() (time.Duration, error)
	mem   loadgen.MemoryProbe
	child *loadgen.Child
}

// runBenchmark starts the servers, runs the rounds and builds the report.
func runBenchmark(ctx context.Context, o *benchOptions, stderr io.Writer) (rep *benchReport, err error) {
	// The server children copy their stderr here concurrently.
	stderr = &lockedWriter{w: stderr}
	rep = &benchReport{
		Started: time.Now().UTC(),
		Host:    benchHost{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), LoadAvgStart: loadgen.LoadAvg()},
		Settings: benchSettings{
			Method: o.method, Paths: o.paths, RequestBytes: len(o.body), ResponseBytes: len(o.responseBody),
			ProcessingMode: loadgen.DescribeModes(o.filter), Rate: o.rate, Workers: o.workers, Conns: o.conns,
			DurationS: o.duration.Seconds(), WarmupS: o.warmup.Seconds(), Count: o.count, Rounds: o.rounds, ServerProcs: o.serverProcs,
		},
	}
	var targets []*benchTarget
	defer func() {
		for _, t := range targets {
			if t.child == nil {
				continue
			}
			if serr := t.child.Stop(10 * time.Second); serr != nil && err == nil {
				err = serr
			}
		}
	}()
	if o.target != "" {
		t := &benchTarget{label: "target", addr: o.target}
		if o.pid > 0 {
			pid := o.pid
			t.cpu = func() (time.Duration, error) { return loadgen.ProcCPU(pid) }
			if _, err := t.cpu(); err != nil {
				return nil, fmt.Errorf("-pid: %w", err)
			}
		}
		if o.pid > 0 || o.metricsURL != "" {
			t.mem = &loadgen.ProcMemory{Pid: o.pid, MetricsURL: o.metricsURL}
		}
		targets = append(targets, t)
	} else {
		t, err := startServerChild(ctx, "flowproc", o, stderr)
		if err != nil {
			return nil, err
		}
		targets = append(targets, t)
	}
	if o.baseline {
		t, err := startServerChild(ctx, "noop", o, stderr)
		if err != nil {
			return nil, err
		}
		targets = append(targets, t)
	}
	for i := range o.compare {
		t, err := startServerChild(ctx, variantLabel(i), o, stderr)
		if err != nil {
			return nil, err
		}
		targets = append(targets, t)
	}
	// The traced child comes last: its totals are the report's last.
	if o.traceCompare > 0 {
		t, err := startServerChild(ctx, tracedLabel, o, stderr)
		if err != nil {
			return nil, err
		}
		targets = append(targets, t)
	}

	per := map[string][]*loadgen.Result{}
	for round := 1; round <= o.rounds; round++ {
		// ABBA order (ABC CBA with three servers): a drift of the
		// machine's load over the run hits every server alike.
		order := targets
		if round%2 == 0 && len(targets) > 1 {
			order = make([]*benchTarget, len(targets))
			for i, t := range targets {
				order[len(targets)-1-i] = t
			}
		}
		for _, t := range order {
			stopProfile, err := startGenProfile(o.genProfile, t.label, round)
			if err != nil {
				return nil, err
			}
			res, err := loadgen.Run(ctx, loadgen.Config{
				Target: t.addr, Conns: o.conns, Workers: o.workers, Duration: o.duration, Count: o.count,
				Warmup: o.warmup, Rate: o.rate, Filter: o.filter, ExchangeTimeout: o.timeout, ServerCPU: t.cpu, ServerMemory: t.mem,
				Request:  loadgen.Request{Method: o.method, Paths: o.paths, Authority: o.authority, Headers: o.headers, Body: o.body},
				Response: loadgen.Response{Status: o.responseStatus, Body: o.responseBody},
			})
			if perr := stopProfile(); err == nil {
				err = perr
			}
			if err != nil {
				return nil, fmt.Errorf("%s round %d: %w", t.label, round, err)
			}
			res.Label, res.Round = t.label, round
			fmt.Fprintf(stderr, "flowproc bench: %s round %d/%d: %.0f exchanges/s, p50 %s, p99 %s%s\n", t.label, round, o.rounds,
				res.Throughput, loadgen.FormatUS(res.Latency.P50US), loadgen.FormatUS(res.Latency.P99US), cpuNote(res))
			rep.Rounds = append(rep.Rounds, res)
			per[t.label] = append(per[t.label], res)
		}
	}
	for _, t := range targets {
		rep.Totals = append(rep.Totals, loadgen.Merge(per[t.label]...))
	}
	if o.baseline && len(rep.Totals) >= 2 {
		rep.Ratios = ratios(rep.Totals[0], rep.Totals[1])
		if o.rounds > 1 {
			var med roundRatio
			rep.Ratios.Rounds, med, rep.Ratios.MedianInterval = pairRounds(per[targets[0].label], per[targets[1].label])
			rep.Ratios.Median = &med
		}
	}
	if len(o.compare) > 0 {
		totals := make(map[string]*loadgen.Result, len(rep.Totals))
		for _, t := range rep.Totals {
			totals[t.Label] = t
		}
		rep.Compare = newVariantCompares(o.compare, per, totals)
	}
	if o.traceCompare > 0 && len(rep.Totals) >= 2 {
		rep.TraceCompare = newTraceCompare(o.traceCompare, per, rep.Totals[0], rep.Totals[len(rep.Totals)-1])
	}
	rep.Host.LoadAvgEnd = loadgen.LoadAvg()
	rep.Warnings = benchWarnings(rep, o)
	return rep, nil
}

// cpuNote is the progress line's server CPU part ("" when not measured).
func cpuNote(r *loadgen.Result) string {
	if !r.ServerCPUMeasured {
		return ""
	}
	return fmt.Sprintf(", server CPU %.1fµs/exchange", r.ServerCPUPerExchangeUS)
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// Write writes p to the underlying writer under the lock.
func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// startServerChild re-executes this binary as the server child (the no-op
// server for label "noop") and waits for its address.
func startServerChild(ctx context.Context, label string, o *benchOptions, stderr io.Writer) (*benchTarget, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("locate own binary for the server child: %w", err)
	}
	exe := self
	if v, ok := o.variant(label); ok && v.binary != "" {
		exe = v.binary
	}
	args := serverChildArgs(label, o)
	env := append([]string(nil), o.serverEnv...)
	if o.serverProcs > 0 {
		env = append(env, "GOMAXPROCS="+strconv.Itoa(o.serverProcs))
	}
	child, err := loadgen.StartChild(ctx, exe, args, env, stderr, time.Minute)
	if err != nil {
		if exe != self {
			return nil, fmt.Errorf("%s server (%s, which must be a flowproc binary whose bench takes this one's server-child flags): %w", label, exe, err)
		}
		return nil, fmt.Errorf("%s server: %w", label, err)
	}
	return &benchTarget{label: label, addr: child.Addr, cpu: child.CPU, mem: child.Memory(), child: child}, nil
}

// serverChildArgs are the arguments of the server child labelled label:
// the no-op ("noop"), the flowproc child ("flowproc"), a -compare variant
// or the -trace-compare traced child.
func serverChildArgs(label string, o *benchOptions) []string {
	args := []string{"bench", serverChildFlag, "-body-limit", o.bodyLimit, "-example", o.example}
	if label == "noop" {
		args = append(args, "-noop")
		if o.cpuProfile != "" {
			args = append(args, "-cpuprofile", o.cpuProfile+".noop")
		}
	} else {
		args = append(args, "-log-level", o.serverLogLevel)
		profile, sample, dirs, def := o.cpuProfile, o.traceSample, o.dirs, o.defaultProject
		if v, ok := o.variant(label); ok {
			if v.dir != "" {
				// A variant serves its directory alone; its first project
				// is the default (-default-project names one of the DIRs).
				dirs, def = []string{v.dir}, ""
			}
			// Another binary serves what the first child serves.
			if profile != "" {
				profile += "." + label
			}
		}
		if label == tracedLabel {
			if profile != "" {
				profile += "." + tracedLabel
			}
			sample = strconv.FormatFloat(o.traceCompare, 'g', -1, 64)
		}
		if profile != "" {
			args = append(args, "-cpuprofile", profile)
		}
		if def != "" {
			args = append(args, "-default-project", def)
		}
		if sample != "" {
			args = append(args, "-trace-sample", sample)
		}
		args = append(args, "--")
		args = append(args, dirs...)
	}
	return args
}

// ratios divides flowproc's totals f by the no-op's n.
func ratios(f, n *loadgen.Result) *benchRatios {
	div := func(a, b float64) float64 {
		if b == 0 {
			return 0
		}
		return a / b
	}
	r := &benchRatios{
		Throughput: div(f.Throughput, n.Throughput),
		P50:        div(f.Latency.P50US, n.Latency.P50US),
		P99:        div(f.Latency.P99US, n.Latency.P99US),
	}
	if f.ServerCPUMeasured && n.ServerCPUMeasured {
		r.CPUPerExchange = div(f.ServerCPUPerExchangeUS, n.ServerCPUPerExchangeUS)
	}
	return r
}

// benchWarnings lists what makes the numbers less trustworthy.
func benchWarnings(rep *benchReport, o *benchOptions) []string {
	var w []string
	if la := rep.Host.LoadAvgStart[0]; la > float64(rep.Host.CPUs) {
		w = append(w, fmt.Sprintf("load average %.2f at the start exceeds the %d CPUs: other processes compete for the CPU, compare only within this run", la, rep.Host.CPUs))
	}
	for _, t := range rep.Totals {
		if t.ClientErrors+t.LocalReplies > 0 {
			w = append(w, fmt.Sprintf("%s: %d client errors and %d Envoy local replies (failures, not answers)", t.Label, t.ClientErrors, t.LocalReplies))
		}
		if o.rate > 0 && t.Throughput < 0.95*o.rate {
			w = append(w, fmt.Sprintf("%s: achieved %.0f exchanges/s of the %.0f scheduled: the server (or the load generator) is saturated; latencies include queueing", t.Label, t.Throughput, o.rate))
		}
		if o.count == 0 && t.ServerCPUMeasured && t.ServerCPUS < 1 {
			w = append(w, fmt.Sprintf("%s: %.2fs of server CPU measured; /proc counts in 10 ms ticks, so CPU per exchange is coarse — run longer", t.Label, t.ServerCPUS))
		}
	}
	return append(w, variantWarnings(rep.Totals)...)
}

// writeBenchTable prints the report for people.
func writeBenchTable(w io.Writer, rep *benchReport) {
	s, h := rep.Settings, rep.Host
	fmt.Fprintf(w, "flowproc bench: %d CPUs, %s, load average %.2f %.2f %.2f at start, %.2f %.2f %.2f at end\n",
		h.CPUs, h.GoVersion, h.LoadAvgStart[0], h.LoadAvgStart[1], h.LoadAvgStart[2], h.LoadAvgEnd[0], h.LoadAvgEnd[1], h.LoadAvgEnd[2])
	fmt.Fprintf(w, "request: %s %s, body %d B; upstream response body %d B\n", s.Method, strings.Join(s.Paths, " "), s.RequestBytes, s.ResponseBytes)
	fmt.Fprintf(w, "processing mode: %s\n", s.ProcessingMode)
	load := "saturation (closed loop)"
	if s.Rate > 0 {
		load = fmt.Sprintf("fixed rate %.0f/s (open loop)", s.Rate)
	}
	length := fmt.Sprintf("%gs", s.DurationS)
	if s.Count > 0 {
		length = fmt.Sprintf("%d exchanges", s.Count)
	}
	fmt.Fprintf(w, "load: %s, %d workers, %d connections, %s measured after %gs warm-up, %d round(s) per server\n\n",
		load, s.Workers, s.Conns, length, s.WarmupS, s.Rounds)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "server\tround\texch/s\tp50\tp90\tp99\tp99.9\tmax\tsrv CPU/exch\tgen CPU/exch\tsrv RSS peak\talloc/exch\tmsgs/exch\tclient err\tnon-2xx\tlocal\timmediate\t")
	row := func(r *loadgen.Result, round string) {
		cpu := "-"
		if r.ServerCPUMeasured {
			cpu = fmt.Sprintf("%.1fµs", r.ServerCPUPerExchangeUS)
		}
		l := r.Latency
		rss, alloc := memoryCells(r)
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%.1fµs\t%s\t%s\t%.2f\t%d\t%d\t%d\t%d\t\n", r.Label, round, r.Throughput,
			loadgen.FormatUS(l.P50US), loadgen.FormatUS(l.P90US), loadgen.FormatUS(l.P99US), loadgen.FormatUS(l.P999US), loadgen.FormatUS(l.MaxUS),
			cpu, r.ClientCPUPerExchangeUS, rss, alloc, r.MessagesPerExchange, r.ClientErrors, r.Non2xx, r.LocalReplies, r.Immediate)
	}
	for _, r := range rep.Rounds {
		row(r, strconv.Itoa(r.Round))
	}
	if s.Rounds > 1 {
		for _, r := range rep.Totals {
			row(r, "all")
		}
	}
	_ = tw.Flush()

	if r := rep.Ratios; r != nil {
		fmt.Fprintf(w, "\nflowproc / no-op: throughput %.2f×, p50 %.2f×, p99 %.2f×", r.Throughput, r.P50, r.P99)
		if r.CPUPerExchange > 0 {
			fmt.Fprintf(w, ", server CPU per exchange %.2f×", r.CPUPerExchange)
		}
		fmt.Fprintln(w)
		if r.Median != nil {
			writeRoundRatios(w, r.Rounds, *r.Median, r.MedianInterval, "%.2f×")
		}
	}
	writeVariantCompares(w, rep.Compare)
	writeTraceCompare(w, rep.TraceCompare)

	fmt.Fprintln(w, "\nper-message latency (send → reply accepted, all rounds):")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "server\tmessage\tcount\tp50\tp90\tp99\tp99.9\tmax\t")
	for _, t := range rep.Totals {
		kinds := make([]string, 0, len(t.Messages))
		for k := range t.Messages {
			kinds = append(kinds, k)
		}
		sort.Slice(kinds, func(i, j int) bool { return phaseOrder(kinds[i]) < phaseOrder(kinds[j]) })
		for _, k := range kinds {
			m := t.Messages[k]
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", t.Label, k, m.Count, loadgen.FormatUS(m.P50US), loadgen.FormatUS(m.P90US),
				loadgen.FormatUS(m.P99US), loadgen.FormatUS(m.P999US), loadgen.FormatUS(m.MaxUS))
		}
	}
	_ = tw.Flush()

	for _, t := range rep.Totals {
		if t.StartLag != nil {
			fmt.Fprintf(w, "\n%s start lag behind schedule: p50 %s, p99 %s, max %s", t.Label,
				loadgen.FormatUS(t.StartLag.P50US), loadgen.FormatUS(t.StartLag.P99US), loadgen.FormatUS(t.StartLag.MaxUS))
		}
	}
	if rep.Totals != nil && rep.Totals[0].StartLag != nil {
		fmt.Fprintln(w)
	}
	for _, t := range rep.Totals {
		codes := make([]int, 0, len(t.Statuses))
		for c := range t.Statuses {
			codes = append(codes, c)
		}
		sort.Ints(codes)
		parts := make([]string, 0, len(codes))
		for _, c := range codes {
			parts = append(parts, fmt.Sprintf("%d×%d", c, t.Statuses[c]))
		}
		fmt.Fprintf(w, "\n%s statuses: %s", t.Label, strings.Join(parts, " "))
		for d, n := range t.LocalDetails {
			fmt.Fprintf(w, "; local %s×%d", d, n)
		}
		for _, e := range t.ErrorSamples {
			fmt.Fprintf(w, "\n%s client error: %s", t.Label, e)
		}
	}
	fmt.Fprintln(w)
	for _, warn := range rep.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
}

// phaseOrder sorts message kinds in protocol order, each kind's immediate
// replies right after it.
func phaseOrder(kind string) int {
	base, immediate := strings.CutSuffix(kind, " (immediate)")
	for i, p := range loadgen.Phases {
		if p == base {
			if immediate {
				return 2*i + 1
			}
			return 2 * i
		}
	}
	return 99
}

// runBenchServer is the server child: it serves the projects (or the no-op
// server with -noop) on a loopback port, prints "ADDR host:port" on stdout
// and runs until its stdin is closed or it is signalled.
func runBenchServer(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench "+serverChildFlag, flag.ContinueOnError)
	fs.SetOutput(stderr)
	noop := fs.Bool("noop", false, "serve the no-op ext_proc server instead of projects")
	listen := fs.String("listen", "127.0.0.1:0", "gRPC listen address")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file")
	bodyLimit := fs.String("body-limit", "1MiB", "largest body a flow reads")
	logLevel := fs.String("log-level", "warn", "log level")
	defProject := fs.String("default-project", "", "default project")
	fs.StringVar(&benchTraceSample, "trace-sample", "", "trace session sampling rate")
	example := fs.String("example", examples.Default, "embedded example served when no DIR is given")
	if err := parseInterspersed(fs, args); err != nil {
		return parseExit(err)
	}
	if err := serveBenchChild(ctx, *noop, *listen, *cpuProfile, *bodyLimit, *logLevel, *defProject, *example, fs.Args(), stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "flowproc bench server: %v\n", err)
		return 1
	}
	return 0
}

// benchServerSettings are the server child's settings: flowproc serve's
// defaults (its watchdog, stream wait and serving limits) with the bench's
// body limit, so that the server measured is the one users run.
func benchServerSettings(bodyLimit int64) (*settings, error) {
	st, err := defaultServeConfig().check()
	if err != nil {
		return nil, err
	}
	st.bodyLimit = bodyLimit
	return st, nil
}

// serveBenchChild serves until stdin closes or ctx ends, then stops the
// gRPC server (gracefully for up to 5 s) and writes the CPU profile.
func serveBenchChild(ctx context.Context, noop bool, listen, cpuProfile, bodyLimit, logLevel, defProject, example string, dirs []string, stdout, stderr io.Writer) error {
	limit, err := parseSize(bodyLimit)
	if err != nil {
		return fmt.Errorf("-body-limit: %w", err)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	logger := newLogger(stderr, level)
	slog.SetDefault(logger)
	// The gRPC server options are the production server's (message sizes,
	// keepalive), for the no-op too: the transport must not differ.
	var resolver extproc.Resolver
	if !noop {
		if len(dirs) == 0 {
			dir, err := examples.Extract(example)
			if err != nil {
				return err
			}
			defer os.RemoveAll(filepath.Dir(dir))
			dirs = []string{dir}
		}
		// Encrypted KVMs: a key of this process, as in flowproc dev.
		if err := devKVMKey(store.MemoryStores()); err != nil {
			return err
		}
		projects, err := loadProjectsWith(dirs, defProject, projects.LoadOptions{}, func(err error) { logger.Error("project failed to load", "error", err.Error()) })
		if err != nil {
			return err
		}
		resolver = projects
	}
	tracing, err := benchTracing(ctx, resolver)
	if err != nil {
		return err
	}

	st, err := benchServerSettings(limit)
	if err != nil {
		return err
	}
	mem, err := applyMemorySettings(st, logger, io.Discard)
	if err != nil {
		return err
	}
	opts := st.serverOptions(resolver, logger, mem.bodyBudget)
	opts.Tracing = tracing
	srv := extproc.New(opts)
	g := grpc.NewServer(srv.GRPCOptions()...)
	if noop {
		(&noopserver.Server{}).Register(g)
	} else {
		srv.Register(g)
	}
	lis, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			_ = lis.Close()
			return fmt.Errorf("-cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			_ = f.Close()
			_ = lis.Close()
			return fmt.Errorf("-cpuprofile: %w", err)
		}
		defer func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		}()
	}
	stopMetrics, err := serveChildMetrics(srv, noop, stdout)
	if err != nil {
		_ = lis.Close()
		return err
	}
	defer stopMetrics()
	served := make(chan error, 1)
	go func() { served <- g.Serve(lis) }()
	fmt.Fprintf(stdout, "%s%s\n", loadgen.AddrPrefix, lis.Addr())

	stdinClosed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(stdinClosed)
	}()
	select {
	case <-stdinClosed:
	case <-ctx.Done():
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	}
	stopped := make(chan struct{})
	go func() {
		g.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		g.Stop()
		<-stopped
	}
	return nil
}
