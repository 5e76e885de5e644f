package flat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/tracetree"
)

// The language case suite (OPA style): every file in testdata/cases holds
// cases of project files + a request (+ the upstream's response) → the
// expected answer or forward, checked exactly. Files given at the top of a
// file are shared by its cases; a case's own files override them.
//
// Exactness: want.headers lists every response header the outcome sets
// (a "" value lists one that must be absent, "*" one present with any value); want.add and want.remove are
// the exact appended and removed headers; want.forward.set and .remove are
// the exact request mutations. Each case runs twice: in the engine with a
// scripted host, and through the real extproc server driven by the
// Envoy-faithful client (cases_extproc_test.go), whose answer and upstream
// request must match the engine's outcome. engine_only: "why" keeps a case
// out of the second leg (scripted body and forward failures are kept out
// automatically). trace: true compares the run's step trace with
// testdata/cases/traces/<file>/<case>.txt; go test ./flowengine/flat -run
// TestCases -update rewrites those golden files.

var (
	caseFilter  = flag.String("case", "", "run only cases whose name contains this")
	updateTrace = flag.Bool("update", false, "rewrite the golden traces of cases with trace: true")
)

type caseFile struct {
	// Request holds defaults for every case's request (method, path).
	Request caseRequest       `json:"request"`
	Files   map[string]string `json:"files"`
	Env     map[string]string `json:"env"`
	Cases   []*langCase       `json:"cases"`
}

type langCase struct {
	Name     string            `json:"name"`
	Files    map[string]string `json:"files"`
	Env      map[string]string `json:"env"`
	Request  caseRequest       `json:"request"`
	Upstream *caseResponse     `json:"upstream"`
	// Side are the routes of a local HTTP server for the case's side
	// calls (request, requests); its base URL is $env/SIDE.
	Side []*sideRoute `json:"side"`
	// UpstreamError makes the host's Forward fail with this message.
	UpstreamError string `json:"upstream_error"`
	// BodyError makes the host's RequestBody fail with this message.
	BodyError string `json:"body_error"`
	MaxBody   int64  `json:"max_body"`
	// EngineOnly keeps the case out of the extproc leg, saying why.
	EngineOnly string `json:"engine_only"`
	// Trace compares the run's trace with the golden file
	// testdata/cases/traces/<file>/<case>.txt (rewritten by -update).
	Trace      bool       `json:"trace"`
	Want       caseWant   `json:"want"`
	WantErrors []caseDiag `json:"want_errors"`
	Skip       string     `json:"skip"`
	loc        string     // file name for messages
}

type caseDiag struct {
	Code string `json:"code"`
	File string `json:"file"`
	Line int    `json:"line"`
	Col  int    `json:"col"`
	Msg  string `json:"msg"` // substring
}

type caseRequest struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Headers map[string]string `json:"headers"`
	Body    *string           `json:"body"`
	JSON    any               `json:"json"` // body as JSON (sets content-type)
}

type caseResponse struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    *string           `json:"body"`
	JSON    any               `json:"json"`
	// CodeDetails is Envoy's response.code_details (flowengine.Response):
	// a value other than via_upstream scripts Envoy's local reply.
	CodeDetails string `json:"code_details"`
}

type caseWant struct {
	// Kind is "answered" or "forwarded".
	Kind    string            `json:"kind"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"` // set headers (exact values; "" = must be absent)
	Add     []string          `json:"add"`     // added headers "name: value"
	Remove  []string          `json:"remove"`  // removed response headers
	Body    *string           `json:"body"`    // exact body
	JSON    any               `json:"json"`    // body compared as JSON
	NoBody  bool              `json:"no_body"` // Forwarded: body not replaced

	Forward   *caseForward `json:"forward"`   // the request mutations; nil = must not forward (answered) unless Kind forwarded
	ReadBody  *bool        `json:"read_body"` // whether the request body was asked for
	ReadResp  *bool        `json:"read_response_body"`
	ErrorCode int          `json:"error_code"`
	Log       any          `json:"log"` // access-log custom fields
	Flow      string       `json:"flow"`
	// SideCalls are the requests the side server received, sorted by
	// "METHOD path?query" (concurrent requests arrive in any order).
	SideCalls []sideCall `json:"side_calls"`
}

