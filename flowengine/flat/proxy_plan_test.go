package flat

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/budget"
	"github.com/flowproc/flowproc/flowengine/template"
)

// TestNewProxyPlan: a body gets a plan only when its values are all
// members of its one "headers" object, read as single expressions, and
// its constant parts make a valid spec; the plan's spec is what the body
// says with each value null.
func TestNewProxyPlan(t *testing.T) {
	tests := []struct {
		src    string
		header []int // nil: no plan
	}{
		{`{ "origin": "http://up", "stripEndpoint": true, "addPrefix": "/v2",
		    "headers": { "X-Flowproc": "1", "X-Request-Id": {{ $request/id }} } }`, []int{1}},
		{`{ "url": "http://up/x?y=1", "query": {"q": 1},
		    "headers": { "A": {{ $a }}, "B": "b", "C": {{ $c }}, "D": null } }`, []int{0, 2}},
		{`{ "origin": "http://up", "headers": { "X": "1" } {{// a comment, no value }} }`, []int{}},
		{`{ "origin": {{ $o }}, "headers": { "X": "1" } }`, nil},                         // a value outside headers
		{`{ "origin": "http://up", "query": {{ $q }} }`, nil},                            // the query
		{`{ "origin": "http://up", "headers": { "X": { "deep": {{ $x }} } } }`, nil},     // not a member of headers
		{`{ "origin": "http://up", "headers": { "X": {{ $x ?? "none" }} } }`, nil},       // a chain
		{`{ "origin": "http://up", "headers": { "X": {{ $x }} }, "headers": {} }`, nil},  // headers twice
		{`{ "origin": "http://up", "headers": [ {{ $x }} ] }`, nil},                      // not an object
		{`{ "origin": "ftp://up", "headers": { "X": {{ $x }} } }`, nil},                  // not a valid spec
		{`{ "origin": "http://up", "headers": { "X": {{ $x }} }, "retries": 1 }`, nil},   // unknown property
		{`{ "origin": "http://up", "headers": { "Bad Name": {{ $x }} } }`, nil},          // invalid header name
		{`{{if $x}}{ "origin": "http://up", "headers": { "X": {{ $x }} } }{{end}}`, nil}, // no shape
	}
	for _, tc := range tests {
		tp, err := template.Parse(tc.src)
		if err != nil {
			t.Fatalf("%q: %v", tc.src, err)
		}
		p := newProxyPlan(tp)
		if (p != nil) != (tc.header != nil) {
			t.Errorf("%q: plan %v, want one: %v", tc.src, p != nil, tc.header != nil)
			continue
		}
		if p != nil && fmt.Sprint(p.header) != fmt.Sprint(tc.header) {
			t.Errorf("%q: value headers %v, want %v", tc.src, p.header, tc.header)
		}
	}

	tp, _ := template.Parse(tests[0].src)
	p := newProxyPlan(tp)
	want := []proxyHeader{{key: "X-Flowproc", value: "1", set: true}, {key: "X-Request-Id"}}
	if s := p.spec; s.origin != "http://up" || !s.stripEndpoint || s.addPrefix != "/v2" || s.target == nil ||
		!reflect.DeepEqual(s.headers, want) {
		t.Errorf("plan spec %+v", s)
	}
}

// planProxyFlow forwards with headers whose values FLAT's scope answers
// directly ($request/id, $cfg's members, empty and numeric ones) and one it
// does not (a function), after a <template out="$cfg">.
const planProxyFlow = `<flow>
  <template out="$cfg">{ "service": "hello", "n": 3, "on": true, "empty": "" }</template>
  <proxy-request>{
    "origin": "http://up.example:8080",
    "stripEndpoint": true,
    "addPrefix": "/v2",
    "query": {"q": 1},
    "headers": {
      "X-Const": "1",
      "X-Request-Id": {{ $request/id }},
      "X-Service": {{ $cfg/service }},
      "X-N": {{ $cfg/n }},
      "X-On": {{ $cfg/on }},
      "X-Empty": {{ $cfg/empty }},
      "Cookie": {{ $cfg/service }}
      %s
    }
  }</proxy-request>
</flow>`

