package policies

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// dumpCalls renders the side calls a mock saw: method, URL and timeout,
// the header lines and the body.
func dumpCalls(calls []upstream.Call) string {
	var b strings.Builder
	for _, c := range calls {
		fmt.Fprintf(&b, "%s %s %s\n", c.Method, c.URL, c.Timeout)
		for _, h := range c.Headers {
			fmt.Fprintf(&b, "%s: %s\n", h.Name, h.Value)
		}
		fmt.Fprintf(&b, "\n%s\n", c.Body)
	}
	return b.String()
}

func TestServiceCallout(t *testing.T) {
	ok := func(m *upstream.Mock) {
		m.AnswerStatus("P-1", 200, http.Header{"Content-Type": {"application/json"}, "X-B": {"1", "2"}}, []byte(`{"ok":true}`))
	}
	status := func(code int) func(m *upstream.Mock) {
		return func(m *upstream.Mock) { m.AnswerStatus("P-1", code, nil, []byte("nope")) }
	}
	const conn = `<HTTPTargetConnection><URL>https://svc.example.com/base?k=v</URL></HTTPTargetConnection>`
	cases := []struct {
		msgCase
		answer func(m *upstream.Mock)
		calls  string
	}{{
		msgCase: msgCase{
			name: "request variable built by the operations, response stored",
			policy: `<Request variable="myReq"><Set><Headers><Header name="X-Id">{request.queryparam.a}</Header></Headers>
				<QueryParams><QueryParam name="q">x y</QueryParam></QueryParams><Verb>POST</Verb>
				<Payload contentType="application/json">{"id":"{request.queryparam.a}"}</Payload></Set></Request>
				<Response>calloutResponse</Response><Timeout>3000</Timeout>` + conn,
			want: map[string]string{
				"msg:calloutResponse":               "200 \nContent-Type: application/json\nX-B: 1\nX-B: 2\n\n{\"ok\":true}",
				"var:calloutResponse.status.code":   "200",
				"var:calloutResponse.header.x-b":    "1",
				"msg:myReq":                         "POST /?q=x+y\nX-Id: 1\nContent-Type: application/json\n\n{\"id\":\"1\"}",
				"var:servicecallout.requesturi":     "/base?k=v&q=x+y",
				"var:servicecallout.P-1.target.url": "https://svc.example.com/base?k=v&q=x+y",
				"request":                           "GET /v1/things?a=1\n\n",
			},
		},
		answer: ok,
		calls:  "POST https://svc.example.com/base?k=v&q=x+y 3s\nX-Id: 1\nContent-Type: application/json\n\n{\"id\":\"1\"}\n",
	}, {
		msgCase: msgCase{
			name:   "a path set by a template is appended to the URL's path",
			policy: `<Request><Set><Path>/items/{request.queryparam.a}</Path></Set></Request><Response>r</Response>` + conn,
			want:   map[string]string{"var:servicecallout.requesturi": "/base/items/1?k=v", "var:r.content": `{"ok":true}`},
		},
		answer: ok,
		calls:  "GET https://svc.example.com/base/items/1?k=v 55s\n\n\n",
	}, {
		msgCase: msgCase{
			name:   "a status outside success.codes is ExecutionFailed; the response is kept",
			policy: `<Request/><Response>r</Response>` + conn,
			fault:  "ExecutionFailed|steps.servicecallout.ExecutionFailed|500|Execution of ServiceCallout P-1 failed. Reason: ResponseCode 404 is treated as error",
			want:   map[string]string{"var:r.status.code": "404", "var:r.content": "nope"},
		},
		answer: status(404),
		calls:  "GET https://svc.example.com/base?k=v 55s\n\n\n",
	}, {
		msgCase: msgCase{
			name: "success.codes replaces the default list",
			policy: `<Response>r</Response><HTTPTargetConnection><URL>http://svc.example.com</URL>
				<Properties><Property name="success.codes">2XX, 404</Property></Properties></HTTPTargetConnection>`,
			want: map[string]string{"var:r.status.code": "404"},
		},
		answer: status(404),
		calls:  "GET http://svc.example.com/ 55s\n\n\n",
	}, {
		msgCase: msgCase{
			name: "3xx is not success when success.codes omits it",
			policy: `<Response>r</Response><HTTPTargetConnection><URL>http://svc.example.com/</URL>
				<Properties><Property name="success.codes">2xx</Property></Properties></HTTPTargetConnection>`,
			fault: "ExecutionFailed|steps.servicecallout.ExecutionFailed|500|Execution of ServiceCallout P-1 failed. Reason: ResponseCode 302 is treated as error",
		},
		answer: status(302),
		calls:  "GET http://svc.example.com/ 55s\n\n\n",
	}, {
		msgCase: msgCase{
			name:   "a network failure is ExecutionFailed",
			policy: `<Response>r</Response>` + conn,
			fault:  "ExecutionFailed|steps.servicecallout.ExecutionFailed|500|Execution of ServiceCallout P-1 failed. Reason: connection failed",
			want:   map[string]string{"msg:r": "<none>"},
		},
		answer: func(m *upstream.Mock) {
			m.Answer("P-1", &upstream.Result{Err: &upstream.Error{Kind: upstream.KindConnect, Message: "refused"}})
		},
		calls: "GET https://svc.example.com/base?k=v 55s\n\n\n",
	}, {
		msgCase: msgCase{
			name:   "a timeout is ExecutionFailed with Apigee's reason",
			policy: `<Response>r</Response>` + conn,
			fault:  "ExecutionFailed|steps.servicecallout.ExecutionFailed|500|Execution of ServiceCallout P-1 failed. Reason: timeout occurred in P-1",
		},
		answer: func(m *upstream.Mock) {
			m.Answer("P-1", &upstream.Result{Err: &upstream.Error{Kind: upstream.KindTimeout, Message: "deadline"}})
		},
		calls: "GET https://svc.example.com/base?k=v 55s\n\n\n",
	}, {
		msgCase: msgCase{
			name:    "an existing message variable is the starting point",
			headers: []string{"Authorization", "Bearer t", "Host", "api.example.com"},
			policy: `<Request variable="prepared" clearPayload="true"><Copy source="request"><Headers><Header name="authorization"/><Header name="host"/></Headers></Copy></Request>
				<Response>r</Response>` + conn,
			setup: func(r *engine.Run) {
				m := engine.NewRequest()
				m.SetVerb("PUT")
				m.SetPath("/sub")
				m.SetContent([]byte("payload"))
				r.SetMessage("prepared", m)
			},
			want: map[string]string{"msg:prepared": "PUT /sub\nAuthorization: Bearer t\nHost: api.example.com\n\n"},
		},
		answer: ok,
		calls:  "PUT https://svc.example.com/base/sub?k=v 55s\nAuthorization: Bearer t\n\npayload\n",
	}, {
		msgCase: msgCase{
			name:   "the request variable is not a message",
			policy: `<Request variable="str"/><Response>r</Response>` + conn,
			setup:  func(r *engine.Run) { _ = r.Set("str", "text") },
			fault:  "RequestVariableNotMessageType|steps.servicecallout.RequestVariableNotMessageType|500|ServiceCallout[P-1]: request variable str value is not of type Message",
		},
	}, {
		msgCase: msgCase{
			name:   "an unresolved variable in the request faults by default",
			policy: `<Request><Set><Headers><Header name="h">{nope}</Header></Headers></Set></Request><Response>r</Response>` + conn,
			fault:  "UnresolvedVariable|messaging.runtime.UnresolvedVariable|500|Unresolved variable : nope",
		},
	}, {
		msgCase: msgCase{
			name:   "ignored unresolved variables in the request are empty",
			policy: `<Request><IgnoreUnresolvedVariables>true</IgnoreUnresolvedVariables><Set><Headers><Header name="h">[{nope}]</Header></Headers></Set></Request><Response>r</Response>` + conn,
		},
		answer: ok,
		calls:  "GET https://svc.example.com/base?k=v 55s\nh: []\n\n\n",
	}, {
		msgCase: msgCase{
			name:   "an unresolved variable in the URL always faults",
			policy: `<Request><IgnoreUnresolvedVariables>true</IgnoreUnresolvedVariables></Request><Response>r</Response><HTTPTargetConnection><URL>https://svc.example.com/{realm}</URL></HTTPTargetConnection>`,
			fault:  "UnresolvedVariable|messaging.runtime.UnresolvedVariable|500|Unresolved variable : realm",
		},
	}, {
		msgCase: msgCase{
			name:   "a URL from variables",
			policy: `<Response>r</Response><HTTPTargetConnection><URL>https://{host}/x/{request.queryparam.a}</URL></HTTPTargetConnection>`,
			setup:  func(r *engine.Run) { _ = r.Set("host", "h.example.com:8443") },
		},
		answer: ok,
		calls:  "GET https://h.example.com:8443/x/1 55s\n\n\n",
	}, {
		msgCase: msgCase{
			name: "servicecallout.<policy>.target.url set by the flow replaces the URL (corpus traffic mirroring)",
			policy: `<Request clearPayload="false" variable="mirrorRequest"><Set><Path>{request-mirror-uri}</Path></Set></Request>
				<Response>r</Response><HTTPTargetConnection><Properties/><URL>http://will-be-replaced</URL></HTTPTargetConnection>`,
			setup: func(r *engine.Run) {
				_ = r.Set("servicecallout.P-1.target.url", "https://httpbin.org")
				_ = r.Set("request-mirror-uri", "/delay/2")
			},
			want: map[string]string{"var:servicecallout.P-1.target.url": "https://httpbin.org/delay/2", "var:servicecallout.requesturi": "/delay/2"},
		},
		answer: ok,
		calls:  "GET https://httpbin.org/delay/2 55s\n\n\n",
	}, {
		msgCase: msgCase{
			name:   "a URL that is no URL",
			policy: `<Response>r</Response><HTTPTargetConnection><URL>https://{host}/</URL></HTTPTargetConnection>`,
			setup:  func(r *engine.Run) { _ = r.Set("host", "") },
			fault:  "ExecutionFailed|steps.servicecallout.ExecutionFailed|500|Execution of ServiceCallout P-1 failed. Reason: invalid URL",
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := upstream.NewMock()
			if tc.answer != nil {
				tc.answer(m)
			}
			setup := tc.setup
			tc.setup = func(r *engine.Run) {
				r.SetTestUpstream(m)
				if setup != nil {
					setup(r)
				}
			}
			tc.run(t, "ServiceCallout")
			if got := dumpCalls(m.Calls()); got != tc.calls {
				t.Errorf("calls:\n got %q\nwant %q", got, tc.calls)
			}
		})
	}
}

