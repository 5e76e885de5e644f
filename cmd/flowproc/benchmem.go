package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/flowproc/flowproc/examples"
	"github.com/flowproc/flowproc/extproc"
	"github.com/flowproc/flowproc/flowengine/budget"
	"github.com/flowproc/flowproc/internal/loadgen"
)

// benchExamples are the embedded examples bench -example serves, with the
// path used when no -path is given.
var benchExamples = map[string]struct{ dir, path string }{
	"hello":  {examples.Default, "/api/hello/world"},
	"apigee": {"apigee-hello", "/v1/hello?name=Ada"},
}

// addMemoryFlags registers bench's memory and example flags.
func addMemoryFlags(fs *flag.FlagSet, o *benchOptions, serverEnv *listFlag) {
	fs.StringVar(&o.metricsURL, "metrics", "", "Prometheus `URL` of the -target server (e.g. flowproc serve's http://127.0.0.1:9090/metrics), for its heap bytes allocated per exchange ("+loadgen.AllocMetric+")")
	fs.Var(serverEnv, "server-env", "`KEY=VALUE` added to the server child's environment, repeatable (e.g. GOGC=100, GOMEMLIMIT=256MiB)")
	fs.StringVar(&o.example, "example", "hello", "embedded example the server child serves when no DIR is given: hello (FLAT) or apigee (the Apigee bundle examples/apigee-hello; default path /v1/hello?name=Ada)")
}

// checkMemoryFlags checks the memory and example flags; hasPaths says
// whether -path was given (else the example's default path is used).
func checkMemoryFlags(o *benchOptions, serverEnv []string, hasPaths bool) error {
	for _, kv := range serverEnv {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return fmt.Errorf("-server-env %q: want KEY=VALUE", kv)
		}
	}
	o.serverEnv = serverEnv
	ex, ok := benchExamples[o.example]
	if !ok {
		return fmt.Errorf("-example %q: want hello or apigee", o.example)
	}
	if o.example != "hello" && (o.target != "" || len(o.dirs) > 0) {
		return errors.New("-example applies to the server child without DIR arguments; it cannot be used with -target or DIR")
	}
	if o.metricsURL != "" && o.target == "" {
		return errors.New("-metrics needs -target (the started server child is measured anyway)")
	}
	if len(serverEnv) > 0 && o.target != "" && !o.baseline {
		return errors.New("-server-env applies to the server children; with -target only the -baseline no-op child gets it")
	}
	o.example = ex.dir
	if !hasPaths && len(o.dirs) == 0 {
		o.paths = []string{ex.path}
	}
	return nil
}

// benchExitCode is 1 when any exchange failed (a client error or an Envoy
// local reply), so scripts and CI notice; 0 otherwise. Answers the server
// chose, 503s included, are not failures.
func benchExitCode(rep *benchReport, stderr io.Writer) int {
	failed := false
	for _, t := range rep.Totals {
		if n := t.ClientErrors + t.LocalReplies; n > 0 {
			fmt.Fprintf(stderr, "flowproc bench: %s: %d exchange(s) failed (%d client errors, %d local replies)\n", t.Label, n, t.ClientErrors, t.LocalReplies)
			failed = true
		}
	}
	if failed {
		return 1
	}
	return 0
}

// memoryCells are the table's memory columns: the server's peak RSS and
// heap bytes allocated per exchange ("-" when not measured).
func memoryCells(r *loadgen.Result) (rss, alloc string) {
	rss, alloc = "-", "-"
	if r.ServerPeakRSSBytes > 0 {
		rss = budget.FormatSize(r.ServerPeakRSSBytes)
	}
	if r.ServerAllocMeasured {
		alloc = budget.FormatSize(int64(r.ServerAllocPerExchange))
	}
	return rss, alloc
}

// serveChildMetrics serves the server child's Prometheus metrics (the
// flowproc server's registry, or for the no-op one with the Go collector)
// on a loopback port and announces it with a METRICS line before the ADDR
// line, so that bench reads the child's heap allocations.
func serveChildMetrics(srv *extproc.Server, noop bool, stdout io.Writer) (stop func(), err error) {
	h := srv.AdminHandler()
	if noop {
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector())
		h = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("metrics listen: %w", err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(lis) }()
	fmt.Fprintf(stdout, "%shttp://%s/metrics\n", loadgen.MetricsPrefix, lis.Addr())
	return func() { _ = hs.Close() }, nil
}
