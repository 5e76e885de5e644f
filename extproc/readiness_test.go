package extproc

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/flowproc/flowproc/extproc/extproctest"
)

func TestParseReadyRule(t *testing.T) {
	for in, want := range map[string]ReadyRule{"": ReadyAll, "all": ReadyAll, "any": ReadyAny} {
		if got, err := ParseReadyRule(in); err != nil || got != want {
			t.Errorf("ParseReadyRule(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseReadyRule("most"); err == nil {
		t.Error("ParseReadyRule(most) succeeded")
	}
}

// TestReadinessFollowsProjects: a project that has never loaded keeps the
// server NOT_SERVING (gRPC health "" and ServiceName, /readyz with the
// reason) under the default rule; under "any" one loaded project is enough.
// The project's own health service follows its state, and the metrics too.
func TestReadinessFollowsProjects(t *testing.T) {
	good := ProjectState{Name: "shop", Loaded: true}
	broken := ProjectState{Name: "billing", Error: "FP202"}
	kept := ProjectState{Name: "billing", Loaded: true, Error: "FP202"}
	for _, tc := range []struct {
		name       string
		rule       ReadyRule
		states     []ProjectState
		ready      bool
		reason     string
		billingSvc healthgrpc.HealthCheckResponse_ServingStatus
	}{
		{"all loaded", ReadyAll, []ProjectState{good, {Name: "billing", Loaded: true}}, true, "", healthgrpc.HealthCheckResponse_SERVING},
		{"one never loaded", ReadyAll, []ProjectState{good, broken}, false, "project billing has never loaded (FP202)", healthgrpc.HealthCheckResponse_NOT_SERVING},
		{"last good version kept", ReadyAll, []ProjectState{good, kept}, true, "", healthgrpc.HealthCheckResponse_SERVING},
		{"any: one loaded", ReadyAny, []ProjectState{good, broken}, true, "", healthgrpc.HealthCheckResponse_NOT_SERVING},
		{"any: none loaded", ReadyAny, []ProjectState{broken}, false, "no project has loaded: project billing has never loaded (FP202)", healthgrpc.HealthCheckResponse_NOT_SERVING},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(Options{ReadyWhen: tc.rule})
			conn := extproctest.Dial(t, s)
			s.SetProjects(tc.states)
			hc := healthgrpc.NewHealthClient(conn)
			want := healthgrpc.HealthCheckResponse_NOT_SERVING
			if tc.ready {
				want = healthgrpc.HealthCheckResponse_SERVING
			}
			for svc, w := range map[string]healthgrpc.HealthCheckResponse_ServingStatus{
				"": want, ServiceName: want, ProjectHealthPrefix + "billing": tc.billingSvc,
				LivenessService: healthgrpc.HealthCheckResponse_SERVING,
			} {
				r, err := hc.Check(context.Background(), &healthgrpc.HealthCheckRequest{Service: svc})
				if err != nil || r.GetStatus() != w {
					t.Errorf("health %q = %v, %v; want %v", svc, r.GetStatus(), err, w)
				}
			}
			rec := httptest.NewRecorder()
			s.AdminHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
			wantCode := http.StatusServiceUnavailable
			if tc.ready {
				wantCode = 200
			}
			if rec.Code != wantCode || tc.reason != "" && !strings.Contains(rec.Body.String(), tc.reason) {
				t.Errorf("/readyz = %d %q, want %d with %q", rec.Code, rec.Body.String(), wantCode, tc.reason)
			}
			if s.Ready() != tc.ready {
				t.Errorf("Ready() = %v, want %v", s.Ready(), tc.ready)
			}
			metrics := scrape(t, s)
			if !strings.Contains(metrics, "flowproc_project_loaded{project=\"shop\"} 1") && tc.states[0].Name == "shop" {
				t.Errorf("no flowproc_project_loaded for shop:\n%s", metrics)
			}
			wantReady := "flowproc_ready 0"
			if tc.ready {
				wantReady = "flowproc_ready 1"
			}
			if !strings.Contains(metrics, wantReady) {
				t.Errorf("metrics lack %q", wantReady)
			}
		})
	}
}

// TestReadinessRecovers: a reload that loads the broken project makes the
// server ready; reload metrics record time and result.
func TestReadinessRecovers(t *testing.T) {
	s := New(Options{})
	_ = extproctest.Dial(t, s)
	s.SetProjects([]ProjectState{{Name: "shop", Error: "FP100"}})
	if s.Ready() {
		t.Fatal("ready with a project that never loaded")
	}
	at := time.Unix(1700000000, 0)
	s.RecordReload(at, true, []ProjectState{{Name: "shop", Error: "FP100"}})
	s.RecordReload(at, false, nil)
	if s.Ready() {
		t.Fatal("a rejected reload made the server ready")
	}
	s.RecordReload(at.Add(time.Second), true, []ProjectState{{Name: "shop", Loaded: true}})
	if !s.Ready() {
		t.Fatalf("not ready after the project loaded: %s", s.notReady())
	}
	m := scrape(t, s)
	for _, want := range []string{
		`flowproc_reloads_total{result="partial"} 1`, `flowproc_reloads_total{result="failure"} 1`,
		`flowproc_reloads_total{result="success"} 1`, "flowproc_reload_last_timestamp_seconds 1.700000001e+09",
		"flowproc_reload_last_success 1", `flowproc_project_loaded{project="shop"} 1`,
		`flowproc_project_load_success{project="shop"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
