package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flowproc/flowproc/extproc"
	"github.com/flowproc/flowproc/flowengine/projects"
	"github.com/flowproc/flowproc/internal/adminapi"
	"github.com/flowproc/flowproc/internal/tracehub"
)

// apiStack is the trace hub and the API listener of serve and dev
// (docs/trace.md). A nil *apiStack is the API switched off.
type apiStack struct {
	hub *tracehub.Hub
	l   *adminapi.Listener
	reg *projects.Registry
	srv *adminapi.Server
	// reloaded reports the API's reloads like SIGHUP's (metrics, log).
	reloaded func(trigger string, rep projects.ReloadReport, err error)
	// anyPort: when the address is taken, bind a free port instead (dev's
	// default address).
	anyPort bool
}

// apiOptions are the API settings serve and dev share.
type apiOptions struct {
	listen      adminapi.Config
	maskHeaders string // comma-separated header names
	maxSessions string // "" = default
	// ui keeps the trace hub when the API listener is off: the trace web
	// page on the admin listener needs it (traceui.go).
	ui bool
	// reloaded, when set, is called after every reload through the API
	// (reloadHooks.reloaded: metrics, load states, log).
	reloaded func(trigger string, rep projects.ReloadReport, err error)
}

// newAPIStack checks the settings and builds the hub; nil when the API is
// off. reg, when non-nil, backs Status, Reload and the project filter.
func newAPIStack(o apiOptions, reg *projects.Registry) (*apiStack, error) {
	l, err := o.listen.Check()
	if err != nil || (l == nil && !o.ui) {
		return nil, err
	}
	hopts := tracehub.Options{}
	if o.maxSessions != "" {
		n, err := strconv.Atoi(o.maxSessions)
		if err != nil || n < 1 || n > 10000 {
			return nil, fmt.Errorf("trace max sessions %q: want a number in [1, 10000]", o.maxSessions)
		}
		hopts.MaxSessions = n
	}
	for _, h := range strings.Split(o.maskHeaders, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hopts.MaskHeaders = append(hopts.MaskHeaders, h)
		}
	}
	if reg != nil {
		hopts.Projects = reg.Names
		hopts.Kind = func(name string) string {
			for _, e := range reg.Set().Entries() {
				if e.Name == name {
					return e.Kind
				}
			}
			return ""
		}
	}
	hub, err := tracehub.New(hopts)
	if err != nil {
		return nil, err
	}
	return &apiStack{hub: hub, l: l, reg: reg, reloaded: o.reloaded}, nil
}

// tracing is the extproc.Options.Tracing value: nil when the API is off.
func (a *apiStack) tracing() extproc.Tracing {
	if a == nil {
		return nil
	}
	return a.hub
}

// start registers the hub's metrics on metrics, binds the listener and
// prints its address to stdout with prefix.
func (a *apiStack) start(metrics prometheus.Registerer, stdout io.Writer, prefix string) error {
	if a == nil {
		return nil
	}
	if err := a.hub.RegisterMetrics(metrics); err != nil {
		return err
	}
	if a.l == nil {
		return nil // the hub serves only the trace web page
	}
	svc := adminapi.NewService(a.hub, a.reg).OnReload(a.reloaded)
	srv, err := a.l.Serve(svc)
	if err != nil && a.anyPort {
		host, _, _ := net.SplitHostPort(a.l.Addr)
		a.l.Addr = net.JoinHostPort(host, "0")
		srv, err = a.l.Serve(svc)
	}
	if err != nil {
		return err
	}
	a.srv = srv
	fmt.Fprintf(stdout, "%sAPI (trace, status, reload) on %s (%s): flowproc trace -addr %s\n", prefix, srv.Addr, a.l.Security, srv.Addr)
	return nil
}

// addr is the bound API address ("" before start or when off).
func (a *apiStack) addr() string {
	if a == nil || a.srv == nil {
		return ""
	}
	return a.srv.Addr
}

// stop closes the API listener and its streams.
func (a *apiStack) stop() {
	if a != nil && a.srv != nil {
		a.srv.Stop()
	}
}

// apiOptions are the API settings of a serve configuration.
func (st *settings) apiOptions() apiOptions {
	return apiOptions{
		listen: adminapi.Config{Addr: st.API, Cert: st.APITLS.Cert, Key: st.APITLS.Key, ClientCA: st.APITLS.ClientCA,
			TokenFile: st.APITokenFile, ExtProcAddr: st.Listen},
		maskHeaders: st.TraceMaskHeaders,
		maxSessions: st.TraceMaxSessions,
		ui:          st.TraceUI,
		reloaded:    st.apiReloaded,
	}
}

// registryOf returns the registry behind a resolver (nil for another
// resolver: the API then has no Status and Reload).
func registryOf(res extproc.Resolver) *projects.Registry {
	reg, _ := res.(*projects.Registry)
	return reg
}

// anyPortIfDefault lets dev bind a free port when -api was not given and
// the default address is taken (another dev running).
func (a *apiStack) anyPortIfDefault(fs *flag.FlagSet) {
	if a == nil {
		return
	}
	a.anyPort = true
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "api" {
			a.anyPort = false
		}
	})
}
