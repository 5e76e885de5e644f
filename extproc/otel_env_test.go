package extproc_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	collectortracev1 "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/flowproc/flowproc/envoy"
	"github.com/flowproc/flowproc/extproc"
)

// otelEnv are the variables OTelFromEnv reads; tests clear them all.
var otelEnv = []string{"OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
	"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG"}

func setOtelEnv(t *testing.T, kv map[string]string) {
	t.Helper()
	for _, k := range otelEnv {
		t.Setenv(k, kv[k])
	}
}

// TestOTelFromEnvOff: without OTEL_* variables (or with them saying
// none/disabled) tracing is off: no Tracing, no error; unsupported
// exporters and protocols are configuration errors.
func TestOTelFromEnvOff(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr bool
	}{
		{"no variables", nil, false},
		{"service name alone", map[string]string{"OTEL_SERVICE_NAME": "gw"}, false},
		{"exporter none", map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"}, false},
		{"sdk disabled", map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, false},
		{"unsupported exporter", map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, true},
		{"unsupported protocol", map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			setOtelEnv(t, tc.env)
			tr, err := extproc.OTelFromEnv(context.Background())
			if tc.wantErr {
				if !errors.Is(err, extproc.ErrOTelConfig) {
					t.Fatalf("err = %v, want ErrOTelConfig", err)
				}
				return
			}
			if err != nil || tr != nil {
				t.Fatalf("OTelFromEnv = %v, %v; want off (nil, nil)", tr, err)
			}
			if err := tr.Shutdown(context.Background()); err != nil {
				t.Fatalf("Shutdown of nil OTel: %v", err)
			}
		})
	}
}

// TestOTelFromEnvOTLP: with OTEL_EXPORTER_OTLP_ENDPOINT pointing at an
// in-process OTLP/HTTP receiver, an exchange's spans arrive there on
// Shutdown (the flush serve does on exit), with OTEL_SERVICE_NAME as the
// service and the incoming trace id.
func TestOTelFromEnvOTLP(t *testing.T) {
	var (
		mu    sync.Mutex
		names []string
		svc   string
		paths []string
	)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		var req collectortracev1.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(body, &req)
		}
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		paths = append(paths, r.URL.Path)
		for _, rs := range req.GetResourceSpans() {
			for _, a := range rs.GetResource().GetAttributes() {
				if a.GetKey() == "service.name" {
					svc = a.GetValue().GetStringValue()
				}
			}
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					if hexID(s.GetTraceId()) != incomingTraceID {
						t.Errorf("span %q in trace %x, want %s", s.GetName(), s.GetTraceId(), incomingTraceID)
					}
					names = append(names, s.GetName())
				}
			}
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		out, _ := proto.Marshal(&collectortracev1.ExportTraceServiceResponse{})
		_, _ = w.Write(out)
	}))
	defer rcv.Close()
	setOtelEnv(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": rcv.URL, "OTEL_SERVICE_NAME": "gw-test"})
	tr, err := extproc.OTelFromEnv(context.Background())
	if err != nil || tr == nil {
		t.Fatalf("OTelFromEnv = %v, %v; want on", tr, err)
	}
	side := newSideServer(t)
	srv := extproc.New(extproc.Options{
		Resolver: projectResolver{"otel", loadSideCallProject(t, side.URL)},
		Logger:   slog.New(slog.NewJSONHandler(io.Discard, nil)),
		OTel:     tr,
	})
	resp, err := envoyClient(t, srv).Do(context.Background(), &envoy.HTTPRequest{Method: "GET", Scheme: "http", Authority: "gw.local", Path: "/",
		Headers: []envoy.Header{{Name: "traceparent", Value: "00-" + incomingTraceID + "-" + incomingSpanID + "-01"}}}, noUpstream(t))
	if err != nil || resp.Status != 200 {
		t.Fatalf("got %v %v", resp, err)
	}
	waitStreamsDone(t, srv)
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if svc != "gw-test" {
		t.Errorf("service.name = %q, want gw-test", svc)
	}
	if len(paths) == 0 || paths[0] != "/v1/traces" {
		t.Errorf("export paths %v, want /v1/traces", paths)
	}
	want := map[string]bool{"flowproc otel main.xml": true, "if": true, "request": true, "echo": true, "GET": true}
	for _, n := range names {
		delete(want, n)
	}
	if len(want) != 0 {
		t.Errorf("spans %v: missing %v", names, want)
	}
}

func hexID(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}