// loadPlanProxy loads planProxyFlow with extra headers and limits, and
// returns the project and its proxy-request action.
func loadPlanProxy(t *testing.T, extra string, limits budget.Limits) (*Project, *proxyAction) {
	t.Helper()
	dir := writeProject(t, map[string]string{"swagger.yaml": budgetSwagger, "a.xml": fmt.Sprintf(planProxyFlow, extra)})
	p, errs := Load(dir, Options{Logger: quietLogger, Limits: limits})
	if p == nil {
		t.Fatalf("load: %v", errs)
	}
	for _, f := range p.flows {
		for _, st := range f.body {
			if a, ok := st.Act.(*proxyAction); ok {
				return p, a
			}
		}
	}
	t.Fatal("no proxy-request action")
	return nil, nil
}

// TestProxyPlanForwards: a run through the plan forwards what the
// template's way forwards, header by header, charges the same output (so
// a run fails over its limit exactly when it did), and a value the scope
// does not answer directly takes the template's way with the same result.
func TestProxyPlanForwards(t *testing.T) {
	for _, extra := range []string{"", `, "X-Fn": {{ concat("id-", $request/id) }}`} {
		p, a := loadPlanProxy(t, extra, budget.Limits{})
		if a.plan == nil {
			t.Fatalf("%q: no plan", extra)
		}
		forward := func(plan *proxyPlan, limits budget.Limits) (*flowengine.Outcome, *fakeHost) {
			t.Helper()
			saved := a.plan
			a.plan = plan
			defer func() { a.plan = saved }()
			saveLimits := p.opts.Limits
			p.opts.Limits = limits
			defer func() { p.opts.Limits = saveLimits }()
			h := &fakeHost{}
			out := p.Run(context.Background(), &flowengine.Request{Method: "GET", Path: "/api/a?x=1", ID: "id-7",
				Headers: []flowengine.Header{{Name: "cookie", Value: "c=1"}, {Name: "authorization", Value: "k"}}}, h)
			return out, h
		}
		outPlan, hPlan := forward(a.plan, budget.Limits{})
		outTree, hTree := forward(nil, budget.Limits{})
		if outPlan.Error != "" || len(hPlan.forwards) != 1 || len(hTree.forwards) != 1 {
			t.Fatalf("%q: error %q, %d and %d forwards", extra, outPlan.Error, len(hPlan.forwards), len(hTree.forwards))
		}
		if !reflect.DeepEqual(hPlan.forwards[0], hTree.forwards[0]) {
			t.Fatalf("%q: the plan forwards\n%+v\nthe template's way forwards\n%+v", extra, hPlan.forwards[0], hTree.forwards[0])
		}
		// The values went the direct way (the run's fields hold them)
		// unless one is a function, which takes the template's way.
		direct := len(outPlan.Recycle.(*run).slab.obj.fields)
		if want := map[string]int{"": 6}[extra]; direct != want {
			t.Errorf("%q: %d values read directly, want %d", extra, direct, want)
		}
		outPlan.Recycle, outTree.Recycle = nil, nil
		if !reflect.DeepEqual(outPlan, outTree) {
			t.Errorf("%q: outcomes differ:\n%+v\n%+v", extra, outPlan, outTree)
		}
		got := map[string]string{}
		for _, h := range hPlan.forwards[0].SetHeaders {
			got[h.Name] = h.Value
		}
		want := map[string]string{"x-const": "1", "x-request-id": "id-7", "x-service": "hello", "x-n": "3", "x-on": "true", "cookie": "hello"}
		if extra != "" {
			want["x-fn"] = "id-id-7"
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: set %v, want %v", extra, got, want)
		}
		if rm := fmt.Sprint(hPlan.forwards[0].RemoveHeaders); rm != "[x-empty authorization]" {
			t.Errorf("%q: removed %s", extra, rm)
		}

		// The output limit: find the output a run charges, then both ways
		// must pass at it and fail one byte below it with 5013.
		var used int64
		for limit := int64(1); limit < 4096 && used == 0; limit++ {
			if out, _ := forward(nil, budget.Limits{OutputBytes: limit}); out.Error == "" {
				used = limit
			}
		}
		if used == 0 {
			t.Fatalf("%q: no output limit lets the run through", extra)
		}
		for _, limit := range []int64{used - 1, used} {
			for _, plan := range []*proxyPlan{a.plan, nil} {
				out, _ := forward(plan, budget.Limits{OutputBytes: limit})
				_, code := outcomeError(t, out)
				if over := limit < used; over != (code == 5013) {
					t.Errorf("%q: output limit %d of %d, plan %v: code %d", extra, limit, used, plan != nil, code)
				}
			}
		}
	}
}
