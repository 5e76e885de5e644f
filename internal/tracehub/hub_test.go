package tracehub

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/flowproc/flowproc/flowengine"
	flowprocv1 "github.com/flowproc/flowproc/proto/flowproc/v1"
)

// fakeHost answers the run's I/O without a proxy.
type fakeHost struct {
	reqBody  []byte
	resp     flowengine.Response
	respBody []byte
}

func (h *fakeHost) RequestBody(context.Context) ([]byte, error) { return h.reqBody, nil }
func (h *fakeHost) Forward(context.Context, *flowengine.Mutation) (*flowengine.Response, error) {
	return &h.resp, nil
}
func (h *fakeHost) ResponseBody(context.Context) ([]byte, error) { return h.respBody, nil }

type runnerFunc func(ctx context.Context, req *flowengine.Request, h flowengine.Host) *flowengine.Outcome

func (f runnerFunc) Run(ctx context.Context, req *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
	return f(ctx, req, h)
}

// proxyRunner reads the request body, forwards with a mutation, reads the
// response body and traces two steps, like a small flow.
var proxyRunner = runnerFunc(func(ctx context.Context, req *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
	start := time.Now()
	if _, err := h.RequestBody(ctx); err != nil {
		return nil
	}
	if req.Trace != nil {
		req.Trace.TraceEvent(flowengine.Event{Kind: flowengine.StepEvent, Seq: 0, Flow: "flows/main.xml", Step: "AM-SetUser", Type: "AssignMessage",
			At: "flows/main.xml:3:5", Cond: "request.verb = \"POST\"", CondResult: true, Start: start, Duration: 1500 * time.Microsecond,
			Vars: []flowengine.Var{{Name: "private.secret", Value: "s3cret"}, {Name: "request.header.authorization", Value: "Bearer x"}, {Name: "user", Value: "alice"}}})
		req.Trace.TraceEvent(flowengine.Event{Kind: flowengine.MessageEvent, Seq: 1, Flow: "flows/main.xml", Step: "debug", Start: start, Message: "hello"})
		req.Trace.TraceEvent(flowengine.Event{Kind: flowengine.StepEvent, Seq: 2, Depth: 1, Flow: "flows/main.xml", Step: "RaiseFault",
			Cond: "false", Start: start})
	}
	if _, err := h.Forward(ctx, &flowengine.Mutation{Path: "/v2/x", SetHeaders: []flowengine.Header{{Name: "x-user", Value: "alice"}, {Name: "authorization", Value: "Basic abc"}},
		RemoveHeaders: []string{"cookie"}}); err != nil {
		return nil
	}
	if _, err := h.ResponseBody(ctx); err != nil {
		return nil
	}
	return &flowengine.Outcome{Kind: flowengine.Forwarded, Project: "shop", Flow: "main"}
})