type caseForward struct {
	Path      string            `json:"path"`
	Set       map[string]string `json:"set"`
	Remove    []string          `json:"remove"`
	Authority string            `json:"authority"`
}

// fakeHost is a Host for one exchange with scripted answers.
type fakeHost struct {
	body     []byte
	bodyErr  error
	resp     *flowengine.Response
	respBody []byte
	fwdErr   error
	readBody int
	readResp int
	forwards []*flowengine.Mutation
}

func (h *fakeHost) RequestBody(context.Context) ([]byte, error) {
	h.readBody++
	return h.body, h.bodyErr
}

func (h *fakeHost) Forward(_ context.Context, f *flowengine.Mutation) (*flowengine.Response, error) {
	cp := *f
	h.forwards = append(h.forwards, &cp)
	if h.fwdErr != nil {
		return nil, h.fwdErr
	}
	if h.resp == nil {
		return &flowengine.Response{Status: 200, BodyKnownEmpty: true}, nil
	}
	return h.resp, nil
}

func (h *fakeHost) ResponseBody(context.Context) ([]byte, error) {
	h.readResp++
	return h.respBody, nil
}

func loadCases(t *testing.T) []*langCase {
	t.Helper()
	paths, err := filepath.Glob("testdata/cases/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var all []*langCase
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var cf caseFile
		if err := yaml.UnmarshalStrict(data, &cf); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, c := range cf.Cases {
			files := map[string]string{}
			for k, v := range cf.Files {
				files[k] = v
			}
			for k, v := range c.Files {
				files[k] = v
			}
			c.Files = files
			env := map[string]string{}
			for k, v := range cf.Env {
				env[k] = v
			}
			for k, v := range c.Env {
				env[k] = v
			}
			c.Env = env
			if c.Request.Path == "" {
				c.Request.Path = cf.Request.Path
			}
			if c.Request.Method == "" {
				c.Request.Method = cf.Request.Method
			}
			c.loc = filepath.Base(p)
			all = append(all, c)
		}
	}
	return all
}

func TestCases(t *testing.T) {
	cases := loadCases(t)
	if len(cases) == 0 {
		t.Fatal("no cases found in testdata/cases")
	}
	srv := newCaseServer(t)
	seen := map[string]bool{}
	for _, c := range cases {
		name := c.loc + "/" + c.Name
		if seen[name] {
			t.Fatalf("duplicate case name %s", name)
		}
		seen[name] = true
		if *caseFilter != "" && !strings.Contains(name, *caseFilter) {
			continue
		}
		t.Run(name, func(t *testing.T) {
			if c.Skip != "" {
				t.Skip(c.Skip)
			}
			runCase(t, srv, c)
		})
	}
	if *caseFilter == "" {
		runs, loads := extprocLegRuns.Load(), 0
		for _, c := range cases {
			if len(c.WantErrors) == 0 && extprocSkip(c) == "" && c.Skip == "" {
				loads++
			}
		}
		if runs != int64(loads) {
			t.Errorf("%d cases ran through extproc, want every one of the %d that can", runs, loads)
		}
		t.Logf("%d of %d cases also ran through the extproc server and the Envoy-faithful client", runs, len(cases))
	}
}

