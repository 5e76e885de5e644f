package extproc

import (
	"fmt"
	"strings"
	"sync"
	"time"

	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"
)

// ReadyRule says which projects must have loaded for the server to be
// ready (Options.ReadyWhen).
type ReadyRule int

const (
	// ReadyAll (the default): every project has a version that serves. A
	// project that has never loaded (its routes answer 503) keeps the whole
	// server NOT_SERVING, so a rollout with a broken project stops instead
	// of replacing good replicas.
	ReadyAll ReadyRule = iota
	// ReadyAny: at least one project serves.
	ReadyAny
)

// ParseReadyRule parses "all" or "any".
func ParseReadyRule(s string) (ReadyRule, error) {
	switch s {
	case "all", "":
		return ReadyAll, nil
	case "any":
		return ReadyAny, nil
	}
	return 0, fmt.Errorf("ready rule %q: want all or any", s)
}

// String returns "all" or "any".
func (r ReadyRule) String() string {
	if r == ReadyAny {
		return "any"
	}
	return "all"
}

// ProjectHealthPrefix prefixes a project's name to form its gRPC health
// service name ("flowproc.project/shop"): SERVING while a version of the
// project serves, NOT_SERVING while its routes answer 503.
const ProjectHealthPrefix = "flowproc.project/"

// LivenessService is a gRPC health service name that is SERVING while the
// server runs (until Drain), whatever the projects' states: the one for
// liveness probes, which must not restart a replica whose project is broken
// (readiness, service "" and ServiceName, keeps it out of traffic instead).
const LivenessService = "flowproc.liveness"

// ProjectState is one project's load state, as readiness and the metrics see
// it.
type ProjectState struct {
	// Name is the project's name.
	Name string
	// Loaded: a version of the project serves (it loaded now or earlier).
	Loaded bool
	// Error is the first error code of the project's latest failed load
	// ("" when the latest load succeeded).
	Error string
}

// readiness is the project part of the server's readiness.
type readiness struct {
	rule ReadyRule

	healthMu sync.Mutex // serialises updateHealth
	mu       sync.Mutex
	// known: SetProjects was called; before that only registration and
	// draining count (a server without project tracking).
	known    bool
	projects []ProjectState
	reason   string // why not ready; "" when ready
}

// evaluate computes the reason the projects keep the server from being
// ready under rule ("" when they do not).
func evaluate(rule ReadyRule, ps []ProjectState) string {
	var failing []string
	for _, p := range ps {
		if p.Loaded {
			if rule == ReadyAny {
				return ""
			}
			continue
		}
		code := p.Error
		if code == "" {
			code = "no error code"
		}
		failing = append(failing, fmt.Sprintf("project %s has never loaded (%s)", p.Name, code))
	}
	switch {
	case len(ps) == 0:
		return "no projects"
	case len(failing) == 0:
		return ""
	case rule == ReadyAny:
		return "no project has loaded: " + strings.Join(failing, "; ")
	}
	return strings.Join(failing, "; ")
}

// SetProjects records the projects' load states, at start and after every
// reload. With them the server is ready only as Options.ReadyWhen says:
// gRPC health ("" and ServiceName) and /readyz turn NOT_SERVING, with the
// reason on /readyz and in the log, while a required project has never
// loaded. Each project's own health service (ProjectHealthPrefix + name)
// follows its Loaded state, and flowproc_project_loaded and
// flowproc_project_load_success follow them too.
func (s *Server) SetProjects(states []ProjectState) {
	states = append([]ProjectState(nil), states...)
	r := &s.ready
	r.mu.Lock()
	before := r.reason
	r.known, r.projects = true, states
	r.reason = evaluate(r.rule, states)
	reason := r.reason
	r.mu.Unlock()
	s.metrics.setProjects(states)
	if reason != "" && reason != before {
		s.log.Warn("not ready", "reason", reason, "readyWhen", r.rule.String())
	}
	s.updateHealth()
}

// RecordReload records that a reload finished at the given time: ok is
// false when it was rejected as a whole. The projects' outcomes come with
// the SetProjects call that follows a reload.
func (s *Server) RecordReload(at time.Time, ok bool, states []ProjectState) {
	result := "success"
	switch {
	case !ok:
		result = "failure"
	default:
		for _, p := range states {
			if p.Error != "" {
				result = "partial"
				break
			}
		}
	}
	s.metrics.recordReload(at, result)
	if ok {
		s.SetProjects(states)
	}
}

// notReady returns why the server is not ready ("" when it is).
func (s *Server) notReady() string {
	switch {
	case s.draining.Load():
		return "draining"
	case !s.registered.Load():
		return "not serving"
	}
	s.ready.mu.Lock()
	defer s.ready.mu.Unlock()
	if s.ready.known {
		return s.ready.reason
	}
	return ""
}

// updateHealth sets the gRPC health statuses from the readiness state. After
// Drain the health server ignores updates (everything stays NOT_SERVING).
func (s *Server) updateHealth() {
	if !s.registered.Load() || s.draining.Load() {
		return
	}
	s.ready.healthMu.Lock()
	defer s.ready.healthMu.Unlock()
	st := healthgrpc.HealthCheckResponse_SERVING
	if s.notReady() != "" {
		st = healthgrpc.HealthCheckResponse_NOT_SERVING
	}
	s.health.SetServingStatus("", st)
	s.health.SetServingStatus(ServiceName, st)
	s.health.SetServingStatus(LivenessService, healthgrpc.HealthCheckResponse_SERVING)
	s.ready.mu.Lock()
	ps := s.ready.projects
	s.ready.mu.Unlock()
	for _, p := range ps {
		pst := healthgrpc.HealthCheckResponse_SERVING
		if !p.Loaded {
			pst = healthgrpc.HealthCheckResponse_NOT_SERVING
		}
		s.health.SetServingStatus(ProjectHealthPrefix+p.Name, pst)
	}
}
