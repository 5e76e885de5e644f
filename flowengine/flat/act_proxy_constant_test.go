package flat

import (
	"context"
	"reflect"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/budget"
	"github.com/flowproc/flowproc/flowengine/expr"
)

// constantProxyFlow is a proxy-request body without template commands:
// parsed once at load and used as it is on every run.
const constantProxyFlow = `<flow><proxy-request>{
  "origin": "http://up.example:8080",
  "stripEndpoint": true,
  "addPrefix": "/v2",
  "query": {"q": 1, "r": "s t"},
  "headers": {"X-A": "1", "X-List": ["x", "y"], "X-Null": null, "Authorization": "Bearer k"}
}</proxy-request></flow>`

// loadConstantProxy loads constantProxyFlow with limits and returns the
// project and its proxy-request action.
func loadConstantProxy(t *testing.T, limits budget.Limits) (*Project, *proxyAction) {
	t.Helper()
	dir := writeProject(t, map[string]string{"swagger.yaml": budgetSwagger, "a.xml": constantProxyFlow})
	p, errs := Load(dir, Options{Logger: quietLogger, Limits: limits})
	if p == nil {
		t.Fatalf("load: %v", errs)
	}
	for _, f := range p.flows {
		if a, ok := f.body[0].Act.(*proxyAction); ok {
			return p, a
		}
	}
	t.Fatal("no proxy-request action")
	return nil, nil
}

// TestProxyConstantSpec: a constant body forwards what rendering it on
// every run forwarded (the spec read at load is the same), and charges the
// run's output budget what rendering it charges, so a run fails over its
// limit exactly when it did.
func TestProxyConstantSpec(t *testing.T) {
	p, a := loadConstantProxy(t, budget.Limits{})
	if a.constant == nil || a.charge <= 0 {
		t.Fatalf("constant %v, charge %d: the body was not read at load", a.constant, a.charge)
	}
	forward := func(constant *proxySpec) *flowengine.Mutation {
		t.Helper()
		saved := a.constant
		a.constant = constant
		defer func() { a.constant = saved }()
		h := &fakeHost{}
		out := p.Run(context.Background(), &flowengine.Request{Method: "GET", Path: "/api/a?x=1", ID: "id",
			Headers: []flowengine.Header{{Name: "cookie", Value: "c=1"}, {Name: "x-in", Value: "v"}}}, h)
		if out.Error != "" || len(h.forwards) != 1 {
			t.Fatalf("run: error %q, %d forwards", out.Error, len(h.forwards))
		}
		return h.forwards[0]
	}
	fast, rendered := forward(a.constant), forward(nil)
	if !reflect.DeepEqual(fast, rendered) {
		t.Fatalf("constant spec forwards\n%+v\nrendering it forwards\n%+v", fast, rendered)
	}
	if fast.Authority != "up.example:8080" {
		t.Errorf("authority %q", fast.Authority)
	}

	// The charge is ExecuteTree's for the body.
	var b budget.Budget
	b.Reset(context.Background(), budget.Limits{})
	if _, err := a.t.t.ExecuteTree(&expr.Context{Budget: &b}, nil, objectDepth); err != nil {
		t.Fatal(err)
	}
	if _, _, _, used := b.Used(); used != a.charge {
		t.Fatalf("charge %d, ExecuteTree charges %d", a.charge, used)
	}
	for _, limit := range []int64{a.charge - 1, a.charge} {
		p, a := loadConstantProxy(t, budget.Limits{OutputBytes: limit})
		for _, constant := range []*proxySpec{a.constant, nil} {
			a.constant = constant
			out := p.Run(context.Background(), &flowengine.Request{Method: "GET", Path: "/api/a", ID: "id"}, &fakeHost{})
			status, code := outcomeError(t, out)
			if over := limit < a.charge; over != (code == 5013) {
				t.Errorf("output limit %d of %d, constant %v: status %d code %d", limit, a.charge, constant != nil, status, code)
			}
		}
	}
}
