package policies

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/budget"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// jsPolicy compiles a Javascript policy and fails the test on diagnostics.
func jsPolicy(t testing.TB, xml string, res map[string]string) engine.Policy {
	t.Helper()
	p, errs := engine.TestPolicy(xml, res, nil)
	if len(errs) > 0 || p == nil {
		t.Fatalf("load: %v", errs)
	}
	return p
}

func inlineJS(src string) string {
	return `<Javascript name="JS-1" timeLimit="1000"><Source><![CDATA[` + src + `]]></Source></Javascript>`
}

// recorder is a tracer that keeps message events.
type recorder struct {
	mu   sync.Mutex
	msgs []string
}

func (t *recorder) TraceEvent(e flowengine.Event) {
	if e.Kind == flowengine.MessageEvent {
		t.mu.Lock()
		t.msgs = append(t.msgs, e.Step+": "+e.Message)
		t.mu.Unlock()
	}
}

func jsGet(t *testing.T, r *engine.Run, name string) string {
	t.Helper()
	s, _ := r.Get(name)
	return s
}

func TestJavascriptObjectModel(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		seg     engine.Segment
		method  string
		path    string
		body    string
		headers []string
		resp    *engine.Message
		check   func(t *testing.T, r *engine.Run)
	}{
		{
			name: "getVariable and setVariable round trip",
			src: `var v = context.getVariable("request.header.x-in");
context.setVariable("out", v + "!");
context.setVariable("n", 5);
context.setVariable("half", 5 / 2);
context.setVariable("b", true);
context.setVariable("typ", typeof context.getVariable("n"));
context.setVariable("btyp", typeof context.getVariable("b"));
context.setVariable("isnull", String(context.getVariable("nope") === null));
context.setVariable("count", typeof context.getVariable("request.headers.count"));
context.setVariable("gone", "x"); context.removeVariable("gone");
context.setVariable("flow", context.flow);`,
			headers: []string{"x-in", "abc"},
			check: func(t *testing.T, r *engine.Run) {
				want := map[string]string{"out": "abc!", "n": "5", "half": "2.5", "b": "true", "typ": "number", "btyp": "boolean",
					"isnull": "true", "count": "number", "flow": "PROXY_REQ_FLOW"}
				for k, v := range want {
					if got := jsGet(t, r, k); got != v {
						t.Errorf("%s = %q, want %q", k, got, v)
					}
				}
				if _, ok := r.Get("gone"); ok {
					t.Error("removeVariable left gone set")
				}
			},
		},
		{
			name: "request headers, query and content",
			src: `var a = request.headers['X-A'];
context.setVariable("a", String(a));
context.setVariable("alen", a.length);
context.setVariable("a0", a[0]);
context.setVariable("missing", typeof request.headers['x-none']);
context.proxyRequest.headers['X-New'] = 'v';
delete request.headers['x-drop'];
context.setVariable("q", String(request.queryParams.q));
request.queryParams.added = 'yes';
context.setVariable("method", request.method);
context.setVariable("url", request.url);
var names = []; for (var n in request.headers) names.push(n.toLowerCase());
context.setVariable("names", names.join(" "));
request.content = JSON.stringify({a: JSON.parse(request.content).a + 1});
context.setVariable("same", String(request === context.proxyRequest));
context.setVariable("json", String(request.content.asJSON.a) + " " + (request.content == '{"a":2}'));`,
			method:  "POST",
			path:    "/p?q=1&q=2",
			body:    `{"a":1}`,
			headers: []string{"X-A", "1, 2", "x-drop", "d"},
			check: func(t *testing.T, r *engine.Run) {
				want := map[string]string{"a": "1,2", "alen": "2", "a0": "1", "missing": "undefined", "q": "1,2",
					"method": "POST", "url": "https://api.example.com/p?q=1&q=2&added=yes", "names": "x-a x-new", "same": "true", "json": "2 true"}
				for k, v := range want {
					if got := jsGet(t, r, k); got != v {
						t.Errorf("%s = %q, want %q", k, got, v)
					}
				}
				if v, _ := r.Request.Header("x-new"); v != "v" {
					t.Errorf("x-new = %q", v)
				}
				if _, ok := r.Request.Header("x-drop"); ok {
					t.Error("x-drop not removed")
				}
				if v, _ := r.Request.QueryParam("added"); v != "yes" {
					t.Errorf("query added = %q", v)
				}
				if b, _ := r.Request.Content(); string(b) != `{"a":2}` {
					t.Errorf("content = %s", b)
				}
			},
		},
		{
			name: "response status, headers and shortcuts in the response flow",
			src: `context.setVariable("before", String(response.status.code) + " " + (response.status == 200));
context.setVariable("response.status.code", 404);
context.setVariable("mid", response.status.code);
response.status.code = 201;
response.headers['x-multi'] = ['a', 'b'];
context.proxyResponse.content = "done";
context.setVariable("tr", typeof context.targetResponse);
context.setVariable("req", typeof request);`,
			seg:  engine.ProxyResponse,
			resp: engine.NewResponse(),
			check: func(t *testing.T, r *engine.Run) {
				if got := jsGet(t, r, "mid"); got != "404" {
					t.Errorf("status after setVariable = %q", got)
				}
				if got := jsGet(t, r, "before"); got != "200 true" {
					t.Errorf("before = %q", got)
				}
				if r.Response.Status != 201 {
					t.Errorf("status = %d", r.Response.Status)
				}
				if got := r.Response.HeaderValues("x-multi"); strings.Join(got, ",") != "a,b" {
					t.Errorf("x-multi = %v", got)
				}
				if b, _ := r.Response.Content(); string(b) != "done" {
					t.Errorf("content = %q", b)
				}
				if got := jsGet(t, r, "tr"); got != "undefined" {
					t.Errorf("targetResponse in proxy response flow = %q", got)
				}
				if got := jsGet(t, r, "req"); got != "object" {
					t.Errorf("request = %q", got)
				}
			},
		},
		{
			name: "response is undefined in the request flow; targetRequest url sets target.url",
			src: `context.setVariable("resp", typeof response);
context.targetRequest.url = "https://backend.example/v2";`,
			seg: engine.TargetRequest,
			check: func(t *testing.T, r *engine.Run) {
				if got := jsGet(t, r, "resp"); got != "undefined" {
					t.Errorf("response = %q", got)
				}
				if got := jsGet(t, r, "target.url"); got != "https://backend.example/v2" {
					t.Errorf("target.url = %q", got)
				}
			},
		},
		{
			name: "form params",
			src: `context.setVariable("u", String(request.formParams.user));
request.formParams.extra = "x y";`,
			method:  "POST",
			body:    "user=bob&pw=1",
			headers: []string{"content-type", "application/x-www-form-urlencoded"},
			check: func(t *testing.T, r *engine.Run) {
				if got := jsGet(t, r, "u"); got != "bob" {
					t.Errorf("u = %q", got)
				}
				if v, _ := r.Request.FormParam("extra"); v != "x y" {
					t.Errorf("extra = %q", v)
				}
			},
		},
		{
			name: "crypto",
			src: `var h = crypto.getSHA256(); h.update("abc"); context.setVariable("sha", h.digest());
var m = crypto.getMD5(); m.update("abc"); context.setVariable("md5", m.digest64());
var s = crypto.getHash("SHA-1"); s.update("abc"); context.setVariable("sha1", s.digest());`,
			check: func(t *testing.T, r *engine.Run) {
				want := map[string]string{"sha": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
					"md5": "kAFQmDzST7DWlj99KOF/cg==", "sha1": "a9993e364706816aba3e25717850c26c9cd0d89d"}
				for k, v := range want {
					if got := jsGet(t, r, k); got != v {
						t.Errorf("%s = %q, want %q", k, got, v)
					}
				}
			},
		},
		{
			name: "setVariable of a message stores the message",
			src:  `context.setVariable("copy", context.getVariable("request")); context.setVariable("ct", context.getVariable("copy.content"));`,
			body: "payload", method: "POST",
			check: func(t *testing.T, r *engine.Run) {
				if got := jsGet(t, r, "ct"); got != "payload" {
					t.Errorf("copy.content = %q", got)
				}
			},
		},
		{
			name: "no host access: require, load, fs, process, Java bridges are absent",
			src: `context.setVariable("g", [typeof require, typeof load, typeof fs, typeof process, typeof java,
  typeof Packages, typeof readFile, typeof importPackage, typeof module, typeof exports].join(","));`,
			check: func(t *testing.T, r *engine.Run) {
				if got := jsGet(t, r, "g"); got != strings.TrimSuffix(strings.Repeat("undefined,", 10), ",") {
					t.Errorf("globals = %q", got)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := jsPolicy(t, inlineJS(tc.src), nil)
			seg := tc.seg
			if seg == "" {
				seg = engine.ProxyRequest
			}
			method, path := tc.method, tc.path
			if method == "" {
				method = "GET"
			}
			if path == "" {
				path = "/p"
			}
			r := engine.TestRun(context.Background(), seg, method, path, []byte(tc.body), tc.resp, tc.headers...)
			if err := p.Execute(r); err != nil {
				t.Fatalf("Execute: %v", err)
			}
			tc.check(t, r)
		})
	}
}

