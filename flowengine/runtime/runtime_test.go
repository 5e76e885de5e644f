package runtime

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
)

// state is a minimal front end: its steps append to log.
type state struct {
	x   Exchange
	log []string
}

func (s *state) Exchange() *Exchange { return &s.x }

type act struct {
	name string
	ctrl Ctrl
	err  error
	sub  []Step[*state]
}

func (a *act) Run(s *state, st *Step[*state]) (Ctrl, error) {
	s.log = append(s.log, a.name)
	s.x.TraceVar("v_"+a.name, "1")
	if a.sub != nil {
		return Run(s, "sub", a.sub)
	}
	return a.ctrl, a.err
}

type cond struct {
	ok  bool
	err error
}

func (c cond) Eval(*state) (bool, error) { return c.ok, c.err }
func (c cond) Source() string            { return "cond" }

type host struct{ forwards int }

func (h *host) RequestBody(context.Context) ([]byte, error) { return []byte("req"), nil }
func (h *host) Forward(_ context.Context, m *flowengine.Mutation) (*flowengine.Response, error) {
	h.forwards++
	return &flowengine.Response{Status: 201, Headers: []flowengine.Header{{Name: "Content-Type", Value: "text/x"}}}, nil
}
func (h *host) ResponseBody(context.Context) ([]byte, error) { return []byte("resp"), nil }

func step(name string, a *act, c Cond[*state]) Step[*state] {
	return Step[*state]{Name: name, At: Pos{File: "f.xml", Line: 1, Col: 2}, Cond: c, Act: a}
}

func newState(ctx context.Context, tr flowengine.Tracer) *state {
	s := &state{}
	s.x.Start(ctx, &flowengine.Request{ID: "rid", Trace: tr}, &host{})
	return s
}

func TestRun(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name     string
		steps    []Step[*state]
		wantLog  string
		wantCtrl Ctrl
		wantErr  string
	}{
		{"all run", []Step[*state]{step("a", &act{name: "a"}, nil), step("b", &act{name: "b"}, nil)}, "a b", Next, ""},
		{"false condition skips", []Step[*state]{step("a", &act{name: "a"}, cond{ok: false}), step("b", &act{name: "b"}, cond{ok: true})}, "b", Next, ""},
		{"break ends", []Step[*state]{step("a", &act{name: "a", ctrl: Break}, nil), step("b", &act{name: "b"}, nil)}, "a", Break, ""},
		{"return ends", []Step[*state]{step("a", &act{name: "a", ctrl: Return}, nil), step("b", &act{name: "b"}, nil)}, "a", Return, ""},
		{"error ends", []Step[*state]{step("a", &act{name: "a", err: boom}, nil), step("b", &act{name: "b"}, nil)}, "a", Next, "boom"},
		{"condition error", []Step[*state]{step("a", &act{name: "a"}, cond{err: boom})}, "", Next, `f.xml:1: condition "cond": boom`},
		{"nested", []Step[*state]{step("a", &act{name: "a", sub: []Step[*state]{step("c", &act{name: "c", ctrl: Break}, nil)}}, nil), step("b", &act{name: "b"}, nil)}, "a c", Break, ""},
	}
	for _, tt := range tests {
		for _, traced := range []bool{false, true} {
			name := tt.name
			var rec *recorder
			var tr flowengine.Tracer
			if traced {
				name += "/traced"
				rec = &recorder{}
				tr = rec
			}
			t.Run(name, func(t *testing.T) {
				s := newState(context.Background(), tr)
				c, err := Run(s, "flow", tt.steps)
				if got := strings.Join(s.log, " "); got != tt.wantLog {
					t.Errorf("ran %q, want %q", got, tt.wantLog)
				}
				if c != tt.wantCtrl {
					t.Errorf("ctrl = %d, want %d", c, tt.wantCtrl)
				}
				if (err == nil) != (tt.wantErr == "") || err != nil && err.Error() != tt.wantErr {
					t.Errorf("err = %v, want %q", err, tt.wantErr)
				}
				if rec != nil && len(rec.events) == 0 {
					t.Errorf("traced run sent no events")
				}
			})
		}
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := newState(ctx, nil)
	steps := []Step[*state]{step("a", &act{name: "a"}, nil), step("b", &act{name: "b"}, nil)}
	cancel()
	if _, err := Run(s, "flow", steps); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if len(s.log) != 0 {
		t.Fatalf("steps ran after cancel: %v", s.log)
	}
}

