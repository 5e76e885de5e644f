package flat

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/flowproc/flowproc/envoy"
	"github.com/flowproc/flowproc/extproc"
	"github.com/flowproc/flowproc/extproc/extproctest"
	"github.com/flowproc/flowproc/flowengine"
)

// The extproc leg of the case suite: every case that can be reproduced
// through Envoy runs once more through the real ext_proc server, driven by
// the Envoy-faithful client with the shipped envoy.yaml filter config, and
// what the client and the upstream see must match the engine's outcome for
// the same request. Cases whose host behaviour Envoy cannot produce (a
// scripted body_error or upstream_error) run in the engine only; a case
// may also say engine_only: "why".

// connectFailureDetails is the response.code_details of the client's
// local reply for an upstream it cannot reach.
const connectFailureDetails = "upstream_reset_before_response_started{connection_failure}"

// caseServer is one extproc server and Envoy-faithful client for all cases.
type caseServer struct {
	client *envoy.Client
	cur    atomic.Pointer[flowengine.Runner]
}

// extprocLegRuns counts the cases that ran through extproc.
var extprocLegRuns atomic.Int64

func (s *caseServer) Resolve(string, string) (flowengine.Runner, string, bool) {
	r := s.cur.Load()
	if r == nil {
		return nil, "", false
	}
	return *r, "case", true
}

// newCaseServer starts the server and client for the cases of t; they stop
// when t ends.
func newCaseServer(t *testing.T) *caseServer {
	t.Helper()
	s := &caseServer{}
	srv := extproc.New(extproc.Options{Resolver: s, Logger: quietLogger})
	fc, err := envoy.ParseFilterConfig(envoy.DefaultConfigYAML)
	if err != nil {
		t.Fatal(err)
	}
	if s.client, err = envoy.NewClient(extproctest.Dial(t, srv), fc); err != nil {
		t.Fatal(err)
	}
	return s
}

// extprocSkip says why a case does not run through extproc ("" = it does).
func extprocSkip(c *langCase) string {
	switch {
	case c.EngineOnly != "":
		return c.EngineOnly
	case c.BodyError != "":
		return "a failing body read is scripted in the host; Envoy has no such failure"
	case c.UpstreamError != "":
		return "a failing forward is scripted in the host; Envoy answers a connect failure itself"
	case c.Upstream != nil && c.Upstream.CodeDetails != "" && c.Upstream.CodeDetails != "via_upstream" &&
		c.Upstream.CodeDetails != connectFailureDetails:
		return "the client produces only the connect-failure local reply from a failing upstream"
	}
	return ""
}

