package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	extprocfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"

	"github.com/flowproc/flowproc/internal/loadgen"
)

// TestMain lets `flowproc bench` re-execute the test binary as its server
// child: os.Executable is the test binary here, started with the child's
// arguments ("bench --server-child …").
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "bench" && os.Args[2] == serverChildFlag {
		os.Exit(dispatch(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func TestParseBenchArgs(t *testing.T) {
	dir := t.TempDir()
	bodyFile := filepath.Join(dir, "body.json")
	if err := os.WriteFile(bodyFile, []byte(`{"items":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		check   func(t *testing.T, o *benchOptions)
		wantErr string
	}{
		{name: "defaults", check: func(t *testing.T, o *benchOptions) {
			if o.workers != 32 || o.conns != 4 || o.duration != 10*time.Second || o.warmup != 2*time.Second || o.rate != 0 ||
				o.rounds != 1 || o.method != "GET" || strings.Join(o.paths, ",") != "/api/hello/world" || o.body != nil ||
				o.responseStatus != 200 || o.responseBody != nil || o.target != "" || o.baseline || o.jsonOut ||
				o.serverLogLevel != "warn" || o.timeout != 30*time.Second || len(o.dirs) != 0 {
				t.Errorf("defaults = %+v", o)
			}
			if pm := o.filter.Filter.GetProcessingMode(); pm.GetRequestBodyMode() != extprocfilterv3.ProcessingMode_NONE ||
				pm.GetResponseHeaderMode() != extprocfilterv3.ProcessingMode_SEND || !o.filter.Filter.GetAllowModeOverride() {
				t.Errorf("default filter is not envoy.yaml's: %v", o.filter.Filter)
			}
		}},
		{name: "baseline defaults to 3 rounds", args: []string{"-baseline"}, check: func(t *testing.T, o *benchOptions) {
			if !o.baseline || o.rounds != 3 {
				t.Errorf("baseline %v rounds %d", o.baseline, o.rounds)
			}
		}},
		{name: "explicit rounds win", args: []string{"-baseline", "-rounds", "5"}, check: func(t *testing.T, o *benchOptions) {
			if o.rounds != 5 {
				t.Errorf("rounds %d", o.rounds)
			}
		}},
		{name: "load shape", args: []string{"-workers", "8", "-conns", "2", "-rate", "2000", "-duration", "3s", "-warmup", "0", "-count", "500"},
			check: func(t *testing.T, o *benchOptions) {
				if o.workers != 8 || o.conns != 2 || o.rate != 2000 || o.duration != 3*time.Second || o.warmup != 0 || o.count != 500 {
					t.Errorf("load = %+v", o)
				}
			}},
		{name: "repeated paths and headers", args: []string{"-path", "/api/hello/world", "-path", "/api/upstream/x", "-H", "X-Api-Key: k1", "-H", "accept:text/plain"},
			check: func(t *testing.T, o *benchOptions) {
				if strings.Join(o.paths, ",") != "/api/hello/world,/api/upstream/x" || len(o.headers) != 2 ||
					o.headers[0].Name != "x-api-key" || o.headers[0].Value != "k1" || o.headers[1].Value != "text/plain" {
					t.Errorf("paths %v headers %v", o.paths, o.headers)
				}
			}},
		{name: "a body makes it a JSON POST", args: []string{"-path", "/api/echo", "-body", `{"items":[{"price":1}]}`},
			check: func(t *testing.T, o *benchOptions) {
				if o.method != "POST" || string(o.body) != `{"items":[{"price":1}]}` || len(o.headers) != 1 || o.headers[0].Value != "application/json" {
					t.Errorf("method %s body %q headers %v", o.method, o.body, o.headers)
				}
			}},
		{name: "explicit method and content type win", args: []string{"-method", "PUT", "-body-size", "1KiB", "-H", "Content-Type: text/plain"},
			check: func(t *testing.T, o *benchOptions) {
				if o.method != "PUT" || len(o.body) != 1024 || len(o.headers) != 1 || o.headers[0].Value != "text/plain" {
					t.Errorf("method %s body %d headers %v", o.method, len(o.body), o.headers)
				}
			}},
		{name: "body file and response", args: []string{"-body-file", bodyFile, "-response-size", "2KiB", "-response-status", "404"},
			check: func(t *testing.T, o *benchOptions) {
				if string(o.body) != `{"items":[]}` || len(o.responseBody) != 2048 || o.responseStatus != 404 {
					t.Errorf("body %q response %d %d", o.body, len(o.responseBody), o.responseStatus)
				}
			}},
		{name: "mode overrides", args: []string{"-mode", "request_body=BUFFERED", "-mode", "response_body=streamed,response_trailers=SEND"},
			check: func(t *testing.T, o *benchOptions) {
				pm := o.filter.Filter.GetProcessingMode()
				if pm.GetRequestBodyMode() != extprocfilterv3.ProcessingMode_BUFFERED || pm.GetResponseBodyMode() != extprocfilterv3.ProcessingMode_STREAMED ||
					pm.GetResponseTrailerMode() != extprocfilterv3.ProcessingMode_SEND || pm.GetRequestHeaderMode() != extprocfilterv3.ProcessingMode_SEND {
					t.Errorf("processing mode %v", pm)
				}
			}},
		{name: "external target with pid", args: []string{"-target", "127.0.0.1:50051", "-pid", "1"}, check: func(t *testing.T, o *benchOptions) {
			if o.target != "127.0.0.1:50051" || o.pid != 1 {
				t.Errorf("target %q pid %d", o.target, o.pid)
			}
		}},
		{name: "server child settings and DIRs", args: []string{"-cpuprofile", "cpu.out", "-server-procs", "1", "-server-log-level", "info", "-body-limit", "4MiB", "a", "b"},
			check: func(t *testing.T, o *benchOptions) {
				if o.cpuProfile != "cpu.out" || o.serverProcs != 1 || o.serverLogLevel != "info" || o.bodyLimit != "4MiB" || strings.Join(o.dirs, ",") != "a,b" {
					t.Errorf("child settings %+v", o)
				}
			}},
		{name: "trace-compare defaults to 3 rounds", args: []string{"-trace-compare", "0.01"}, check: func(t *testing.T, o *benchOptions) {
			if o.traceCompare != 0.01 || o.rounds != 3 || o.baseline {
				t.Errorf("traceCompare %v rounds %d baseline %v", o.traceCompare, o.rounds, o.baseline)
			}
		}},
		{name: "trace-compare beyond 1", args: []string{"-trace-compare", "2"}, wantErr: "(0, 1]"},
		{name: "trace-compare zero", args: []string{"-trace-compare", "0"}, wantErr: "(0, 1]"},
		{name: "trace-compare with trace-sample", args: []string{"-trace-compare", "0.1", "-trace-sample", "0.1"}, wantErr: "cannot be used with -trace-sample"},
		{name: "trace-compare with a target", args: []string{"-trace-compare", "0.1", "-target", "127.0.0.1:1"}, wantErr: "-target"},
		{name: "compare defaults to 3 rounds", args: []string{"-compare", dir, "-compare", dir}, check: func(t *testing.T, o *benchOptions) {
			if len(o.compare) != 2 || o.compare[1] != (compareVariant{dir: dir}) || o.rounds != 3 {
				t.Errorf("compare %v rounds %d", o.compare, o.rounds)
			}
			if v, ok := o.variant("variant2"); !ok || v.dir != dir {
				t.Errorf("variant(variant2) = %+v, %v", v, ok)
			}
			for _, label := range []string{"variant3", "variant0", "variant", "flowproc", "noop", "variantx"} {
				if _, ok := o.variant(label); ok {
					t.Errorf("variant(%s) found one", label)
				}
			}
		}},
		{name: "compare directories first, then binaries", args: []string{"-compare-binary", exe, "-compare", dir}, check: func(t *testing.T, o *benchOptions) {
			want := []compareVariant{{dir: dir}, {binary: exe}}
			if !slices.Equal(o.compare, want) || o.rounds != 3 {
				t.Errorf("compare %v rounds %d, want %v", o.compare, o.rounds, want)
			}
		}},
		{name: "compare with a target", args: []string{"-compare", dir, "-target", "127.0.0.1:1"}, wantErr: "cannot be used with -target"},
		{name: "compare-binary with a target", args: []string{"-compare-binary", exe, "-target", "127.0.0.1:1"}, wantErr: "cannot be used with -target"},
		{name: "compare a missing directory", args: []string{"-compare", filepath.Join(dir, "missing")}, wantErr: "-compare: stat"},
		{name: "compare a file", args: []string{"-compare", bodyFile}, wantErr: "not a directory"},
		{name: "compare-binary a missing file", args: []string{"-compare-binary", filepath.Join(dir, "missing")}, wantErr: "-compare-binary: stat"},
		{name: "compare-binary a file that is not executable", args: []string{"-compare-binary", bodyFile}, wantErr: "not an executable file"},
		{name: "compare-binary a directory", args: []string{"-compare-binary", dir}, wantErr: "not an executable file"},
		{name: "bad mode", args: []string{"-mode", "request_body=SOMETIMES"}, wantErr: "-mode"},
		{name: "two bodies", args: []string{"-body", "x", "-body-size", "10"}, wantErr: "mutually exclusive"},
		{name: "bad body size", args: []string{"-body-size", "big"}, wantErr: "-body-size"},
		{name: "missing body file", args: []string{"-body-file", filepath.Join(dir, "none")}, wantErr: "-body-file"},
		{name: "bad header", args: []string{"-H", "no colon"}, wantErr: "-H"},
		{name: "pseudo-header", args: []string{"-H", ":path: /x"}, wantErr: "-H"},
		{name: "relative path", args: []string{"-path", "api/hello"}, wantErr: "absolute path"},
		{name: "zero workers", args: []string{"-workers", "0"}, wantErr: "positive"},
		{name: "negative rate", args: []string{"-rate", "-5"}, wantErr: "negative"},
		{name: "pid without target", args: []string{"-pid", "42"}, wantErr: "-pid needs -target"},
		{name: "profile of an external server", args: []string{"-target", "127.0.0.1:1", "-cpuprofile", "x"}, wantErr: "cannot be used with -target"},
		{name: "bad response status", args: []string{"-response-status", "99"}, wantErr: "-response-status"},
		{name: "bad log level", args: []string{"-server-log-level", "loud"}, wantErr: "-server-log-level"},
		{name: "missing envoy config", args: []string{"-envoy-config", filepath.Join(dir, "none.yaml")}, wantErr: "-envoy-config"},
		{name: "unknown flag", args: []string{"-bogus"}, wantErr: "flag provided but not defined"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseBenchArgs(tc.args, io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want it to mention %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, o)
		})
	}
}

func TestBenchHelpDocumentsEveryFlag(t *testing.T) {
	var stderr bytes.Buffer
	if _, err := parseBenchArgs([]string{"-h"}, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	help := stderr.String()
	for _, name := range []string{
		"target", "pid", "baseline", "rounds", "workers", "conns", "duration", "warmup", "count", "rate", "timeout",
		"method", "path", "authority", "H", "body", "body-file", "body-size", "response-size", "response-status",
		"mode", "envoy-config", "json", "cpuprofile", "server-procs", "server-log-level", "body-limit", "default-project",
		"trace-sample", "trace-compare", "gen-cpuprofile", "compare", "compare-binary",
	} {
		if !strings.Contains(help, "\n  -"+name+" ") && !strings.Contains(help, "\n  -"+name+"\n") {
			t.Errorf("-h does not document -%s", name)
		}
	}
	for _, want := range []string{"Usage: flowproc bench", "saturation", "coordinated omission", "docs/bench.md"} {
		if !strings.Contains(help, want) {
			t.Errorf("-h does not mention %q", want)
		}
	}
	if strings.Contains(help, serverChildFlag) {
		t.Errorf("-h shows the internal %s mode", serverChildFlag)
	}
	if code := dispatch(context.Background(), []string{"bench", "-h"}, io.Discard, io.Discard); code != 0 {
		t.Errorf("flowproc bench -h exits %d, want 0", code)
	}
}

// TestBenchEndToEnd runs `flowproc bench` with server children (this test
// binary re-executed) for a few hundred exchanges.
// benchOK runs flowproc with args and fails t unless it exits 0. It
// returns what the command wrote to stdout and stderr.
func benchOK(ctx context.Context, t *testing.T, args ...string) (stdout, stderr *bytes.Buffer) {
	t.Helper()
	stdout, stderr = new(bytes.Buffer), new(bytes.Buffer)
	if code := dispatch(ctx, args, stdout, stderr); code != 0 {
		t.Fatalf("flowproc %s: exit %d; stderr:\n%s", strings.Join(args, " "), code, stderr)
	}
	return stdout, stderr
}

func TestBenchEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	t.Run("baseline JSON", func(t *testing.T) {
		args := []string{"bench", "-baseline", "-rounds", "2", "-count", "150", "-warmup", "0", "-workers", "4", "-conns", "2",
			"-path", "/api/hello/world", "-path", "/api/upstream/x", "-json"}
		stdout, _ := benchOK(ctx, t, args...)
		var rep struct {
			Rounds []struct {
				Label     string `json:"label"`
				Round     int    `json:"round"`
				Exchanges uint64 `json:"exchanges"`
			} `json:"rounds"`
			Totals []struct {
				Label        string          `json:"label"`
				Exchanges    uint64          `json:"exchanges"`
				ClientErrors uint64          `json:"client_errors"`
				Local        uint64          `json:"local_replies"`
				Non2xx       uint64          `json:"non_2xx"`
				Immediate    uint64          `json:"immediate_responses"`
				CPUMeasured  bool            `json:"server_cpu_measured"`
				Latency      loadgen.Summary `json:"latency"`
			} `json:"totals"`
			Ratios *struct {
				Throughput float64 `json:"throughput"`
			} `json:"ratios"`
			Host struct {
				CPUs int `json:"cpus"`
			} `json:"host"`
		}
		if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, stdout.String())
		}
		var order []string
		for _, r := range rep.Rounds {
			order = append(order, r.Label)
			if r.Exchanges != 150 {
				t.Errorf("%s round %d: %d exchanges, want 150", r.Label, r.Round, r.Exchanges)
			}
		}
		if got := strings.Join(order, ","); got != "flowproc,noop,noop,flowproc" {
			t.Errorf("round order %s, want ABBA flowproc,noop,noop,flowproc", got)
		}
		if len(rep.Totals) != 2 || rep.Totals[0].Label != "flowproc" || rep.Totals[1].Label != "noop" {
			t.Fatalf("totals %+v", rep.Totals)
		}
		for _, tot := range rep.Totals {
			if tot.Exchanges != 300 || tot.ClientErrors+tot.Local+tot.Non2xx != 0 || !tot.CPUMeasured {
				t.Errorf("%s totals %+v", tot.Label, tot)
			}
			if l := tot.Latency; !(l.P50US <= l.P90US && l.P90US <= l.P99US && l.P99US <= l.P999US && l.P999US <= l.MaxUS && l.MaxUS > 0) {
				t.Errorf("%s percentiles not ordered: %+v", tot.Label, l)
			}
		}
		// /api/hello/world is answered by the flow; the no-op never answers.
		if rep.Totals[0].Immediate != 150 || rep.Totals[1].Immediate != 0 {
			t.Errorf("immediate responses %d and %d, want 150 and 0", rep.Totals[0].Immediate, rep.Totals[1].Immediate)
		}
		if rep.Ratios == nil || rep.Ratios.Throughput <= 0 || rep.Host.CPUs <= 0 {
			t.Errorf("ratios %+v, cpus %d", rep.Ratios, rep.Host.CPUs)
		}
	})

	t.Run("table with a buffered body, fixed rate and a profile", func(t *testing.T) {
		profile := filepath.Join(t.TempDir(), "cpu.pprof")
		args := []string{"bench", "-count", "100", "-warmup", "0", "-rate", "1000", "-workers", "4", "-path", "/api/echo",
			"-body-size", "256", "-mode", "request_body=BUFFERED", "-cpuprofile", profile}
		stdout, _ := benchOK(ctx, t, args...)
		out := stdout.String()
		for _, want := range []string{
			"request: POST /api/echo, body 256 B", "body BUFFERED", "fixed rate 1000/s", "request_body (immediate)",
			"flowproc statuses: 201×100", "start lag behind schedule",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if st, err := os.Stat(profile); err != nil || st.Size() == 0 {
			t.Errorf("CPU profile not written: %v", err)
		}
	})

	t.Run("trace-compare with baseline JSON", func(t *testing.T) {
		genProfile := filepath.Join(t.TempDir(), "gen.pprof")
		// Rounds long enough for the server's CPU time, which /proc counts
		// in 10 ms ticks: 100 exchanges could finish within one tick.
		args := []string{"bench", "-baseline", "-trace-compare", "0.5", "-rounds", "2", "-count", "1000", "-warmup", "0", "-workers", "4", "-conns", "2", "-json",
			"-gen-cpuprofile", genProfile}
		stdout, _ := benchOK(ctx, t, args...)
		// The generator's profile: one file per server and round.
		for _, label := range []string{"flowproc", "noop", "traced"} {
			for _, round := range []string{"1", "2"} {
				if st, err := os.Stat(genProfile + "." + label + "." + round); err != nil || st.Size() == 0 {
					t.Errorf("generator profile %s.%s not written: %v", label, round, err)
				}
			}
		}
		var rep struct {
			Totals []struct {
				Label     string `json:"label"`
				Exchanges uint64 `json:"exchanges"`
			} `json:"totals"`
			Ratios       *struct{ Throughput float64 } `json:"ratios"`
			TraceCompare *traceCompare                 `json:"trace_compare"`
		}
		decodeReport(t, stdout.Bytes(), &rep, "flowproc,noop,traced,traced,noop,flowproc")
		if len(rep.Totals) != 3 || rep.Totals[2].Label != "traced" || rep.Totals[2].Exchanges != 2000 {
			t.Errorf("totals %+v", rep.Totals)
		}
		tc := rep.TraceCompare
		if rep.Ratios == nil || tc == nil || tc.Sample != 0.5 || len(tc.Rounds) != 2 || tc.Rounds[0].Round != 1 || tc.Rounds[1].Round != 2 {
			t.Fatalf("ratios %+v trace_compare %+v", rep.Ratios, tc)
		}
		for _, r := range append(tc.Rounds, tc.Total) {
			if r.Throughput <= 0 || r.CPUPerExchange <= 0 {
				t.Errorf("trace ratio %+v, want throughput and CPU ratios", r)
			}
		}
	})

	t.Run("compare a variant with baseline", func(t *testing.T) {
		// The variant answers /api/hello/{name} with a constant; the
		// example's flow renders a template and runs its init flow.
		dir := t.TempDir()
		for name, content := range map[string]string{
			"swagger.yaml": "swagger: \"2.0\"\nbasePath: /api\npaths:\n  /hello/{name}:\n    get:\n      x-flat-flow: hello.xml\n",
			"hello.xml":    "<flow><template>{\"hello\": \"variant\"}</template></flow>\n",
		} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		profile := filepath.Join(t.TempDir(), "cpu.pprof")
		args := []string{"bench", "-baseline", "-compare", dir, "-rounds", "2", "-count", "1000", "-warmup", "0", "-workers", "4", "-conns", "2",
			"-cpuprofile", profile, "-json"}
		stdout, _ := benchOK(ctx, t, args...)
		var rep struct {
			Totals []struct {
				Label     string `json:"label"`
				Exchanges uint64 `json:"exchanges"`
				Immediate uint64 `json:"immediate_responses"`
			} `json:"totals"`
			Ratios  *struct{ Throughput float64 } `json:"ratios"`
			Compare []*variantCompare             `json:"compare"`
		}
		decodeReport(t, stdout.Bytes(), &rep, "flowproc,noop,variant1,variant1,noop,flowproc")
		if len(rep.Totals) != 3 || rep.Totals[2].Label != "variant1" || rep.Totals[2].Exchanges != 2000 || rep.Totals[2].Immediate != 2000 {
			t.Errorf("totals %+v", rep.Totals)
		}
		if rep.Ratios == nil || len(rep.Compare) != 1 {
			t.Fatalf("ratios %+v compare %+v", rep.Ratios, rep.Compare)
		}
		vc := rep.Compare[0]
		if vc.Label != "variant1" || vc.Dir != dir || vc.VsNoop == nil || len(vc.VsFlowproc.Rounds) != 2 || len(vc.VsNoop.Rounds) != 2 {
			t.Fatalf("compare %+v", vc)
		}
		for _, r := range []roundRatio{vc.VsFlowproc.Total, vc.VsFlowproc.Median, vc.VsNoop.Total, vc.VsNoop.Median} {
			if r.Throughput <= 0 || r.CPUPerExchange <= 0 {
				t.Errorf("variant ratio %+v, want throughput and CPU ratios", r)
			}
		}
		for _, suffix := range []string{"", ".noop", ".variant1"} {
			if st, err := os.Stat(profile + suffix); err != nil || st.Size() == 0 {
				t.Errorf("server profile %s not written: %v", profile+suffix, err)
			}
		}
	})

	t.Run("compare another binary", func(t *testing.T) {
		// The other build is a script that notes its arguments and runs
		// this test binary, which serves as flowproc (TestMain).
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		tmp := t.TempDir()
		marker, other := filepath.Join(tmp, "args"), filepath.Join(tmp, "flowproc-other")
		script := "#!/bin/sh\necho \"$@\" > '" + marker + "'\nexec '" + self + "' \"$@\"\n"
		if err := os.WriteFile(other, []byte(script), 0o700); err != nil {
			t.Fatal(err)
		}
		args := []string{"bench", "-compare-binary", other, "-rounds", "2", "-count", "500", "-warmup", "0", "-workers", "4", "-conns", "2", "-json"}
		stdout, _ := benchOK(ctx, t, args...)
		var rep struct {
			Totals []struct {
				Label     string `json:"label"`
				Exchanges uint64 `json:"exchanges"`
			} `json:"totals"`
			Compare []*variantCompare `json:"compare"`
		}
		decodeReport(t, stdout.Bytes(), &rep, "flowproc,variant1,variant1,flowproc")
		if len(rep.Totals) != 2 || rep.Totals[1].Label != "variant1" || rep.Totals[1].Exchanges != 1000 {
			t.Errorf("totals %+v", rep.Totals)
		}
		if len(rep.Compare) != 1 || rep.Compare[0].Binary != other || rep.Compare[0].Dir != "" || len(rep.Compare[0].VsFlowproc.Rounds) != 2 {
			t.Fatalf("compare %+v", rep.Compare)
		}
		got, err := os.ReadFile(marker)
		if err != nil {
			t.Fatalf("the other binary did not run: %v", err)
		}
		// It serves what the first child serves: the embedded example.
		if want := "bench " + serverChildFlag + " -body-limit 1MiB -example hello -log-level warn --\n"; string(got) != want {
			t.Errorf("the other binary ran with %q, want %q", got, want)
		}

		// A binary that is not flowproc fails the run, and says what it needs.
		bad := filepath.Join(tmp, "not-flowproc")
		if err := os.WriteFile(bad, []byte("#!/bin/sh\nexit 3\n"), 0o700); err != nil {
			t.Fatal(err)
		}
		var errOut bytes.Buffer
		args = []string{"bench", "-compare-binary", bad, "-rounds", "1", "-count", "10", "-warmup", "0"}
		if code := dispatch(ctx, args, io.Discard, &errOut); code == 0 || !strings.Contains(errOut.String(), "must be a flowproc binary") {
			t.Errorf("exit %d; stderr:\n%s", code, errOut.String())
		}
	})

	t.Run("trace-compare table", func(t *testing.T) {
		args := []string{"bench", "-trace-compare", "1", "-rounds", "2", "-count", "50", "-warmup", "0", "-workers", "2", "-conns", "1"}
		stdout, _ := benchOK(ctx, t, args...)
		out := stdout.String()
		for _, want := range []string{"traced (sample 1) / untraced flowproc: throughput ", "  per round: throughput ", "traced statuses: 200×100"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("no server at the target", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		code := dispatch(ctx, []string{"bench", "-target", "127.0.0.1:1", "-count", "5", "-warmup", "0", "-workers", "1", "-conns", "1"}, &stdout, &stderr)
		// Failed exchanges make bench exit 1 (docs/bench.md).
		if code != 1 || !strings.Contains(stdout.String(), "warning: target: 0 client errors and 5 Envoy local replies") ||
			!strings.Contains(stderr.String(), "target: 5 exchange(s) failed") {
			t.Errorf("exit %d, output:\n%s%s", code, stdout.String(), stderr.String())
		}
	})
}

// decodeReport unmarshals bench's -json output into rep and checks the
// labels of its rounds, in order, against want (comma-separated).
func decodeReport(t *testing.T, out []byte, rep any, want string) {
	t.Helper()
	var rounds struct {
		Rounds []struct {
			Label string `json:"label"`
		} `json:"rounds"`
	}
	if err := json.Unmarshal(out, &rounds); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if err := json.Unmarshal(out, rep); err != nil {
		t.Fatalf("output does not decode: %v\n%s", err, out)
	}
	order := make([]string, len(rounds.Rounds))
	for i, r := range rounds.Rounds {
		order[i] = r.Label
	}
	if got := strings.Join(order, ","); got != want {
		t.Errorf("round order %s, want %s", got, want)
	}
}