type recorder struct{ events []flowengine.Event }

func (r *recorder) TraceEvent(e flowengine.Event) { r.events = append(r.events, e) }

func TestTraceEvents(t *testing.T) {
	rec := &recorder{}
	s := newState(context.Background(), rec)
	steps := []Step[*state]{
		step("outer", &act{name: "outer", sub: []Step[*state]{step("inner", &act{name: "inner"}, nil)}}, cond{ok: true}),
		step("skipped", &act{name: "skipped"}, cond{ok: false}),
	}
	if _, err := Run(s, "flows/main.xml", steps); err != nil {
		t.Fatal(err)
	}
	s.x.TraceMessage("flows/main.xml", "debug", Pos{File: "flows/main.xml", Line: 9}, "hello")
	if _, err := s.x.Forward(); err != nil {
		t.Fatal(err)
	}
	s.x.Outcome("p", "f", "")
	type ev struct {
		kind        flowengine.EventKind
		seq, depth  int
		step, flow  string
		cond        string
		ok          bool
		vars, msg   string
		hasOutcome  bool
		hasMutation bool
	}
	var got []ev
	for _, e := range rec.events {
		vars := ""
		for _, v := range e.Vars {
			vars += v.Name + "=" + v.Value + " "
		}
		got = append(got, ev{e.Kind, e.Seq, e.Depth, e.Step, e.Flow, e.Cond, e.CondResult, strings.TrimSpace(vars), e.Message, e.Outcome != nil, e.Mutation != nil})
	}
	want := []ev{
		// the inner step ends (and is sent) before its parent; Seq orders them
		{flowengine.StepEvent, 1, 1, "inner", "sub", "", false, "v_inner=1", "", false, false},
		{flowengine.StepEvent, 0, 0, "outer", "flows/main.xml", "cond", true, "v_outer=1", "", false, false},
		{flowengine.StepEvent, 2, 0, "skipped", "flows/main.xml", "cond", false, "", "", false, false},
		{flowengine.MessageEvent, 3, 0, "debug", "flows/main.xml", "", false, "", "hello", false, false},
		{flowengine.ForwardEvent, 4, 0, "", "", "", false, "", "", false, true},
		{flowengine.UpstreamEvent, 5, 0, "", "", "", false, "", "", false, false},
		{flowengine.OutcomeEvent, 6, 0, "", "", "", false, "", "", true, false},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestGuard(t *testing.T) {
	o := Guard(func() *flowengine.Outcome { panic("bad") }, func(v any, stack []byte) *flowengine.Outcome {
		if v != "bad" || len(stack) == 0 {
			t.Errorf("onPanic(%v, %d bytes of stack)", v, len(stack))
		}
		return &flowengine.Outcome{Mutation: flowengine.Mutation{Status: 500}}
	})
	if o.Status != 500 || !o.Panicked {
		t.Fatalf("outcome = %+v", o)
	}
	o = Guard(func() *flowengine.Outcome { return &flowengine.Outcome{Flow: "ok"} }, nil)
	if o.Flow != "ok" || o.Panicked {
		t.Fatalf("outcome = %+v", o)
	}
}

func TestOutcome(t *testing.T) {
	t.Run("answer", func(t *testing.T) {
		s := newState(context.Background(), nil)
		s.x.SetResponseHeader("X-A", "1")
		s.x.SetResponseHeader("x-a", "2")
		s.x.AddResponseHeader("Set-Cookie", "a=1")
		s.x.SetBody([]byte("hi"), "")
		o := s.x.Outcome("p", "f", "3204")
		if o.Kind != flowengine.Answered || o.Status != 200 || string(o.Body) != "hi" || !o.BodySet || o.Error != "3204" || o.RequestID != "rid" {
			t.Fatalf("outcome = %+v", o)
		}
		want := []flowengine.Header{{Name: "content-type", Value: "text/plain"}, {Name: "x-a", Value: "2"}}
		if len(o.SetHeaders) != 2 || o.SetHeaders[0] != want[0] || o.SetHeaders[1] != want[1] {
			t.Errorf("set = %v, want %v", o.SetHeaders, want)
		}
		if len(o.AddHeaders) != 1 || o.AddHeaders[0].Name != "set-cookie" {
			t.Errorf("add = %v", o.AddHeaders)
		}
		if o.After != nil {
			t.Errorf("After set without hooks")
		}
	})
	t.Run("forward", func(t *testing.T) {
		s := newState(context.Background(), nil)
		s.x.Fwd.Path = "/v2"
		if _, err := s.x.Forward(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.x.Forward(); !errors.Is(err, ErrForwarded) {
			t.Fatalf("second forward: %v", err)
		}
		if ct := s.x.UpstreamHeader("content-type"); ct != "text/x" {
			t.Errorf("upstream content-type = %q", ct)
		}
		b, _ := s.x.ResponseBody()
		if string(b) != "resp" {
			t.Errorf("response body = %q", b)
		}
		s.x.RemoveResponseHeader("Server")
		var ran []string
		s.x.AfterResponse(func(context.Context) { ran = append(ran, "one") })
		s.x.AfterResponse(func(context.Context) { ran = append(ran, "two") })
		o := s.x.Outcome("p", "f", "")
		if o.Kind != flowengine.Forwarded || o.Status != 0 || o.BodySet || len(o.RemoveHeaders) != 1 || o.RemoveHeaders[0] != "server" {
			t.Fatalf("outcome = %+v", o)
		}
		o.After(context.Background())
		if strings.Join(ran, ",") != "one,two" {
			t.Errorf("hooks ran %v", ran)
		}
	})
	t.Run("request body read once", func(t *testing.T) {
		h := &countingHost{}
		var x Exchange
		x.Start(context.Background(), &flowengine.Request{}, h)
		for range 3 {
			if b, err := x.RequestBody(); err != nil || string(b) != "body" {
				t.Fatalf("body = %q, %v", b, err)
			}
		}
		if h.reads != 1 {
			t.Errorf("host asked %d times", h.reads)
		}
		if _, err := x.ResponseBody(); !errors.Is(err, ErrNotForwarded) {
			t.Errorf("response body before forward: %v", err)
		}
	})
}

type countingHost struct {
	host
	reads int
}

func (h *countingHost) RequestBody(context.Context) ([]byte, error) {
	h.reads++
	return []byte("body"), nil
}

type nopAct struct{}

func (nopAct) Run(*state, *Step[*state]) (Ctrl, error) { return Next, nil }

// BenchmarkRunSteps is the step loop's own cost with tracing off: it must
// allocate nothing.
func BenchmarkRunSteps(b *testing.B) {
	steps := make([]Step[*state], 10)
	for i := range steps {
		steps[i] = Step[*state]{Name: "nop", Cond: cond{ok: true}, Act: nopAct{}}
	}
	s := newState(context.Background(), nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Run(s, "flow", steps); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRunStepsAllocatesNothingUntraced(t *testing.T) {
	steps := []Step[*state]{{Name: "nop", Cond: cond{ok: true}, Act: nopAct{}}, {Name: "nop", Act: nopAct{}}}
	s := newState(context.Background(), nil)
	if n := testing.AllocsPerRun(100, func() { _, _ = Run(s, "flow", steps) }); n != 0 {
		t.Fatalf("untraced step loop allocates %.1f times per run", n)
	}
}

// TestExchangeClear: a cleared Exchange refers to nothing of its last run
// and keeps its header lists' capacity for the next.
func TestExchangeClear(t *testing.T) {
	var x Exchange
	x.Start(context.Background(), &flowengine.Request{ID: "rid"}, &host{})
	x.SetResponseHeader("x-a", "1")
	x.AddResponseHeader("x-b", "2")
	x.Resp.Removed = append(x.Resp.Removed, "server")
	x.Fwd.SetHeaders = append(x.Fwd.SetHeaders, flowengine.Header{Name: "x-c", Value: "3"})
	x.AfterResponse(func(context.Context) {})
	x.Outcome("p", "f", "")
	x.Clear()
	if x.Ctx != nil || x.Req != nil || x.Host != nil || x.ID != "" || x.Forwarded {
		t.Errorf("cleared exchange still refers to its run: %+v", x)
	}
	if len(x.Resp.Headers)+len(x.Resp.Added)+len(x.Resp.Removed)+len(x.Fwd.SetHeaders)+len(x.after) != 0 {
		t.Error("cleared exchange has entries")
	}
	if cap(x.Resp.Headers) == 0 || cap(x.Resp.Added) == 0 || cap(x.Fwd.SetHeaders) == 0 || cap(x.after) == 0 {
		t.Error("cleared exchange lost its slices' capacity")
	}
	if hs := x.Resp.Headers[:cap(x.Resp.Headers)]; hs[0] != (flowengine.Header{}) {
		t.Errorf("cleared header list still holds %v", hs[0])
	}
}