// TestServiceCalloutFireAndForget: without <Response> nothing is sent
// while the flow runs; the call goes out after the answer, bounded by the
// policy's Timeout.
func TestServiceCalloutFireAndForget(t *testing.T) {
	p := compile(t, `<ServiceCallout name="Log"><Request><Set><Verb>POST</Verb><Payload>{request.verb}</Payload></Set></Request>
		<Timeout>200</Timeout><HTTPTargetConnection><URL>http://log.example.com/in</URL></HTTPTargetConnection></ServiceCallout>`)
	m := upstream.NewMock()
	var deadline time.Duration
	m.Func = func(ctx context.Context, c *upstream.Call) (*upstream.Result, error) {
		d, _ := ctx.Deadline()
		deadline = time.Until(d)
		return &upstream.Result{Status: 500}, nil
	}
	r := newRun(engine.ProxyRequest, "GET", "/", "", nil)
	r.SetTestUpstream(m)
	if err := p.Execute(r); err != nil {
		t.Fatalf("Execute: %v", err)
	}
	if n := len(m.Calls()); n != 0 {
		t.Fatalf("%d calls before the answer", n)
	}
	o := r.Exchange().Outcome("p", "f", "")
	if o.After == nil {
		t.Fatal("no after-response hook")
	}
	o.After(context.Background())
	if got, want := dumpCalls(m.Calls()), "POST http://log.example.com/in 200ms\n\nGET\n"; got != want {
		t.Errorf("calls:\n got %q\nwant %q", got, want)
	}
	if deadline <= 0 || deadline > 200*time.Millisecond {
		t.Errorf("call context deadline in %v, want within 200ms", deadline)
	}
	if v := get(r, "servicecallout.requesturi"); v != "/in" {
		t.Errorf("servicecallout.requesturi = %q", v)
	}
}

