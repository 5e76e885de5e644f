package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseBenchMemoryArgs(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		check   func(t *testing.T, o *benchOptions)
		wantErr string
	}{
		{name: "apigee example and its default path", args: []string{"-example", "apigee"}, check: func(t *testing.T, o *benchOptions) {
			if o.example != "apigee-hello" || strings.Join(o.paths, ",") != "/v1/hello?name=Ada" {
				t.Errorf("example %q paths %v", o.example, o.paths)
			}
		}},
		{name: "apigee example with a path", args: []string{"-example", "apigee", "-path", "/v1/orders/42"}, check: func(t *testing.T, o *benchOptions) {
			if strings.Join(o.paths, ",") != "/v1/orders/42" {
				t.Errorf("paths %v", o.paths)
			}
		}},
		{name: "server environment", args: []string{"-server-env", "GOGC=200", "-server-env", "GOMEMLIMIT=256MiB"}, check: func(t *testing.T, o *benchOptions) {
			if strings.Join(o.serverEnv, " ") != "GOGC=200 GOMEMLIMIT=256MiB" || o.example != "hello" {
				t.Errorf("server env %v example %q", o.serverEnv, o.example)
			}
		}},
		{name: "peer metrics", args: []string{"-target", "127.0.0.1:50051", "-pid", "1", "-metrics", "http://127.0.0.1:9090/metrics"}, check: func(t *testing.T, o *benchOptions) {
			if o.metricsURL != "http://127.0.0.1:9090/metrics" {
				t.Errorf("metrics %q", o.metricsURL)
			}
		}},
		{name: "unknown example", args: []string{"-example", "nope"}, wantErr: "-example"},
		{name: "example with DIR", args: []string{"-example", "apigee", "dir"}, wantErr: "-example"},
		{name: "metrics without target", args: []string{"-metrics", "http://x/metrics"}, wantErr: "-metrics needs -target"},
		{name: "bad server env", args: []string{"-server-env", "GOGC"}, wantErr: "KEY=VALUE"},
		{name: "server env with target only", args: []string{"-target", "127.0.0.1:1", "-server-env", "GOGC=1"}, wantErr: "-server-env"},
	} {
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
	var stderr bytes.Buffer
	if _, err := parseBenchArgs([]string{"-h"}, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Fatal(err)
	}
	for _, name := range []string{"metrics", "server-env", "example"} {
		if !strings.Contains(stderr.String(), "\n  -"+name+" ") {
			t.Errorf("-h does not document -%s", name)
		}
	}
}

// TestBenchMemoryEndToEnd: the server children report their peak RSS and
// heap bytes per exchange (table and JSON), and the Apigee example is
// measured like the FLAT one.
func TestBenchMemoryEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	t.Run("JSON memory fields with a baseline", func(t *testing.T) {
		args := []string{"bench", "-baseline", "-rounds", "1", "-count", "200", "-warmup", "0", "-workers", "4", "-conns", "1",
			"-server-env", "GOGC=200", "-json"}
		stdout, _ := benchOK(ctx, t, args...)
		var rep struct {
			Totals []struct {
				Label         string  `json:"label"`
				PeakRSS       int64   `json:"server_peak_rss_bytes"`
				RSSSource     string  `json:"server_rss_source"`
				AllocMeasured bool    `json:"server_alloc_measured"`
				AllocPerExch  float64 `json:"server_alloc_bytes_per_exchange"`
				MemoryError   string  `json:"memory_error"`
			} `json:"totals"`
		}
		if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, stdout.String())
		}
		if len(rep.Totals) != 2 {
			t.Fatalf("totals %+v", rep.Totals)
		}
		for _, tot := range rep.Totals {
			if tot.PeakRSS < 1<<20 || tot.RSSSource == "" || !tot.AllocMeasured || tot.AllocPerExch <= 0 || tot.MemoryError != "" {
				t.Errorf("%s memory %+v", tot.Label, tot)
			}
		}
	})

	t.Run("Apigee example, answered and proxied", func(t *testing.T) {
		for _, path := range []string{"/v1/hello?name=Ada", "/v1/orders/42"} {
			stdout, _ := benchOK(ctx, t, "bench", "-example", "apigee", "-path", path, "-count", "50", "-warmup", "0", "-workers", "2", "-conns", "1")
			out := stdout.String()
			for _, want := range []string{"srv RSS peak", "alloc/exch", "flowproc statuses: 200×50"} {
				if !strings.Contains(out, want) {
					t.Errorf("%s: output lacks %q:\n%s", path, want, out)
				}
			}
			if strings.Contains(path, "hello") != strings.Contains(out, "request_headers (immediate)") {
				t.Errorf("%s: answered/proxied mismatch:\n%s", path, out)
			}
		}
	})
}