func TestJavascriptLoad(t *testing.T) {
	tests := []struct {
		name string
		xml  string
		res  map[string]string
		code diag.Code
		msg  string // substring of the diagnostic
	}{
		{"syntax error names file:line:col",
			`<Javascript name="JS-1"><ResourceURL>jsc://bad.js</ResourceURL></Javascript>`,
			map[string]string{"resources/jsc/bad.js": "var ok = 1;\nvar x = ;\n"}, diag.APBadPolicy, "bad.js:2:9"},
		{"syntax error in an include",
			`<Javascript name="JS-1"><IncludeURL>jsc://lib.js</IncludeURL><Source>1</Source></Javascript>`,
			map[string]string{"resources/jsc/lib.js": "function (\n"}, diag.APBadPolicy, "lib.js:1:"},
		{"missing resource",
			`<Javascript name="JS-1"><ResourceURL>jsc://none.js</ResourceURL></Javascript>`,
			nil, diag.APMissingResource, "none.js"},
		{"no script", `<Javascript name="JS-1"/>`, nil, diag.APMissingElement, "ResourceURL"},
		{"both ResourceURL and Source",
			`<Javascript name="JS-1"><ResourceURL>jsc://a.js</ResourceURL><Source>1</Source></Javascript>`,
			map[string]string{"resources/jsc/a.js": "1"}, diag.APBadPolicy, "both"},
		{"bad timeLimit", `<Javascript name="JS-1" timeLimit="soon"><Source>1</Source></Javascript>`, nil, diag.APBadPolicy, "timeLimit"},
		{"unknown element", `<Javascript name="JS-1"><Source>1</Source><SSLInfo/></Javascript>`, nil, diag.APUnknownElement, "SSLInfo"},
		{"non-jsc URL", `<Javascript name="JS-1"><ResourceURL>xsl://a.js</ResourceURL></Javascript>`, nil, diag.APBadPolicy, "jsc://"},
		{"property without name", `<Javascript name="JS-1"><Source>1</Source><Properties><Property>v</Property></Properties></Javascript>`, nil, diag.APMissingElement, "name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, errs := engine.TestPolicy(tc.xml, tc.res, nil)
			if p != nil || len(errs) == 0 {
				t.Fatalf("loaded, want %s", tc.code)
			}
			found := false
			for _, e := range errs {
				if e.Code == tc.code && strings.Contains(e.Error(), tc.msg) {
					found = true
				}
			}
			if !found {
				t.Fatalf("diagnostics %v, want %s containing %q", errs, tc.code, tc.msg)
			}
		})
	}
}