func writeProject(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "app")
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func runCase(t *testing.T, srv *caseServer, c *langCase) {
	dir := writeProject(t, c.Files)
	env := []string{}
	for k, v := range c.Env {
		env = append(env, k+"="+v)
	}
	var side *sideServer
	if len(c.Side) > 0 {
		side = newSideServer(t, c.Side)
		env = append(env, "SIDE="+side.URL())
	}
	p, errs := Load(dir, Options{Env: env, MaxBodyBytes: c.MaxBody, Logger: quietLogger})
	if len(c.WantErrors) > 0 {
		if p != nil {
			t.Fatalf("project loaded; want errors %v", c.WantErrors)
		}
		checkDiags(t, dir, errs, c.WantErrors)
		return
	}
	if p == nil {
		t.Fatalf("load failed:\n%v", errs)
	}
	req := &flowengine.Request{Method: c.Request.Method, Scheme: "http", Authority: "example.com", Path: c.Request.Path, ID: "test-request-id", AccessLog: true}
	if req.Method == "" {
		req.Method = "GET"
	}
	names := make([]string, 0, len(c.Request.Headers))
	for k := range c.Request.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		req.Headers = append(req.Headers, flowengine.Header{Name: strings.ToLower(k), Value: c.Request.Headers[k]})
	}
	switch {
	case c.Request.JSON != nil:
		if c.Request.Headers["content-type"] == "" {
			req.Headers = append(req.Headers, flowengine.Header{Name: "content-type", Value: "application/json"})
		}
	case c.Request.Body != nil:
	default:
		req.BodyKnownEmpty = true
	}
	if c.BodyError != "" {
		req.BodyKnownEmpty = false
	}
	newHost := func() *fakeHost { return caseHost(c) }
	h := newHost()
	var traced *tracetree.Collector
	if c.Trace {
		traced = &tracetree.Collector{}
		req.Trace = traced
	}
	out := p.Run(context.Background(), req, h)
	req.Trace = nil
	checkOutcome(t, c, h, out)
	if side != nil || len(c.Want.SideCalls) > 0 {
		var got []sideCall
		if side != nil {
			got = side.take()
		}
		checkSideCalls(t, c.Want.SideCalls, got)
	}
	// Client-visible answers never show server paths.
	if bytes.Contains(out.Body, []byte(dir)) || bytes.Contains(out.Body, []byte(filepath.Dir(dir))) {
		t.Errorf("the answer shows a server path: %s", out.Body)
	}
	if traced != nil {
		checkTrace(t, c, traced.Events())
	}
	if out.Recycle != nil && !t.Failed() {
		// A recycled run leaves nothing behind: the case answers alike on
		// the run the pool hands back.
		out.Recycle.Recycle()
		h := newHost()
		again := p.Run(context.Background(), req, h)
		checkOutcome(t, c, h, again)
		if again.Recycle != nil {
			again.Recycle.Recycle()
		}
	}
	if !t.Failed() {
		runCaseThroughExtproc(t, srv, c, p, req, newHost)
	}
}

// caseHost is a fresh host scripted with c's bodies, upstream and errors.
func caseHost(c *langCase) *fakeHost {
	h := &fakeHost{}
	switch {
	case c.Request.JSON != nil:
		h.body, _ = json.Marshal(c.Request.JSON)
	case c.Request.Body != nil:
		h.body = []byte(*c.Request.Body)
	}
	if c.BodyError != "" {
		h.bodyErr = errors.New(c.BodyError)
	}
	if c.UpstreamError != "" {
		h.fwdErr = errors.New(c.UpstreamError)
	}
	if u := c.Upstream; u != nil {
		h.resp = &flowengine.Response{Status: u.Status, CodeDetails: u.CodeDetails}
		if h.resp.Status == 0 {
			h.resp.Status = 200
		}
		hn := make([]string, 0, len(u.Headers))
		for k := range u.Headers {
			hn = append(hn, k)
		}
		sort.Strings(hn)
		for _, k := range hn {
			h.resp.Headers = append(h.resp.Headers, flowengine.Header{Name: strings.ToLower(k), Value: u.Headers[k]})
		}
		switch {
		case u.JSON != nil:
			h.respBody, _ = json.Marshal(u.JSON)
		case u.Body != nil:
			h.respBody = []byte(*u.Body)
		default:
			h.resp.BodyKnownEmpty = true
		}
	}
	return h
}

