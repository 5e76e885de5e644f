package policies

import (
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/diag"
)

func TestFlowCallout(t *testing.T) {
	fc := func(sf, params string) string {
		return `<FlowCallout name="FC"><SharedFlowBundle>` + sf + `</SharedFlowBundle>` + params + `</FlowCallout>`
	}
	type want struct {
		status  int
		headers map[string]string
		errCode string
		body    string
	}
	tests := []struct {
		name     string
		files    func() map[string]string
		headers  []string
		loadErrs []diag.Code
		want     want
	}{
		{
			name: "parameters are variables the shared flow sees",
			files: func() map[string]string {
				f := calloutProxyFiles(nil, []string{"FC", "Copy"}, map[string]string{
					"FC": fc("sf1", `<Parameters><Parameter name="p.lit">literal</Parameter><Parameter name="p.ref" ref="request.header.x-in"/>`+
						`<Parameter name="p.val" value="v"/><Parameter name="p.fallback" ref="no.such.var">fb</Parameter><Parameter name="p.unset" ref="no.such.var"/></Parameters>`),
					"Copy": calloutSetVar("Copy", "response.header.x-after={sf.set}"),
				})
				calloutSharedFlow(f, "sf1", []string{"Set"}, map[string]string{
					"Set":  calloutSetVar("Set", "response.header.x-seen={p.lit}|{p.ref}|{p.val}|{p.fallback}|{p.unset}"),
					"Mark": calloutSetVar("Mark", "sf.set=yes"),
				})
				f["sharedflows/sf1/sharedflowbundle/sharedflows/default.xml"] = `<SharedFlow name="default"><Step><Name>Set</Name></Step><Step><Name>Mark</Name></Step></SharedFlow>`
				return f
			},
			headers: []string{"x-in", "from-request"},
			want:    want{status: 200, headers: map[string]string{"x-seen": "literal|from-request|v|fb|", "x-after": "yes"}},
		},
		{
			name: "a fault in the shared flow is the caller's",
			files: func() map[string]string {
				f := calloutProxyFiles([]string{"FC"}, nil, map[string]string{"FC": fc("sf1", "")})
				calloutSharedFlow(f, "sf1", []string{"Raise"}, map[string]string{"Raise": `<TestCalloutRaiseFault name="Raise"/>`})
				return f
			},
			want: want{status: 418, errCode: "Boom", body: `{"fault":{"faultstring":"boom","detail":{"errorcode":"steps.testcalloutraise.Boom"}}}`},
		},
		{
			name: "continueOnError on the FlowCallout swallows the shared flow's fault",
			files: func() map[string]string {
				f := calloutProxyFiles(nil, []string{"FC", "Copy"}, map[string]string{
					"FC":   `<FlowCallout name="FC" continueOnError="true"><SharedFlowBundle>sf1</SharedFlowBundle></FlowCallout>`,
					"Copy": calloutSetVar("Copy", "response.header.x-failed={flowcallout.FC.failed}"),
				})
				calloutSharedFlow(f, "sf1", []string{"Raise"}, map[string]string{"Raise": `<TestCalloutRaiseFault name="Raise"/>`})
				return f
			},
			want: want{status: 200, headers: map[string]string{"x-failed": "true"}},
		},
		{
			name: "a shared flow calls another",
			files: func() map[string]string {
				f := calloutProxyFiles(nil, []string{"FC"}, map[string]string{"FC": fc("outer", `<Parameters><Parameter name="depth">1</Parameter></Parameters>`)})
				calloutSharedFlow(f, "outer", []string{"Inner"}, map[string]string{
					"Inner": `<FlowCallout name="Inner"><SharedFlowBundle>inner</SharedFlowBundle><Parameters><Parameter name="depth2">2</Parameter></Parameters></FlowCallout>`,
				})
				calloutSharedFlow(f, "inner", []string{"Set"}, map[string]string{"Set": calloutSetVar("Set", "response.header.x-depth={depth}{depth2}")})
				return f
			},
			want: want{status: 200, headers: map[string]string{"x-depth": "12"}},
		},
		{
			name: "PreProxyFlowHook runs before the proxy",
			files: func() map[string]string {
				f := calloutProxyFiles(nil, []string{"Copy"}, map[string]string{"Copy": calloutSetVar("Copy", "response.header.x-hook={hook.ran}")})
				calloutSharedFlow(f, "hooked", []string{"Set"}, map[string]string{"Set": calloutSetVar("Set", "hook.ran={request.verb}")})
				f["deployment.yaml"] = "flowHooks:\n  PreProxyFlowHook: hooked\n"
				return f
			},
			want: want{status: 200, headers: map[string]string{"x-hook": "GET"}},
		},
		{
			name: "a fault in a flow hook is the proxy's",
			files: func() map[string]string {
				f := calloutProxyFiles(nil, nil, nil)
				calloutSharedFlow(f, "hooked", []string{"Raise"}, map[string]string{"Raise": `<TestCalloutRaiseFault name="Raise"/>`})
				f["deployment.yaml"] = "flowHooks:\n  PostProxyFlowHook: hooked\n"
				return f
			},
			want: want{status: 418, errCode: "Boom"},
		},
		{
			name: "missing shared flow",
			files: func() map[string]string {
				return calloutProxyFiles([]string{"FC"}, nil, map[string]string{"FC": fc("nope", "")})
			},
			loadErrs: []diag.Code{diag.APMissingFlow},
		},
		{
			name: "flow hook names a missing shared flow",
			files: func() map[string]string {
				f := calloutProxyFiles(nil, nil, nil)
				f["deployment.yaml"] = "flowHooks:\n  PreProxyFlowHook: nope\n"
				return f
			},
			loadErrs: []diag.Code{diag.APMissingFlow},
		},
		{
			name: "shared flows calling each other in a cycle",
			files: func() map[string]string {
				f := calloutProxyFiles([]string{"FC"}, nil, map[string]string{"FC": fc("a", "")})
				calloutSharedFlow(f, "a", []string{"ToB"}, map[string]string{"ToB": `<FlowCallout name="ToB"><SharedFlowBundle>b</SharedFlowBundle></FlowCallout>`})
				calloutSharedFlow(f, "b", []string{"ToA"}, map[string]string{"ToA": `<FlowCallout name="ToA"><SharedFlowBundle>a</SharedFlowBundle></FlowCallout>`})
				return f
			},
			loadErrs: []diag.Code{diag.APMissingFlow},
		},
		{
			name: "a shared flow calling itself",
			files: func() map[string]string {
				f := calloutProxyFiles(nil, nil, nil)
				calloutSharedFlow(f, "a", []string{"Self"}, map[string]string{"Self": `<FlowCallout name="Self"><SharedFlowBundle>a</SharedFlowBundle></FlowCallout>`})
				return f
			},
			loadErrs: []diag.Code{diag.APMissingFlow},
		},
		{
			name: "no SharedFlowBundle",
			files: func() map[string]string {
				return calloutProxyFiles([]string{"FC"}, nil, map[string]string{"FC": `<FlowCallout name="FC"/>`})
			},
			loadErrs: []diag.Code{diag.APMissingElement},
		},
		{
			name: "bad parameters and unknown elements",
			files: func() map[string]string {
				f := calloutProxyFiles([]string{"FC"}, nil, map[string]string{"FC": fc("sf1", `<Parameters><Parameter>x</Parameter><Parameter name="a"/>`+
					`<Parameter name="b" value="1">2</Parameter><Parameter name="c">1</Parameter><Parameter name="c">2</Parameter><Param name="d"/></Parameters><Bogus/>`)})
				calloutSharedFlow(f, "sf1", nil, nil)
				return f
			},
			loadErrs: []diag.Code{diag.APMissingElement, diag.APMissingElement, diag.APBadPolicy, diag.APBadPolicy, diag.APUnknownElement, diag.APUnknownElement},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := calloutProject(t, tc.files())
			type loaded struct {
				p    *engine.Project
				errs diag.List
			}
			done := make(chan loaded, 1)
			go func() {
				p, errs := calloutLoad(t, dir, nil)
				done <- loaded{p, errs}
			}()
			var l loaded
			select {
			case l = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("load did not finish (a shared flow cycle?)")
			}
			var codes []diag.Code
			for _, e := range l.errs {
				codes = append(codes, e.Code)
			}
			if tc.loadErrs != nil {
				if l.p != nil {
					t.Fatalf("loaded; want errors %v", tc.loadErrs)
				}
				if !calloutSameCodes(codes, tc.loadErrs) {
					t.Fatalf("load errors %v, want codes %v:\n%v", codes, tc.loadErrs, l.errs)
				}
				return
			}
			if l.p == nil {
				t.Fatalf("load: %v", l.errs)
			}
			o := calloutGet(t, l.p, "/v1/x", tc.headers...)
			status := o.Status
			if status == 0 {
				status = 200
			}
			if status != tc.want.status || o.Error != tc.want.errCode {
				t.Fatalf("status %d error %q, want %d %q (body %s)", status, o.Error, tc.want.status, tc.want.errCode, o.Body)
			}
			for h, v := range tc.want.headers {
				if got := calloutHeader(o, h); got != v {
					t.Errorf("header %s = %q, want %q", h, got, v)
				}
			}
			if tc.want.body != "" && string(o.Body) != tc.want.body {
				t.Errorf("body %s, want %s", o.Body, tc.want.body)
			}
		})
	}
}

func calloutSameCodes(got, want []diag.Code) bool {
	count := map[diag.Code]int{}
	for _, c := range got {
		count[c]++
	}
	for _, c := range want {
		count[c]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return true
}