func TestJavascriptIncludeOrderAndProperties(t *testing.T) {
	xml := `<Javascript name="JS-1" timeLimit="500">
  <IncludeURL>jsc://lib1.js</IncludeURL>
  <IncludeURL>jsc://lib2.js</IncludeURL>
  <ResourceURL>jsc://main.js</ResourceURL>
  <Properties><Property name="greeting">hello</Property></Properties>
</Javascript>`
	res := map[string]string{
		"resources/jsc/lib1.js": `var order = ["lib1"];`,
		"resources/jsc/lib2.js": `order.push("lib2");`,
		"resources/jsc/main.js": `order.push("main"); context.setVariable("order", order.join(","));
context.setVariable("greeting", properties.greeting);`,
	}
	p := jsPolicy(t, xml, res)
	r := engine.TestRun(context.Background(), engine.ProxyRequest, "GET", "/", nil, nil)
	if err := p.Execute(r); err != nil {
		t.Fatal(err)
	}
	if got := jsGet(t, r, "order"); got != "lib1,lib2,main" {
		t.Errorf("order = %q", got)
	}
	if got := jsGet(t, r, "greeting"); got != "hello" {
		t.Errorf("greeting = %q", got)
	}
}

func TestJavascriptPrintAndSession(t *testing.T) {
	a := jsPolicy(t, inlineJS(`print("hello", 1 + 1); console.log("via console"); context.session['k'] = 'v1';`), nil)
	b := jsPolicy(t, `<Javascript name="JS-2"><Source>context.setVariable("k", context.session['k']); context.setVariable("has", String('k' in context.session));</Source></Javascript>`, nil)
	r := engine.TestRun(context.Background(), engine.ProxyRequest, "GET", "/", nil, nil)
	tr := &recorder{}
	x := r.Exchange()
	req := *x.Req
	req.Trace = tr
	x.Start(x.Ctx, &req, x.Host)
	for _, p := range []engine.Policy{a, b} {
		if err := p.Execute(r); err != nil {
			t.Fatal(err)
		}
	}
	if got := strings.Join(tr.msgs, "|"); got != "JS-1: hello 2|JS-1: via console" {
		t.Errorf("trace messages = %q", got)
	}
	if jsGet(t, r, "k") != "v1" || jsGet(t, r, "has") != "true" {
		t.Errorf("session k = %q has = %q", jsGet(t, r, "k"), jsGet(t, r, "has"))
	}
}