func newHub(t *testing.T, opts Options) *Hub {
	t.Helper()
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func request() *flowengine.Request {
	return &flowengine.Request{Method: "POST", Authority: "api.example.com", Path: "/shop/items?x=1", ID: "req-1",
		Headers: []flowengine.Header{{Name: "x-tenant", Value: "t1"}, {Name: "cookie", Value: "session=abc"}, {Name: "x-api-key", Value: "k"}}}
}

// exchange runs one exchange of project through the hub and ends it as
// the ext_proc server does (ExchangeDone after the last reply).
func exchange(h *Hub, project string, req *flowengine.Request, host *fakeHost, run flowengine.Runner) *flowengine.Outcome {
	return runExchange(context.Background(), h.Trace(project, req, run), req, host)
}

// runExchange runs r and, when it is traced, ends its exchange.
func runExchange(ctx context.Context, r flowengine.Runner, req *flowengine.Request, host flowengine.Host) *flowengine.Outcome {
	o := r.Run(ctx, req, host)
	if t, ok := r.(interface{ ExchangeDone(int) }); ok {
		t.ExchangeDone(0)
	}
	return o
}

func okHost() *fakeHost {
	return &fakeHost{reqBody: []byte(`{"a":1}`), resp: flowengine.Response{Status: 201, Headers: []flowengine.Header{{Name: "set-cookie", Value: "s=2"}}},
		respBody: []byte(strings.Repeat("x", 100))}
}

func TestTraceDocument(t *testing.T) {
	h := newHub(t, Options{BodyLimit: 10, MaskHeaders: []string{"X-Api-Key"}, Kind: func(string) string { return "apigee" }})
	s, err := h.Open(t.Context(), &flowprocv1.TraceRequest{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if o := exchange(h, "shop", request(), okHost(), proxyRunner); o == nil || o.Kind != flowengine.Forwarded {
		t.Fatalf("outcome %v", o)
	}
	d := <-s.C
	if d.Id != "req-1" || d.Project != "shop" || d.Kind != "apigee" || d.Method != "POST" || d.Path != "/shop/items?x=1" ||
		d.Status != 201 || d.Outcome != "forward" || d.Flow != "main" || d.Start == nil {
		t.Errorf("head: %v", d)
	}
	want := []string{"request_headers", "request_body", "response_headers", "response_body"}
	if len(d.Phases) != len(want) {
		t.Fatalf("phases: %v", d.Phases)
	}
	for i, p := range d.Phases {
		if p.Phase != want[i] {
			t.Errorf("phase %d = %s, want %s", i, p.Phase, want[i])
		}
	}
	hdr := map[string]string{}
	for _, x := range append(d.Phases[0].Headers, d.Phases[2].Headers...) {
		hdr[x.Name] = x.Value
	}
	if hdr["cookie"] != Masked || hdr["x-api-key"] != Masked || hdr["set-cookie"] != Masked || hdr["x-tenant"] != "t1" {
		t.Errorf("header masking: %v", hdr)
	}
	if rb := d.Phases[3]; rb.Body != "xxxxxxxxxx" || !rb.BodyTruncated || rb.BodySize != 100 {
		t.Errorf("response body: %v", rb)
	}
	if qb := d.Phases[1]; qb.Body != `{"a":1}` || qb.BodyTruncated || qb.BodySize != 7 {
		t.Errorf("request body: %v", qb)
	}
	f := d.Forward
	if f.GetPath() != "/v2/x" || len(f.GetSetHeaders()) != 2 || f.GetSetHeaders()[1].Value != Masked || f.GetRemoveHeaders()[0] != "cookie" {
		t.Errorf("forward: %v", f)
	}
	if len(d.Steps) != 3 {
		t.Fatalf("steps: %v", d.Steps)
	}
	st := d.Steps[0]
	if st.Step != "AM-SetUser" || st.Type != "AssignMessage" || !st.Ran || st.DurationUs != 1500 || st.Kind != "step" || st.Condition == "" || !st.ConditionResult {
		t.Errorf("step 0: %v", st)
	}
	vars := map[string]string{}
	for _, v := range st.Vars {
		vars[v.Name] = v.Value
	}
	if vars["private.secret"] != Masked || vars["request.header.authorization"] != Masked || vars["user"] != "alice" {
		t.Errorf("variable masking: %v", vars)
	}
	if m := d.Steps[1]; m.Kind != "message" || m.Message != "hello" || !m.Ran {
		t.Errorf("message: %v", m)
	}
	if f := d.Steps[2]; f.Ran || f.Depth != 1 {
		t.Errorf("false condition step: %v", f)
	}
}

func TestAnsweredAndErrors(t *testing.T) {
	h := newHub(t, Options{})
	s, _ := h.Open(t.Context(), &flowprocv1.TraceRequest{})
	defer s.Close()
	answer := runnerFunc(func(_ context.Context, req *flowengine.Request, _ flowengine.Host) *flowengine.Outcome {
		return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 403, Body: []byte("no\xff"), BodySet: true,
			SetHeaders: []flowengine.Header{{Name: "set-cookie", Value: "a=b"}}}, Error: "3203"}
	})
	exchange(h, "p", request(), okHost(), answer)
	d := <-s.C
	last := d.Phases[len(d.Phases)-1]
	if d.Status != 403 || d.Outcome != "answer" || d.Error != "3203" || last.Phase != "answer" || last.Body != "no\uFFFD" || last.Headers[0].Value != Masked {
		t.Errorf("answer: %v", d)
	}
	exchange(h, "p", request(), okHost(), runnerFunc(func(context.Context, *flowengine.Request, flowengine.Host) *flowengine.Outcome { return nil }))
	if d := <-s.C; d.Outcome != "error" || d.Error == "" || d.Status != 0 {
		t.Errorf("nil outcome: %v", d)
	}
	exchange(h, "p", request(), okHost(), runnerFunc(func(context.Context, *flowengine.Request, flowengine.Host) *flowengine.Outcome {
		return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 500}, Panicked: true}
	}))
	if d := <-s.C; d.Outcome != "error" || !strings.Contains(d.Error, "panic") {
		t.Errorf("panic: %v", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := request()
	runExchange(ctx, h.Trace("p", req, proxyRunner), req, okHost())
	if d := <-s.C; d.Outcome != "cancelled" {
		t.Errorf("cancelled: %v", d)
	}
}

func TestFilters(t *testing.T) {
	h := newHub(t, Options{Projects: func() []string { return []string{"shop", "admin"} }})
	sessions := map[string]*flowprocv1.TraceRequest{
		"project":      {Project: "admin"},
		"path":         {PathPrefix: "/shop/"},
		"other-path":   {PathPrefix: "/admin"},
		"header":       {Headers: []*flowprocv1.Header{{Name: "X-Tenant", Value: "t1"}}},
		"other-header": {Headers: []*flowprocv1.Header{{Name: "x-tenant", Value: "t2"}}},
		"status-class": {Status: "2xx"},
		"status-exact": {Status: "404"},
		"all":          {Sample: 1},
	}
	open := map[string]*Session{}
	for name, r := range sessions {
		s, err := h.Open(t.Context(), r)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		defer s.Close()
		open[name] = s
	}
	exchange(h, "shop", request(), okHost(), proxyRunner) // status 201
	want := map[string]bool{"path": true, "header": true, "status-class": true, "all": true}
	for name, s := range open {
		select {
		case <-s.C:
			if !want[name] {
				t.Errorf("session %s got a trace it does not select", name)
			}
		default:
			if want[name] {
				t.Errorf("session %s got no trace", name)
			}
		}
	}
}

func TestBadFilters(t *testing.T) {
	h := newHub(t, Options{Projects: func() []string { return []string{"shop"} }})
	for name, r := range map[string]*flowprocv1.TraceRequest{
		"unknown project":   {Project: "nope"},
		"relative path":     {PathPrefix: "shop"},
		"empty header name": {Headers: []*flowprocv1.Header{{Value: "x"}}},
		"spaced name":       {Headers: []*flowprocv1.Header{{Name: "x y", Value: "x"}}},
		"pseudo header":     {Headers: []*flowprocv1.Header{{Name: ":path", Value: "/"}}},
		"status word":       {Status: "bad"},
		"status 600":        {Status: "600"},
		"status 6xx":        {Status: "6xx"},
		"status 4x":         {Status: "4x"},
		"status 40":         {Status: "40"},
		"sample > 1":        {Sample: 1.5},
		"sample < 0":        {Sample: -0.1},
	} {
		_, err := h.Open(t.Context(), r)
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "trace filter") {
			t.Errorf("%s: err = %v, want InvalidArgument", name, err)
		}
	}
	if h.Sessions() != 0 {
		t.Errorf("%d sessions open after refusals", h.Sessions())
	}
}

