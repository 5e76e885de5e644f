package policies

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

// pcase is one policy table-test case: a policy, the exchange it runs on,
// and what must follow.
type pcase struct {
	name      string
	policy    string
	resources map[string]string
	loadErr   string // substring of the load diagnostics ("" = must load)
	seg       engine.Segment
	method    string
	path      string
	suffix    string // proxy.pathsuffix
	body      string
	headers   []string
	response  *engine.Message
	setup     func(r *engine.Run)
	vars      map[string]string // variable → string value ("<unset>" = must be absent)
	fault     string            // fault code ("" = no fault)
	faultMsg  string            // exact faultstring, when given
	check     func(t *testing.T, r *engine.Run)
}

const unset = "<unset>"

func runCases(t *testing.T, cases []pcase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pol, errs := engine.TestPolicy(c.policy, c.resources, nil)
			if c.loadErr != "" {
				if len(errs) == 0 || !strings.Contains(errs.Error(), c.loadErr) {
					t.Fatalf("load errors %v, want %q", errs, c.loadErr)
				}
				return
			}
			if len(errs) > 0 || pol == nil {
				t.Fatalf("load: %v", errs)
			}
			seg, method, path := c.seg, c.method, c.path
			if seg == "" {
				seg = engine.ProxyRequest
			}
			if method == "" {
				method = "GET"
			}
			if path == "" {
				path = "/"
			}
			r := engine.TestRun(context.Background(), seg, method, path, []byte(c.body), c.response, c.headers...)
			r.SetTestProxyPath("/base", c.suffix)
			if c.setup != nil {
				c.setup(r)
			}
			err := pol.Execute(r)
			var f *engine.Fault
			switch {
			case c.fault == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case c.fault != "":
				if !errors.As(err, &f) || f.Code != c.fault {
					t.Fatalf("error %v, want fault %s", err, c.fault)
				}
				if c.faultMsg != "" && f.Message != c.faultMsg {
					t.Fatalf("faultstring %q, want %q", f.Message, c.faultMsg)
				}
			}
			for name, want := range c.vars {
				got, ok := r.Get(name)
				if want == unset {
					if ok {
						t.Errorf("%s = %q, want unset", name, got)
					}
					continue
				}
				if !ok || got != want {
					t.Errorf("%s = %q (set %v), want %q", name, got, ok, want)
				}
			}
			if c.check != nil {
				c.check(t, r)
			}
		})
	}
}