func TestJavascriptHTTPClient(t *testing.T) {
	mock := upstream.NewMock()
	mock.Func = func(ctx context.Context, c *upstream.Call) (*upstream.Result, error) {
		if strings.Contains(c.URL, "fail") {
			return &upstream.Result{Err: &upstream.Error{Kind: upstream.KindConnect, Message: "refused"}}, nil
		}
		if _, ok := ctx.Deadline(); !ok {
			t.Error("side call has no deadline")
		}
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		h.Set("X-Up", "1")
		return &upstream.Result{Status: 200, Header: h, Body: []byte(`{"ok":true,"n":3}`)}, nil
	}
	src := `var ex = httpClient.send(new Request("https://svc.example/x", "POST", {"X-T": "1"}, "hello"));
ex.waitForComplete();
if (ex.isSuccess()) {
  var resp = ex.getResponse();
  context.setVariable("st", String(resp.status.code));
  context.setVariable("n", String(resp.content.asJSON.n));
  context.setVariable("up", String(resp.headers['X-Up']));
}
var bad = httpClient.get("https://fail.example/");
context.setVariable("bad", String(bad.isError()) + " " + bad.getError());
var got = "";
httpClient.get("https://svc.example/cb", function(r, e) { got = String(r.status.code); });
context.setVariable("cb", got);`
	p := jsPolicy(t, inlineJS(src), nil)
	r := engine.TestRun(context.Background(), engine.ProxyRequest, "GET", "/", nil, nil)
	r.SetTestUpstream(mock)
	if err := p.Execute(r); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"st": "200", "n": "3", "up": "1", "bad": "true connect: refused", "cb": "200"}
	for k, v := range want {
		if got := jsGet(t, r, k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	calls := mock.Calls()
	if len(calls) != 3 {
		t.Fatalf("calls = %d", len(calls))
	}
	c := calls[0]
	if c.Method != "POST" || c.URL != "https://svc.example/x" || string(c.Body) != "hello" || len(c.Headers) != 1 || c.Headers[0].Value != "1" {
		t.Errorf("call = %+v", c)
	}
	if calls[1].Method != "GET" {
		t.Errorf("get method = %q", calls[1].Method)
	}
}

func TestJavascriptFaults(t *testing.T) {
	tests := []struct {
		name   string
		xml    string
		res    map[string]string
		fault  string // faultstring, or its prefix when it ends in "…"
		budget bool
	}{
		{"thrown Error",
			`<Javascript name="JS-Throw" timeLimit="500"><ResourceURL>jsc://main.js</ResourceURL></Javascript>`,
			map[string]string{"resources/jsc/main.js": "var a = 1;\nthrow new Error(\"boom\");\n"},
			`Execution of JS-Throw failed with error: Javascript runtime error: "Error: boom. (main.js:2)"`, false},
		{"TypeError",
			`<Javascript name="JS-T" timeLimit="500"><ResourceURL>jsc://t.js</ResourceURL></Javascript>`,
			map[string]string{"resources/jsc/t.js": "var o = null;\n\no.x = 1;\n"},
			`Execution of JS-T failed with error: Javascript runtime error: "TypeError: …`, false},
		{"thrown string",
			`<Javascript name="JS-S" timeLimit="500"><Source>throw "plain";</Source></Javascript>`, nil,
			`Execution of JS-S failed with error: Javascript runtime error: "plain. (JS-S.js:1)"`, false},
		{"error in an include names the include",
			`<Javascript name="JS-I" timeLimit="500"><IncludeURL>jsc://lib.js</IncludeURL><Source>1</Source></Javascript>`,
			map[string]string{"resources/jsc/lib.js": "\n\nundefinedFn();"},
			`Execution of JS-I failed with error: Javascript runtime error: "ReferenceError: undefinedFn is not defined. (lib.js:3)"`, false},
		{"read-only variable",
			inlineJS(`context.setVariable("proxy.basepath", "/x");`), nil,
			`Execution of JS-1 failed with error: Javascript runtime error: "TypeError: setVariable("proxy.basepath"): proxy.basepath: variable is read-only…`, false},
		{"runaway recursion",
			inlineJS(`function f(n) { return f(n + 1) + 1; } f(0);`), nil,
			`Execution of JS-1 failed with error: Javascript runtime error: "…`, false},
		{"output budget", `<Javascript name="JS-1" timeLimit="20000"><Source><![CDATA[var s = "x".repeat(17 * 1024 * 1024); try { context.setVariable("big", s); } catch (e) {}]]></Source></Javascript>`, nil, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := jsPolicy(t, tc.xml, tc.res)
			r := engine.TestRun(context.Background(), engine.ProxyRequest, "GET", "/", nil, nil)
			err := p.Execute(r)
			if tc.budget {
				var be *budget.ExceededError
				if !errors.As(err, &be) {
					t.Fatalf("err = %v, want budget exceeded", err)
				}
				return
			}
			var f *engine.Fault
			if !errors.As(err, &f) {
				t.Fatalf("err = %v, want a fault", err)
			}
			if f.Name != "ScriptExecutionFailed" || f.Code != "steps.javascript.ScriptExecutionFailed" || f.Status != 500 {
				t.Errorf("fault = %s %s %d", f.Name, f.Code, f.Status)
			}
			if prefix, ok := strings.CutSuffix(tc.fault, "…"); ok {
				if !strings.HasPrefix(f.Message, prefix) {
					t.Errorf("faultstring = %q, want prefix %q", f.Message, prefix)
				}
			} else if f.Message != tc.fault {
				t.Errorf("faultstring = %q, want %q", f.Message, tc.fault)
			}
		})
	}
}