// checkDiags compares load diagnostics with the expected ones, in order.
// File names are compared relative to the project directory.
func checkDiags(t *testing.T, dir string, errs diag.List, want []caseDiag) {
	t.Helper()
	if len(errs) != len(want) {
		t.Fatalf("got %d diagnostics, want %d:\n%v", len(errs), len(want), errs)
	}
	for i, w := range want {
		e := errs[i]
		file := e.File
		if rel, err := filepath.Rel(dir, file); err == nil {
			file = filepath.ToSlash(rel)
		}
		if string(e.Code) != w.Code {
			t.Errorf("diagnostic %d: code %s, want %s (%v)", i, e.Code, w.Code, e)
		}
		if w.File != "" && file != w.File {
			t.Errorf("diagnostic %d: file %s, want %s (%v)", i, file, w.File, e)
		}
		if w.Line != 0 && e.Line != w.Line {
			t.Errorf("diagnostic %d: line %d, want %d (%v)", i, e.Line, w.Line, e)
		}
		if w.Col != 0 && e.Col != w.Col {
			t.Errorf("diagnostic %d: col %d, want %d (%v)", i, e.Col, w.Col, e)
		}
		if w.Msg != "" && !strings.Contains(e.Msg, w.Msg) {
			t.Errorf("diagnostic %d: message %q does not contain %q", i, e.Msg, w.Msg)
		}
	}
}

func checkOutcome(t *testing.T, c *langCase, h *fakeHost, out *flowengine.Outcome) {
	t.Helper()
	w := c.Want
	dump := func() string {
		return fmt.Sprintf("outcome: kind=%s status=%d set=%v add=%v remove=%v body=%q bodySet=%v code=%q flow=%q log=%s\nforwards=%s",
			out.Kind, out.Status, out.SetHeaders, out.AddHeaders, out.RemoveHeaders, out.Body, out.BodySet, out.Error, out.Flow, out.Log, fmtForwards(h.forwards))
	}
	wantKind := w.Kind
	if wantKind == "" {
		wantKind = "answered"
	}
	if out.Kind.String() != wantKind {
		t.Fatalf("kind = %s, want %s\n%s", out.Kind, wantKind, dump())
	}
	if w.Status != 0 && out.Status != w.Status {
		t.Errorf("status = %d, want %d\n%s", out.Status, w.Status, dump())
	}
	if wantKind == "answered" && w.Status == 0 && out.Status != 200 {
		t.Errorf("status = %d, want 200\n%s", out.Status, dump())
	}
	// Headers are checked exactly: every header the outcome sets must be
	// listed with its value, and "" lists a header that must be absent.
	for name, v := range w.Headers {
		got, ok := headerValue(out.SetHeaders, strings.ToLower(name))
		if v == "" {
			if ok {
				t.Errorf("header %s = %q, want absent\n%s", name, got, dump())
			}
			continue
		}
		if v == "*" { // present, any value (e.g. Last-Modified)
			if !ok {
				t.Errorf("header %s absent, want present\n%s", name, dump())
			}
			continue
		}
		if got != v {
			t.Errorf("header %s = %q, want %q\n%s", name, got, v, dump())
		}
	}
	for _, h := range out.SetHeaders {
		if _, listed := lowerKeys(w.Headers)[h.Name]; !listed {
			t.Errorf("unexpected header %s: %q (want.headers lists every header set)\n%s", h.Name, h.Value, dump())
		}
	}
	var gotAdd []string
	for _, a := range out.AddHeaders {
		gotAdd = append(gotAdd, a.Name+": "+a.Value)
	}
	if strings.Join(gotAdd, "\n") != strings.Join(w.Add, "\n") {
		t.Errorf("added headers = %q, want %q\n%s", gotAdd, w.Add, dump())
	}
	if strings.Join(out.RemoveHeaders, ",") != strings.Join(w.Remove, ",") {
		t.Errorf("removed response headers = %q, want %q\n%s", out.RemoveHeaders, w.Remove, dump())
	}
	if w.Body != nil && string(out.Body) != *w.Body {
		t.Errorf("body = %q, want %q\n%s", out.Body, *w.Body, dump())
	}
	if w.JSON != nil {
		var got any
		if err := json.Unmarshal(out.Body, &got); err != nil {
			t.Errorf("body is not JSON: %v\n%s", err, dump())
		} else {
			wantB, _ := json.Marshal(w.JSON)
			gotB, _ := json.Marshal(got)
			if !bytes.Equal(wantB, gotB) {
				t.Errorf("body JSON = %s, want %s\n%s", gotB, wantB, dump())
			}
		}
	}
	if w.NoBody && out.BodySet {
		t.Errorf("body replaced with %q; want the upstream body to pass\n%s", out.Body, dump())
	}
	if wantKind == "forwarded" || w.Forward != nil {
		if len(h.forwards) != 1 {
			t.Fatalf("forwards = %d, want 1\n%s", len(h.forwards), dump())
		}
	}
	if wantKind == "answered" && w.Forward == nil && len(h.forwards) > 0 && c.Upstream == nil && c.UpstreamError == "" {
		t.Errorf("forwarded although an answer was expected\n%s", dump())
	}
	if f := w.Forward; f != nil {
		g := h.forwards[0]
		gotPath := g.Path
		if gotPath == "" {
			gotPath = "(unchanged)"
		}
		if f.Path != "" && gotPath != f.Path {
			t.Errorf("forward path = %q, want %q", gotPath, f.Path)
		}
		if f.Authority != "" && g.Authority != f.Authority {
			t.Errorf("forward authority = %q, want %q", g.Authority, f.Authority)
		}
		gotSet := map[string]string{}
		for _, s := range g.SetHeaders {
			gotSet[s.Name] = s.Value
		}
		if !equalMaps(gotSet, f.Set) {
			t.Errorf("forward set headers = %v, want %v", gotSet, f.Set)
		}
		{
			got := append([]string(nil), g.RemoveHeaders...)
			wantR := append([]string(nil), f.Remove...)
			sort.Strings(got)
			sort.Strings(wantR)
			if strings.Join(got, ",") != strings.Join(wantR, ",") {
				t.Errorf("forward removed headers = %v, want %v", got, wantR)
			}
		}
	}
	if w.ReadBody != nil && (h.readBody > 0) != *w.ReadBody {
		t.Errorf("request body read = %v, want %v", h.readBody > 0, *w.ReadBody)
	}
	if h.readBody > 1 {
		t.Errorf("request body read %d times", h.readBody)
	}
	if w.ReadResp != nil && (h.readResp > 0) != *w.ReadResp {
		t.Errorf("response body read = %v, want %v", h.readResp > 0, *w.ReadResp)
	}
	if w.ErrorCode != 0 && out.Error != strconv.Itoa(w.ErrorCode) {
		t.Errorf("error code = %q, want %d\n%s", out.Error, w.ErrorCode, dump())
	}
	if w.Flow != "" && out.Flow != w.Flow {
		t.Errorf("flow = %q, want %q", out.Flow, w.Flow)
	}
	if w.Log != nil {
		wantB, _ := json.Marshal(w.Log)
		var got any
		_ = json.Unmarshal(out.Log, &got)
		gotB, _ := json.Marshal(got)
		if !bytes.Equal(wantB, gotB) {
			t.Errorf("log = %s, want %s", out.Log, wantB)
		}
	}
}