// TestServiceCalloutBudget: the call's timeout is cut to what is left of
// the run's time.
func TestServiceCalloutBudget(t *testing.T) {
	p := compile(t, `<ServiceCallout name="P-1"><Response>r</Response><Timeout>100000</Timeout>
		<HTTPTargetConnection><URL>http://svc.example.com/</URL></HTTPTargetConnection></ServiceCallout>`)
	m := upstream.NewMock()
	m.AnswerStatus("P-1", 204, nil, nil)
	r := newRun(engine.ProxyRequest, "GET", "/", "", nil)
	r.SetTestUpstream(m)
	if err := p.Execute(r); err != nil {
		t.Fatalf("Execute: %v", err)
	}
	calls := m.Calls()
	if len(calls) != 1 || calls[0].Timeout <= 0 || calls[0].Timeout > 60*time.Second {
		t.Fatalf("calls = %+v, want one with the run's remaining time (at most 60s)", calls)
	}
}

func TestServiceCalloutLoadErrors(t *testing.T) {
	const url = `<HTTPTargetConnection><URL>https://x.example.com</URL></HTTPTargetConnection>`
	cases := []struct{ name, src, want string }{{
		"LocalTargetConnection",
		"<ServiceCallout name=\"S\">\n  <LocalTargetConnection><APIProxy>p</APIProxy></LocalTargetConnection>\n</ServiceCallout>",
		"policies/p.xml:2:3: AP103: <LocalTargetConnection> (a callout to a proxy of this organization) is not supported: use HTTPTargetConnection",
	}, {
		"no connection",
		`<ServiceCallout name="S"><Response>r</Response></ServiceCallout>`,
		"policies/p.xml:1:1: AP104: <ServiceCallout> needs an <HTTPTargetConnection>",
	}, {
		"no URL",
		`<ServiceCallout name="S"><HTTPTargetConnection/></ServiceCallout>`,
		"policies/p.xml:1:26: AP104: <HTTPTargetConnection> needs a <URL>",
	}, {
		"URL scheme from a variable",
		`<ServiceCallout name="S"><HTTPTargetConnection><URL>{scheme}://x</URL></HTTPTargetConnection></ServiceCallout>`,
		`policies/p.xml:1:48: AP401: <URL> "{scheme}://x" must start with http:// or https://`,
	}, {
		"bad URL template",
		`<ServiceCallout name="S"><HTTPTargetConnection><URL>https://x/{nofn(a)}</URL></HTTPTargetConnection></ServiceCallout>`,
		`policies/p.xml:1:48: AP402: message template "https://x/{nofn(a)}": col 12: MT003 unknown template function "nofn"`,
	}, {
		"keystore",
		`<ServiceCallout name="S"><HTTPTargetConnection><URL>https://x</URL><SSLInfo><Enabled>true</Enabled><KeyStore>ks</KeyStore></SSLInfo></HTTPTargetConnection></ServiceCallout>`,
		"policies/p.xml:1:100: AP103: unknown element <KeyStore> in <SSLInfo>",
	}, {
		"client auth",
		`<ServiceCallout name="S"><HTTPTargetConnection><URL>https://x</URL><SSLInfo><ClientAuthEnabled>true</ClientAuthEnabled></SSLInfo></HTTPTargetConnection></ServiceCallout>`,
		"policies/p.xml:1:77: AP401: <ClientAuthEnabled>true</ClientAuthEnabled>: client certificates from Apigee keystores are not supported",
	}, {
		"protocol",
		`<ServiceCallout name="S"><HTTPTargetConnection><URL>https://x</URL><SSLInfo><Protocols><Protocol>SSLv3</Protocol></Protocols></SSLInfo></HTTPTargetConnection></ServiceCallout>`,
		`policies/p.xml:1:88: AP401: <Protocol> "SSLv3": want TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3`,
	}, {
		"unknown property",
		`<ServiceCallout name="S"><HTTPTargetConnection><URL>https://x</URL><Properties><Property name="request.retain.headers">a</Property></Properties></HTTPTargetConnection></ServiceCallout>`,
		`policies/p.xml:1:80: AP401: HTTPTargetConnection property "request.retain.headers" is not supported`,
	}, {
		"bad success.codes",
		`<ServiceCallout name="S"><HTTPTargetConnection><URL>https://x</URL><Properties><Property name="success.codes">2xx,abc</Property></Properties></HTTPTargetConnection></ServiceCallout>`,
		`policies/p.xml:1:80: AP401: success.codes: "abc" is neither a status class (2xx) nor a status code`,
	}, {
		"bad Timeout",
		`<ServiceCallout name="S"><Timeout>soon</Timeout>` + url + `</ServiceCallout>`,
		`policies/p.xml:1:26: AP401: <Timeout> "soon" is not a positive number of milliseconds`,
	}, {
		"unknown element in Request",
		`<ServiceCallout name="S"><Request><AssignTo>x</AssignTo></Request>` + url + `</ServiceCallout>`,
		"policies/p.xml:1:35: AP103: unknown element <AssignTo> in <Request>",
	}, {
		"bad template in Request",
		`<ServiceCallout name="S"><Request><Set><Payload>{sha256Hex()}</Payload></Set></Request>` + url + `</ServiceCallout>`,
		`policies/p.xml:1:40: AP402: message template "{sha256Hex()}": col 2: MT004 sha256Hex takes 1 arguments, got 0`,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := loadErrors(tc.src); got != tc.want {
				t.Errorf("\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func FuzzParseCodes(f *testing.F) {
	for _, s := range []string{"1xx,2xx,3xx", "2XX, 404", "", ",", "599,100", "6xx", "2x", "abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cs, err := parseCodes(s)
		if err != nil {
			return
		}
		for code := 0; code < 700; code += 7 {
			cs.has(code)
		}
		// Every listed code is a success.
		for _, part := range strings.Split(s, ",") {
			var n int
			if _, e := fmt.Sscanf(strings.TrimSpace(part), "%d", &n); e == nil && fmt.Sprint(n) == strings.TrimSpace(part) && !cs.has(n) {
				t.Fatalf("%q: %d not a success", s, n)
			}
		}
	})
}

// TestServiceCalloutTLS: SSLInfo becomes the side call's TLS options and
// connect.timeout.millis its connect timeout.
func TestServiceCalloutTLS(t *testing.T) {
	p := compile(t, `<ServiceCallout name="P-1"><Response>r</Response><HTTPTargetConnection><URL>https://svc.example.com/</URL>
		<Properties><Property name="connect.timeout.millis">1500</Property><Property name="io.timeout.millis">4000</Property></Properties>
		<SSLInfo><Enabled>true</Enabled><IgnoreValidationErrors>true</IgnoreValidationErrors><ClientAuthEnabled>false</ClientAuthEnabled>
		<Protocols><Protocol>TLSv1.3</Protocol><Protocol>TLSv1.2</Protocol></Protocols>
		<Ciphers><Cipher>TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256</Cipher></Ciphers></SSLInfo></HTTPTargetConnection></ServiceCallout>`)
	m := upstream.NewMock()
	m.AnswerStatus("P-1", 200, nil, nil)
	r := newRun(engine.ProxyRequest, "GET", "/", "", nil)
	r.SetTestUpstream(m)
	if err := p.Execute(r); err != nil {
		t.Fatalf("Execute: %v", err)
	}
	c := m.Calls()[0]
	got := fmt.Sprintf("%v %v %+v", c.Timeout, c.ConnectTimeout, c.TLS)
	want := "4s 1.5s {MinVersion:771 MaxVersion:772 Ciphers:[TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256] InsecureSkipVerify:true ClientCertPEM:[] ClientKeyPEM:[] ClientKeyPassword: ServerName:}"
	if got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
}

// TestServiceCalloutRunsTwice: the URL this policy wrote on its first run
// is not taken for an override on the second.
func TestServiceCalloutRunsTwice(t *testing.T) {
	p := compile(t, `<ServiceCallout name="P-1"><Request><Set><Path>/{n}</Path></Set></Request><Response>r</Response>
		<HTTPTargetConnection><URL>http://svc.example.com/base</URL></HTTPTargetConnection></ServiceCallout>`)
	m := upstream.NewMock()
	m.AnswerStatus("P-1", 200, nil, nil)
	r := newRun(engine.ProxyRequest, "GET", "/", "", nil)
	r.SetTestUpstream(m)
	for _, n := range []string{"1", "2"} {
		_ = r.Set("n", n)
		if err := p.Execute(r); err != nil {
			t.Fatalf("Execute: %v", err)
		}
	}
	if got, want := dumpCalls(m.Calls()), "GET http://svc.example.com/base/1 55s\n\n\nGET http://svc.example.com/base/2 55s\n\n\n"; got != want {
		t.Errorf("calls:\n got %q\nwant %q", got, want)
	}
}