func TestJavascriptTimeLimit(t *testing.T) {
	p := jsPolicy(t, `<Javascript name="JS-Loop" timeLimit="50"><Source>while (true) {}</Source></Javascript>`, nil)
	r := engine.TestRun(context.Background(), engine.ProxyRequest, "GET", "/", nil, nil)
	start := time.Now()
	err := p.Execute(r)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("loop ran %v", d)
	}
	var f *engine.Fault
	if !errors.As(err, &f) || f.Name != "ScriptExecutionFailed" || !strings.Contains(f.Message, "timeLimit of 50 ms") {
		t.Fatalf("err = %v", err)
	}
	// A try/catch cannot swallow the interrupt.
	p = jsPolicy(t, `<Javascript name="JS-Loop" timeLimit="50"><Source>for (;;) { try { while (true) {} } catch (e) {} }</Source></Javascript>`, nil)
	if err := p.Execute(engine.TestRun(context.Background(), engine.ProxyRequest, "GET", "/", nil, nil)); !errors.As(err, &f) {
		t.Fatalf("err = %v", err)
	}
}

func TestJavascriptCancellation(t *testing.T) {
	p := jsPolicy(t, `<Javascript name="JS-Loop" timeLimit="10000"><Source>while (true) {}</Source></Javascript>`, nil)
	ctx, cancel := context.WithCancel(context.Background())
	r := engine.TestRun(ctx, engine.ProxyRequest, "GET", "/", nil, nil)
	time.AfterFunc(30*time.Millisecond, cancel)
	start := time.Now()
	err := p.Execute(r)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("cancel took %v", d)
	}
}

