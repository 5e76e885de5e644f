package engine

import (
	"math"
	"math/rand/v2"
	"net/url"
	"slices"
	"sync/atomic"
	"time"

	"github.com/flowproc/flowproc/flowengine"
)

// loadBalancer is a TargetEndpoint's <LoadBalancer>: its servers, where
// each stands in rotation, and what a failure does.
//
// Apigee's semantics, as its docs ("Load balancing across backend
// servers", TargetEndpoint reference) describe them and as flowproc keeps
// them:
//   - a failure is a missing response (connection failure, timeout: Envoy's
//     local replies) or a status listed in ServerUnhealthyResponse; any
//     other response resets the server's count of consecutive failures;
//   - at MaxFailures failures (0, the default: never) the server leaves
//     rotation; fallback servers take over when no primary server is in
//     rotation; with none at all the request fails with NoActiveTargets;
//   - without an enabled HealthMonitor the server comes back after
//     TargetDisableSecs (an Apigee X element, 300 s by default; Edge's docs
//     only say a redeploy brings it back, so flowproc follows X); with one,
//     it comes back when a probe succeeds, and failed probes count as
//     failures too.
//
// The state lives in the loaded project: a reload starts fresh, and each
// flowproc process counts for itself (as each Apigee message processor
// does). It is atomics only: picking a server allocates nothing.
type loadBalancer struct {
	servers     []*lbServer // in bundle order; idx is the position
	primary     []*lbServer
	fallback    []*lbServer
	primaryW    int // total weight of primary, fallback
	fallbackW   int
	algorithm   string
	n           atomic.Uint64
	maxFailures int32
	retry       bool
	unhealthy   []int
	disable     time.Duration
	monitor     *healthMonitor // nil: none, or not enabled
}

// downForever marks a server out of rotation until a probe succeeds.
const downForever = math.MaxInt64

type lbServer struct {
	name     string
	url      string
	u        *url.URL
	weight   int
	fallback bool
	idx      int
	// fails counts consecutive failures; downUntil is 0 while the server
	// is in rotation, else the Unix time (ns) it returns or downForever.
	fails     atomic.Int32
	downUntil atomic.Int64
}

// noActiveTargets is Apigee's fault when no server is in rotation.
func noActiveTargets() *Fault {
	return &Fault{Name: "NoActiveTargets", Code: "messaging.adaptors.http.flow.NoActiveTargets", Status: 503, Message: "The Service is temporarily unavailable"}
}

func newLoadBalancer(algorithm string) *loadBalancer {
	return &loadBalancer{algorithm: algorithm, retry: true, disable: 300 * time.Second}
}

// add appends a server.
func (lb *loadBalancer) add(s *lbServer) {
	s.idx = len(lb.servers)
	lb.servers = append(lb.servers, s)
	if s.fallback {
		lb.fallback = append(lb.fallback, s)
		lb.fallbackW += s.weight
	} else {
		lb.primary = append(lb.primary, s)
		lb.primaryW += s.weight
	}
}

// pick chooses a server in rotation that exclude (a bit per server index)
// does not name: RoundRobin (default) cycles over the primary servers,
// Weighted cycles in proportion to their weights, LeastConnections (which
// flowproc cannot count, Envoy holds the connections) picks at random. A
// turn that lands on a server out of rotation goes on to the next turn,
// so the servers in rotation share the load evenly. Fallback servers
// are picked the same way when no primary server is in rotation. nil
// means none is.
func (lb *loadBalancer) pick(exclude uint64) *lbServer {
	var now int64
	if s := lb.pickFrom(lb.primary, lb.primaryW, exclude, &now); s != nil {
		return s
	}
	return lb.pickFrom(lb.fallback, lb.fallbackW, exclude, &now)
}

func (lb *loadBalancer) pickFrom(list []*lbServer, total int, exclude uint64, now *int64) *lbServer {
	n := len(list)
	if n == 0 {
		return nil
	}
	switch lb.algorithm {
	case "Weighted":
		// A turn that lands on a server out of rotation is drawn again,
		// so the others keep their proportions.
		for range total {
			k := int(lb.n.Add(1)-1) % total
			i := 0
			for ; i < n-1 && k >= list[i].weight; i++ {
				k -= list[i].weight
			}
			if lb.available(list[i], exclude, now) {
				return list[i]
			}
		}
	case "LeastConnections":
		start := rand.IntN(n)
		for i := range n {
			if s := list[(start+i)%n]; lb.available(s, exclude, now) {
				return s
			}
		}
	default:
		for range n {
			if s := list[int(lb.n.Add(1)-1)%n]; lb.available(s, exclude, now) {
				return s
			}
		}
	}
	return nil
}

// available reports whether s is in rotation and not excluded; a server
// whose TargetDisableSecs are over returns to rotation here.
func (lb *loadBalancer) available(s *lbServer, exclude uint64, now *int64) bool {
	if s.idx < 64 && exclude&(1<<s.idx) != 0 {
		return false
	}
	d := s.downUntil.Load()
	if d == 0 {
		return true
	}
	if d == downForever {
		return false
	}
	if *now == 0 {
		*now = time.Now().UnixNano()
	}
	if *now < d {
		return false
	}
	if s.downUntil.CompareAndSwap(d, 0) {
		s.fails.Store(0)
	}
	return true
}

// failed reports whether resp counts against the server that sent it.
func (lb *loadBalancer) failed(resp *flowengine.Response) bool {
	return resp.UpstreamFailure() != flowengine.NoUpstreamFailure || slices.Contains(lb.unhealthy, resp.Status)
}

// record counts a response of s: a failure, or a success that resets
// the count. The happy path only reads.
func (lb *loadBalancer) record(s *lbServer, failed bool) {
	if lb.maxFailures == 0 {
		return
	}
	if !failed {
		if s.fails.Load() != 0 {
			s.fails.Store(0)
		}
		return
	}
	if s.fails.Add(1) < lb.maxFailures {
		return
	}
	until := int64(downForever)
	if lb.monitor == nil {
		until = time.Now().Add(lb.disable).UnixNano()
	}
	s.downUntil.CompareAndSwap(0, until)
}

// probed takes a HealthMonitor probe's result: success puts s back in
// rotation, failure counts as one.
func (lb *loadBalancer) probed(s *lbServer, ok bool) {
	if !ok {
		lb.record(s, true)
		return
	}
	s.fails.Store(0)
	s.downUntil.Store(0)
}

// inRotation reports whether s stands in rotation now (for tests and the
// probe loop's log).
func (lb *loadBalancer) inRotation(s *lbServer) bool {
	var now int64
	return lb.available(s, 0, &now)
}