func TestSessionLimit(t *testing.T) {
	h := newHub(t, Options{})
	var refused int
	var open []*Session
	for range 100 {
		s, err := h.Open(t.Context(), &flowprocv1.TraceRequest{})
		switch {
		case err == nil:
			open = append(open, s)
		case status.Code(err) == codes.ResourceExhausted:
			refused++
		default:
			t.Fatal(err)
		}
	}
	if len(open) != DefaultMaxSessions || refused != 100-DefaultMaxSessions {
		t.Errorf("open %d refused %d", len(open), refused)
	}
	open[0].Close()
	open[0].Close() // twice is fine
	if _, err := h.Open(t.Context(), &flowprocv1.TraceRequest{}); err != nil {
		t.Errorf("after a close: %v", err)
	}
	// A session ends with its context.
	ctx, cancel := context.WithCancel(context.Background())
	h2 := newHub(t, Options{MaxSessions: 1})
	s, err := h2.Open(ctx, &flowprocv1.TraceRequest{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, ok := <-s.C; ok {
		t.Error("channel open after ctx ended")
	}
	if h2.Sessions() != 0 {
		t.Errorf("sessions = %d after ctx ended", h2.Sessions())
	}
}

// TestSlowReaderDrops: a session nobody reads never blocks exchanges, keeps
// at most Buffer traces, and counts the rest; the next trace read reports
// them.
func TestSlowReaderDrops(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := newHub(t, Options{Buffer: 4, Metrics: reg})
	s, err := h.Open(t.Context(), &flowprocv1.TraceRequest{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	done := make(chan struct{})
	go func() {
		for range 1000 {
			exchange(h, "shop", request(), okHost(), proxyRunner)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("exchanges blocked by a session that does not read")
	}
	if len(s.C) != 4 || s.Dropped() != 996 {
		t.Errorf("buffered %d dropped %d", len(s.C), s.Dropped())
	}
	if n := testutil.ToFloat64(h.dropped); n != 996 {
		t.Errorf("flowproc_trace_dropped_total = %v", n)
	}
	for range 4 {
		<-s.C
	}
	exchange(h, "shop", request(), okHost(), proxyRunner)
	if d := <-s.C; d.Dropped != 996 {
		t.Errorf("dropped reported = %d", d.Dropped)
	}
	if _, err := New(Options{Metrics: reg}); err == nil {
		t.Error("second hub on one registry: no error")
	}
}

func TestSampling(t *testing.T) {
	h := newHub(t, Options{Buffer: 10000})
	s, err := h.Open(t.Context(), &flowprocv1.TraceRequest{Sample: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for range 5000 {
		exchange(h, "shop", request(), okHost(), proxyRunner)
	}
	// 500 expected; the bounds are > 8 standard deviations wide.
	if n := len(s.C); n < 330 || n > 670 {
		t.Errorf("sampled %d of 5000 at 0.1", n)
	}
}

func TestTraceOffAllocatesNothing(t *testing.T) {
	h := newHub(t, Options{})
	req := request()
	if n := testing.AllocsPerRun(100, func() { _ = h.Trace("shop", req, proxyRunner) }); n != 0 {
		t.Errorf("no session: %v allocs", n)
	}
	s, _ := h.Open(t.Context(), &flowprocv1.TraceRequest{Project: "other", Headers: []*flowprocv1.Header{{Name: "x", Value: "y"}}})
	defer s.Close()
	if n := testing.AllocsPerRun(100, func() { _ = h.Trace("shop", req, proxyRunner) }); n != 0 {
		t.Errorf("non-selecting session: %v allocs", n)
	}
	var nilHub *Hub
	if nilHub.Trace("shop", req, proxyRunner) == nil {
		t.Error("nil hub lost the runner")
	}
}

// TestKeepsOtherTracer: a tracer set before the hub (dev -trace,
// OpenTelemetry) still sees every event.
func TestKeepsOtherTracer(t *testing.T) {
	h := newHub(t, Options{})
	s, _ := h.Open(t.Context(), &flowprocv1.TraceRequest{})
	defer s.Close()
	c := &counter{}
	req := request()
	req.Trace = c
	exchange(h, "shop", req, okHost(), proxyRunner)
	if c.n != 3 {
		t.Errorf("other tracer saw %d events", c.n)
	}
	if d := <-s.C; len(d.Steps) != 3 {
		t.Errorf("hub saw %d steps", len(d.Steps))
	}
}

type counter struct{ n int }

func (c *counter) TraceEvent(flowengine.Event) { c.n++ }