// TestJavascriptIsolation: globals a script defines do not reach the next
// execution, and executions run concurrently.
func TestJavascriptIsolation(t *testing.T) {
	p := jsPolicy(t, inlineJS(`context.setVariable("seen", typeof leaked); var leaked = 1; String.prototype.evil = 1;`), nil)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 10; k++ {
				r := engine.TestRun(context.Background(), engine.ProxyRequest, "GET", "/", nil, nil)
				if err := p.Execute(r); err != nil {
					t.Error(err)
					return
				}
				if s, _ := r.Get("seen"); s != "undefined" {
					t.Errorf("seen = %q", s)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestJavascriptSessionKeepsExchange(t *testing.T) {
	mock := upstream.NewMock()
	mock.AnswerStatus("JS-Send", 200, nil, []byte(`{"token":"t1"}`))
	a := jsPolicy(t, `<Javascript name="JS-Send"><Source>context.session['ex'] = httpClient.get("https://auth.example/token");</Source></Javascript>`, nil)
	b := jsPolicy(t, `<Javascript name="JS-Wait"><Source>var ex = context.session['ex']; ex.waitForComplete(1000);
context.setVariable("tok", ex.isSuccess() ? ex.getResponse().content.asJSON.token : "none");</Source></Javascript>`, nil)
	r := engine.TestRun(context.Background(), engine.ProxyRequest, "GET", "/", nil, nil)
	r.SetTestUpstream(mock)
	for _, p := range []engine.Policy{a, b} {
		if err := p.Execute(r); err != nil {
			t.Fatal(err)
		}
	}
	if got := jsGet(t, r, "tok"); got != "t1" {
		t.Errorf("tok = %q", got)
	}
}

func TestJavascriptSessionKeepsPlainData(t *testing.T) {
	a := jsPolicy(t, inlineJS(`context.session.obj = {a: [1, "x"], f: function() { return 1; }}; context.session.fn = function() {}; context.session.msg = request;`), nil)
	b := jsPolicy(t, `<Javascript name="JS-2"><Source>context.setVariable("s", JSON.stringify(context.session.obj.a) + " " + context.session.obj.f + " " + typeof context.session.fn + " " + typeof context.session.msg);</Source></Javascript>`, nil)
	r := engine.TestRun(context.Background(), engine.ProxyRequest, "GET", "/", nil, nil)
	for _, p := range []engine.Policy{a, b} {
		if err := p.Execute(r); err != nil {
			t.Fatal(err)
		}
	}
	if got := jsGet(t, r, "s"); got != `[1,"x"] [function] string object` {
		t.Errorf("session = %q", got)
	}
}

func TestJavascriptMemoryCeiling(t *testing.T) {
	old := jsHeapCeiling
	defer func() { jsHeapCeiling = old }()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	jsHeapCeiling = func() uint64 { return ms.HeapAlloc + 16<<20 }
	p := jsPolicy(t, `<Javascript name="JS-Mem" timeLimit="20000"><Source>var s = "x"; while (true) { s += s; }</Source></Javascript>`, nil)
	start := time.Now()
	err := p.Execute(engine.TestRun(context.Background(), engine.ProxyRequest, "GET", "/", nil, nil))
	t.Logf("stopped after %v", time.Since(start))
	var f *engine.Fault
	if !errors.As(err, &f) || !strings.Contains(f.Message, "memory limit") {
		t.Fatalf("err = %v, want the memory fault", err)
	}
}

// TestJavascriptSlowSideCall: a side call gets what is left of timeLimit,
// and the script still ends in the timeLimit fault.
func TestJavascriptSlowSideCall(t *testing.T) {
	mock := upstream.NewMock()
	mock.Func = func(ctx context.Context, c *upstream.Call) (*upstream.Result, error) {
		<-ctx.Done()
		return &upstream.Result{Err: &upstream.Error{Kind: upstream.KindTimeout, Message: ctx.Err().Error()}}, nil
	}
	p := jsPolicy(t, `<Javascript name="JS-Slow" timeLimit="100"><Source>var ex = httpClient.get("https://slow.example/"); ex.waitForComplete(); while (true) {}</Source></Javascript>`, nil)
	r := engine.TestRun(context.Background(), engine.ProxyRequest, "GET", "/", nil, nil)
	r.SetTestUpstream(mock)
	start := time.Now()
	err := p.Execute(r)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
	var f *engine.Fault
	if !errors.As(err, &f) || !strings.Contains(f.Message, "timeLimit of 100 ms") {
		t.Fatalf("err = %v", err)
	}
}
