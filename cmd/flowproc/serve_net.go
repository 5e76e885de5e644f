package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/flowproc/flowproc/extproc"
	"github.com/flowproc/flowproc/flowengine/projects"
)

// netConfig are serve's network hardening settings: gRPC serving limits,
// the stream wait timeout, reflection, the readiness rule and TLS
// reloading (docs/server.md, "Serving limits"). Durations are Go durations;
// "0" disables a limit.
type netConfig struct {
	// MaxConcurrentStreams is the most ext_proc streams per connection.
	MaxConcurrentStreams scalar `json:"maxConcurrentStreams"`
	// MaxConnectionIdle closes a connection without streams after it.
	MaxConnectionIdle scalar `json:"maxConnectionIdle"`
	// MaxConnectionAge sends GOAWAY to a connection this old.
	MaxConnectionAge scalar `json:"maxConnectionAge"`
	// MaxConnectionAgeGrace is how long an aged connection's streams may
	// finish.
	MaxConnectionAgeGrace scalar `json:"maxConnectionAgeGrace"`
	// KeepaliveTime pings a silent connection after it.
	KeepaliveTime scalar `json:"keepaliveTime"`
	// KeepaliveTimeout closes a connection whose ping is not answered
	// within it.
	KeepaliveTimeout scalar `json:"keepaliveTimeout"`
	// StreamWaitTimeout bounds each wait for Envoy's next message; "auto"
	// derives it from MessageTimeout.
	StreamWaitTimeout scalar `json:"streamWaitTimeout"`
	// Reflection registers gRPC server reflection.
	Reflection bool `json:"reflection"`
	// ReadyWhen is "all" or "any" (extproc.ReadyRule).
	ReadyWhen scalar `json:"readyWhen"`
	// TLSReloadInterval is how often the TLS files are checked for changes
	// ("0": on SIGHUP only).
	TLSReloadInterval scalar `json:"tlsReloadInterval"`
}

// scalar is a config value given as a YAML string or number (0, 1000):
// written either way it means the same.
type scalar string

// UnmarshalJSON accepts a JSON string or number.
func (s *scalar) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err == nil {
		*s = scalar(str)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("want a string or a number, got %s", b)
	}
	*s = scalar(n.String())
	return nil
}

func defaultNetConfig() netConfig {
	d := func(v time.Duration) scalar { return scalar(v.String()) }
	return netConfig{
		MaxConcurrentStreams:  scalar(strconv.Itoa(extproc.DefaultMaxConcurrentStreams)),
		MaxConnectionIdle:     d(extproc.DefaultMaxConnectionIdle),
		MaxConnectionAge:      d(extproc.DefaultMaxConnectionAge),
		MaxConnectionAgeGrace: d(extproc.DefaultMaxConnectionAgeGrace),
		KeepaliveTime:         d(extproc.DefaultKeepaliveTime),
		KeepaliveTimeout:      d(extproc.DefaultKeepaliveTimeout),
		StreamWaitTimeout:     "auto",
		ReadyWhen:             "all",
		TLSReloadInterval:     d(extproc.DefaultTLSReloadInterval),
	}
}

// netSettings is a netConfig parsed and checked.
type netSettings struct {
	limits extproc.Limits
	// wait is the stream wait timeout for extproc.Options: 0 derives it
	// from the message timeout, negative disables it.
	wait              time.Duration
	reflection        bool
	ready             extproc.ReadyRule
	tlsReloadInterval time.Duration
	// certs serve and reload the TLS files (nil: plaintext).
	certs *extproc.CertReloader
	// attach, when set, is called with the server once it exists
	// (projectTracker.attach).
	attach func(*extproc.Server)
}