// runCaseThroughExtproc runs c's request through the server and checks it
// against the engine's outcome for the identical request (the one Envoy
// sends carries x-request-id).
func runCaseThroughExtproc(t *testing.T, s *caseServer, c *langCase, p *Project, req *flowengine.Request, newHost func() *fakeHost) {
	t.Helper()
	if why := extprocSkip(c); why != "" {
		return
	}
	extprocLegRuns.Add(1)
	var runner flowengine.Runner = p
	s.cur.Store(&runner)

	ref := *req
	ref.Headers = append(slices.Clone(req.Headers), flowengine.Header{Name: "x-request-id", Value: req.ID})
	sortHeaderList(ref.Headers)
	refHost := newHost()
	want := p.Run(context.Background(), &ref, refHost)

	hreq := &envoy.HTTPRequest{Method: ref.Method, Scheme: ref.Scheme, Authority: ref.Authority, Path: ref.Path,
		Body: refHost.body}
	for _, h := range ref.Headers {
		hreq.Headers = append(hreq.Headers, envoy.Header{Name: h.Name, Value: h.Value})
	}
	if refHost.body != nil && !req.BodyKnownEmpty {
		hreq.Headers = append(hreq.Headers, envoy.Header{Name: "content-length", Value: itoa(len(refHost.body))})
	}
	var got *envoy.HTTPRequest
	up := envoy.UpstreamFunc(func(_ context.Context, r *envoy.HTTPRequest) (*envoy.UpstreamResponse, error) {
		got = r
		h := newHost()
		if h.resp == nil {
			return &envoy.UpstreamResponse{Status: 200}, nil
		}
		if h.resp.LocalReply() {
			// Envoy's local reply: the upstream cannot be reached.
			return nil, errors.New("dial tcp: connection refused")
		}
		ur := &envoy.UpstreamResponse{Status: h.resp.Status, Body: h.respBody}
		for _, x := range h.resp.Headers {
			ur.Headers = append(ur.Headers, envoy.Header{Name: x.Name, Value: x.Value})
		}
		return ur, nil
	})
	resp, err := s.client.Do(context.Background(), hreq, up)
	if err != nil {
		t.Fatalf("extproc leg: %v", err)
	}

	// The client's answer.
	wantStatus := want.Status
	if want.Kind == flowengine.Forwarded && wantStatus == 0 {
		wantStatus = refHost.respStatus()
	}
	if resp.Status != wantStatus {
		t.Errorf("extproc leg: status %d, engine says %d (%s: %s)", resp.Status, wantStatus, resp.Details, resp.Body)
	}
	wantBody := want.Body
	if want.Kind == flowengine.Forwarded && !want.BodySet {
		wantBody = refHost.respBody
	}
	if !bytes.Equal(resp.Body, wantBody) {
		t.Errorf("extproc leg: body %q, engine says %q", resp.Body, wantBody)
	}
	wantHeaders := expectedResponseHeaders(want, refHost)
	if g, w := headerLines(resp.Headers, "content-length"), wantHeaders; g != w {
		t.Errorf("extproc leg: response headers\n got: %s\nwant: %s", g, w)
	}

	// What the upstream saw.
	if want.Kind != flowengine.Forwarded {
		if got != nil {
			t.Errorf("extproc leg: the request went upstream although the engine answered")
		}
		return
	}
	if got == nil {
		t.Fatalf("extproc leg: the request did not reach the upstream")
	}
	fwd := refHost.forwards[0]
	wantPath := ref.Path
	if fwd.Path != "" {
		wantPath = fwd.Path
	}
	if got.Path != wantPath {
		t.Errorf("extproc leg: upstream path %q, engine forwarded %q", got.Path, wantPath)
	}
	for _, h := range fwd.SetHeaders {
		if v := envoyHeader(got.Headers, h.Name); v != h.Value {
			t.Errorf("extproc leg: upstream header %s = %q, engine set %q", h.Name, v, h.Value)
		}
	}
	for _, n := range fwd.RemoveHeaders {
		if v := envoyHeader(got.Headers, n); v != "" {
			t.Errorf("extproc leg: upstream header %s = %q, engine removed it", n, v)
		}
	}
}

// expectedResponseHeaders is the response the client should get for an
// engine outcome: its headers as an answer, or the upstream's headers with
// the outcome's changes applied.
func expectedResponseHeaders(o *flowengine.Outcome, h *fakeHost) string {
	var hs []envoy.Header
	if o.Kind == flowengine.Forwarded && h.resp != nil {
		for _, x := range h.resp.Headers {
			if !slices.Contains(o.RemoveHeaders, x.Name) && !hasHeader(o.SetHeaders, x.Name) {
				hs = append(hs, envoy.Header{Name: x.Name, Value: x.Value})
			}
		}
	}
	for _, x := range o.SetHeaders {
		hs = append(hs, envoy.Header{Name: x.Name, Value: x.Value})
	}
	for _, x := range o.AddHeaders {
		hs = append(hs, envoy.Header{Name: x.Name, Value: x.Value})
	}
	return headerLines(hs, "content-length")
}

func hasHeader(hs []flowengine.Header, name string) bool {
	for _, h := range hs {
		if h.Name == name {
			return true
		}
	}
	return false
}

// headerLines renders headers sorted, without skip (Envoy computes it).
func headerLines(hs []envoy.Header, skip string) string {
	var out []string
	for _, h := range hs {
		if h.Name != skip {
			out = append(out, h.Name+": "+h.Value)
		}
	}
	sort.Strings(out)
	return strings.Join(out, " | ")
}

func envoyHeader(hs []envoy.Header, name string) string {
	for _, h := range hs {
		if h.Name == name {
			return h.Value
		}
	}
	return ""
}

func sortHeaderList(hs []flowengine.Header) {
	sort.SliceStable(hs, func(i, j int) bool { return hs[i].Name < hs[j].Name })
}

func (h *fakeHost) respStatus() int {
	if h.resp == nil {
		return 200
	}
	return h.resp.Status
}