func fmtForwards(fs []*flowengine.Mutation) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "{path=%q authority=%q set=%v remove=%v}", f.Path, f.Authority, f.SetHeaders, f.RemoveHeaders)
	}
	return b.String()
}

func headerValue(hs []flowengine.Header, name string) (string, bool) {
	for _, h := range hs {
		if h.Name == name {
			return h.Value, true
		}
	}
	return "", false
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// quietLogger keeps flow warnings (flat_alert…) out of test output.
var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

func writeFile(dir, name, content string) error {
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(content), 0o644)
}

// lowerKeys returns m with lower-cased keys.
func lowerKeys(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

// checkTrace compares a case's trace with its golden file.
func checkTrace(t *testing.T, c *langCase, events []flowengine.Event) {
	t.Helper()
	var b strings.Builder
	if err := tracetree.Write(&b, events, tracetree.Options{}); err != nil {
		t.Fatal(err)
	}
	name := strings.Map(func(r rune) rune {
		if r == ' ' || r == '/' {
			return '_'
		}
		return r
	}, c.Name)
	golden := filepath.Join("testdata", "cases", "traces", strings.TrimSuffix(c.loc, ".yaml"), name+".txt")
	if *updateTrace {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("golden trace: %v (run go test ./flowengine/flat -run TestCases -update)", err)
	}
	if b.String() != string(want) {
		t.Errorf("trace differs from %s (-update rewrites it):\n got:\n%s\nwant:\n%s", golden, b.String(), want)
	}
}
