package engine

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine"
)

// testLB builds a load balancer over servers named by spec: "a" primary
// with weight 1, "a*3" weight 3, "fb!" a fallback.
func testLB(algorithm string, maxFailures int, spec ...string) *loadBalancer {
	lb := newLoadBalancer(algorithm)
	lb.maxFailures = int32(maxFailures)
	for _, s := range spec {
		sv := &lbServer{weight: 1}
		if n, w, ok := strings.Cut(s, "*"); ok {
			s, sv.weight = n, atoi(w)
		}
		if n, ok := strings.CutSuffix(s, "!"); ok {
			s, sv.fallback = n, true
		}
		sv.name = s
		sv.u = &url.URL{Scheme: "http", Host: s + ".internal"}
		lb.add(sv)
	}
	return lb
}

func (lb *loadBalancer) byName(name string) *lbServer {
	for _, s := range lb.servers {
		if s.name == name {
			return s
		}
	}
	return nil
}

// TestLoadBalancerRotation drives a balancer through failures, successes,
// probes and the passing of TargetDisableSecs, checking the servers the
// next picks land on after each step.
func TestLoadBalancerRotation(t *testing.T) {
	type step struct {
		op    string // "fail a", "ok a", "probe+ a", "probe- a", "expire a" (its TargetDisableSecs are over)
		picks string // the next picks, space-separated ("-" = none in rotation)
	}
	tests := []struct {
		name      string
		algorithm string
		max       int
		monitored bool
		servers   []string
		steps     []step
	}{
		{"round robin skips a server out of rotation", "", 2, false, []string{"a", "b", "c"}, []step{
			{"", "a b c a"},
			{"fail b", "b c a b"},
			{"fail b", "c a c a"},
		}},
		{"a success resets the count", "", 2, false, []string{"a", "b"}, []step{
			{"fail a", "a b"},
			{"ok a", "a b"},
			{"fail a", "a b"},
			{"fail a", "b b"},
		}},
		{"MaxFailures 0 never takes a server out", "", 0, false, []string{"a", "b"}, []step{
			{"fail a", ""}, {"fail a", ""}, {"fail a", "a b a b"},
		}},
		{"fallback takes over, primaries come back after TargetDisableSecs", "", 1, false, []string{"a", "b", "fb!"}, []step{
			{"", "a b a"},
			{"fail a", "b b"},
			{"fail b", "fb fb"},
			{"fail fb", "- -"},
			{"expire a", "a a"},
			{"expire b", "b a b"},
		}},
		{"with a HealthMonitor only a probe brings a server back", "", 1, true, []string{"a", "b"}, []step{
			{"fail a", "b b"},
			{"expire a", "b b"},
			{"probe+ a", "a b"},
			{"probe- b", "a a"},
			{"probe+ b", "b a"},
		}},
		{"failed probes count like failed requests", "", 2, true, []string{"a", "b"}, []step{
			{"probe- a", "a b"},
			{"probe- a", "b b"},
		}},
		{"weighted keeps the weights of the servers in rotation", "Weighted", 1, false, []string{"a*2", "b", "c"}, []step{
			{"", "a a b c a a b c"},
			{"fail b", "a a c a a c a a"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lb := testLB(tt.algorithm, tt.max, tt.servers...)
			if tt.monitored {
				lb.monitor = &healthMonitor{}
			}
			for i, st := range tt.steps {
				if op, name, ok := strings.Cut(st.op, " "); ok {
					s := lb.byName(name)
					switch op {
					case "fail":
						lb.record(s, true)
					case "ok":
						lb.record(s, false)
					case "probe+":
						lb.probed(s, true)
					case "probe-":
						lb.probed(s, false)
					case "expire":
						if d := s.downUntil.Load(); d != 0 && d != downForever {
							s.downUntil.Store(time.Now().Add(-time.Millisecond).UnixNano())
						}
					}
				}
				if st.picks == "" {
					continue
				}
				var got []string
				for range strings.Fields(st.picks) {
					s := lb.pick(0)
					if s == nil {
						got = append(got, "-")
						continue
					}
					got = append(got, s.name)
				}
				if g := strings.Join(got, " "); g != st.picks {
					t.Errorf("step %d (%s): picks %q, want %q", i, st.op, g, st.picks)
				}
			}
		})
	}
}

// TestLoadBalancerDisableTime pins how long a server stays out without a
// HealthMonitor: TargetDisableSecs, 300 s when the bundle does not say.
func TestLoadBalancerDisableTime(t *testing.T) {
	lb := testLB("", 1, "a", "b")
	before := time.Now()
	lb.record(lb.servers[0], true)
	until := time.Unix(0, lb.servers[0].downUntil.Load())
	if d := until.Sub(before); d < 300*time.Second || d > 301*time.Second {
		t.Errorf("out of rotation for %v, want 300s", d)
	}
	lb.disable = 20 * time.Millisecond
	lb.record(lb.servers[1], true)
	if lb.inRotation(lb.servers[1]) {
		t.Fatal("b still in rotation")
	}
	time.Sleep(30 * time.Millisecond)
	if !lb.inRotation(lb.servers[1]) || lb.servers[1].fails.Load() != 0 {
		t.Errorf("b did not come back with a fresh count: fails %d", lb.servers[1].fails.Load())
	}
}

func TestLoadBalancerExclude(t *testing.T) {
	lb := testLB("", 0, "a", "b", "c")
	if s := lb.pick(bit(0) | bit(1)); s == nil || s.name != "c" {
		t.Errorf("pick excluding a, b = %v", s)
	}
	if s := lb.pick(bit(0) | bit(1) | bit(2)); s != nil {
		t.Errorf("pick excluding all = %v", s.name)
	}
}

func TestLoadBalancerFailed(t *testing.T) {
	lb := testLB("", 1, "a")
	lb.unhealthy = []int{500, 502}
	tests := []struct {
		resp flowengine.Response
		want bool
	}{
		{flowengine.Response{Status: 200, CodeDetails: "via_upstream"}, false},
		{flowengine.Response{Status: 503, CodeDetails: "via_upstream"}, false},
		{flowengine.Response{Status: 500, CodeDetails: "via_upstream"}, true},
		{flowengine.Response{Status: 502, CodeDetails: "via_upstream"}, true},
		{flowengine.Response{Status: 503, CodeDetails: "upstream_reset_before_response_started{connection_failure}"}, true},
		{flowengine.Response{Status: 504, CodeDetails: "response_timeout"}, true},
	}
	for _, tt := range tests {
		if got := lb.failed(&tt.resp); got != tt.want {
			t.Errorf("%d %s: failed = %v, want %v", tt.resp.Status, tt.resp.CodeDetails, got, tt.want)
		}
	}
}

// TestLoadBalancerNoAllocs: picking and counting a success allocate
// nothing.
func TestLoadBalancerNoAllocs(t *testing.T) {
	for _, alg := range []string{"", "Weighted", "LeastConnections"} {
		lb := testLB(alg, 3, "a", "b*2", "fb!")
		resp := &flowengine.Response{Status: 200, CodeDetails: "via_upstream"}
		if n := testing.AllocsPerRun(200, func() {
			s := lb.pick(0)
			lb.record(s, lb.failed(resp))
		}); n != 0 {
			t.Errorf("%q: %v allocations per pick", alg, n)
		}
	}
}

// TestLoadBalancerConcurrent runs picks, failures and probes at once
// (for -race).
func TestLoadBalancerConcurrent(t *testing.T) {
	lb := testLB("", 2, "a", "b", "fb!")
	lb.disable = time.Millisecond
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 2000; i++ {
				if s := lb.pick(0); s != nil {
					lb.record(s, i%3 == 0)
				}
				if i%100 == 0 {
					lb.probed(lb.servers[i%3], i%200 == 0)
				}
			}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}