// check parses the settings.
func (c netConfig) check() (netSettings, error) {
	var ns netSettings
	n, err := strconv.ParseUint(string(c.MaxConcurrentStreams), 10, 32)
	if err != nil || n == 0 {
		return ns, fmt.Errorf("max concurrent streams %q: want a positive number such as 1000", c.MaxConcurrentStreams)
	}
	ns.limits.MaxConcurrentStreams = uint32(n)
	for _, d := range []struct {
		name string
		val  scalar
		dst  *time.Duration
	}{
		{"max connection idle", c.MaxConnectionIdle, &ns.limits.MaxConnectionIdle},
		{"max connection age", c.MaxConnectionAge, &ns.limits.MaxConnectionAge},
		{"max connection age grace", c.MaxConnectionAgeGrace, &ns.limits.MaxConnectionAgeGrace},
		{"keepalive time", c.KeepaliveTime, &ns.limits.KeepaliveTime},
		{"keepalive timeout", c.KeepaliveTimeout, &ns.limits.KeepaliveTimeout},
		{"tls reload interval", c.TLSReloadInterval, &ns.tlsReloadInterval},
	} {
		v, err := time.ParseDuration(string(d.val))
		if err != nil || v < 0 {
			return ns, fmt.Errorf("%s %q: want a duration such as 30s, or 0 to disable", d.name, d.val)
		}
		if v == 0 {
			v = -1 // extproc.Limits: negative disables, 0 would mean "default"
		}
		*d.dst = v
	}
	if ns.tlsReloadInterval < 0 {
		ns.tlsReloadInterval = 0
	}
	if ns.limits.KeepaliveTime > 0 && ns.limits.KeepaliveTime < time.Second {
		return ns, fmt.Errorf("keepalive time %q: want at least 1s (grpc-go raises anything lower to 1s)", c.KeepaliveTime)
	}
	switch c.StreamWaitTimeout {
	case "auto", "":
	default:
		v, err := time.ParseDuration(string(c.StreamWaitTimeout))
		if err != nil || v < 0 {
			return ns, fmt.Errorf("stream wait timeout %q: want auto, a duration such as 2m, or 0 to disable", c.StreamWaitTimeout)
		}
		ns.wait = v
		if v == 0 {
			ns.wait = -1
		}
	}
	ns.reflection = c.Reflection
	if ns.ready, err = extproc.ParseReadyRule(string(c.ReadyWhen)); err != nil {
		return ns, err
	}
	return ns, nil
}

// projectStates are the load states of the projects in set, for readiness
// and the metrics.
func projectStates(set *projects.Set) []extproc.ProjectState {
	entries := set.Entries()
	out := make([]extproc.ProjectState, 0, len(entries))
	for _, e := range entries {
		p := extproc.ProjectState{Name: e.Name, Loaded: len(e.Errors) == 0}
		switch {
		case len(e.Errors) > 0:
			p.Error = string(e.Errors[0].Code)
		case len(e.ReloadErrors) > 0:
			p.Error = string(e.ReloadErrors[0].Code)
		}
		out = append(out, p)
	}
	return out
}

// projectTracker hands project load states and reloads to the server once it
// exists: the projects load (and may reload) before serve creates it.
type projectTracker struct {
	reg *projects.Registry

	mu  sync.Mutex
	srv *extproc.Server
}

// attach starts reporting to srv with the current states.
func (p *projectTracker) attach(srv *extproc.Server) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.srv = srv
	srv.SetProjects(projectStates(p.reg.Set()))
}

// wrap returns a reloadHooks.reloaded hook that reports each reload to the
// server, then calls next.
func (p *projectTracker) wrap(next func(string, projects.ReloadReport, error)) func(string, projects.ReloadReport, error) {
	return func(trigger string, rep projects.ReloadReport, err error) {
		p.mu.Lock()
		if p.srv != nil {
			p.srv.RecordReload(time.Now(), err == nil, projectStates(p.reg.Set()))
		}
		p.mu.Unlock()
		if next != nil {
			next(trigger, rep, err)
		}
	}
}

// startCertReloading reloads the TLS files on SIGHUP and, unless the
// interval is 0, when their contents change. stop ends it.
func startCertReloading(ctx context.Context, certs *extproc.CertReloader, interval time.Duration, logger *slog.Logger) (stop func()) {
	if certs == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	report := func(trigger string) func(bool, error) {
		return func(changed bool, err error) {
			switch {
			case err != nil:
				logger.Error("TLS reload failed; the previous certificates keep serving", "trigger", trigger, "error", err.Error())
			case changed:
				logger.Info("TLS certificates reloaded; new connections use them", "trigger", trigger)
			}
		}
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				changed, err := certs.Reload()
				report("SIGHUP")(changed, err)
			}
		}
	})
	if interval > 0 {
		wg.Go(func() { certs.Watch(ctx, interval, report("file change")) })
	}
	return func() {
		signal.Stop(hup)
		cancel()
		wg.Wait()
	}
}
