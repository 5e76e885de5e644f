package policies

import (
	"errors"
	"strconv"
	"strings"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/apigee/msgtemplate"
	"github.com/flowproc/flowproc/flowengine/diag"
)

// CORS (Apigee X; Apigee docs: CORS) answers CORS preflights and adds CORS
// headers to the response:
//
//	<CORS name="CORS"><AllowOrigins>{request.header.origin}</AllowOrigins>
//	  <AllowMethods>GET, PUT, POST, DELETE</AllowMethods><AllowHeaders>origin, x-requested-with</AllowHeaders>
//	  <ExposeHeaders>*</ExposeHeaders><MaxAge>3628800</MaxAge><AllowCredentials>false</AllowCredentials>
//	  <GeneratePreflightResponse>true</GeneratePreflightResponse><IgnoreUnresolvedVariables>true</IgnoreUnresolvedVariables></CORS>
//
// What flowproc relies on (Apigee X's CORS policy page; flowproc's own
// reading is marked):
//   - <AllowOrigins> is required (deployment error MissingAllowOrigins); it
//     and AllowMethods, AllowHeaders and ExposeHeaders are message
//     templates giving comma lists. Defaults: AllowMethods "GET, POST,
//     HEAD, OPTIONS", AllowHeaders "Origin, Accept, X-Requested-With,
//     Content-Type, Access-Control-Request-Method,
//     Access-Control-Request-Headers", ExposeHeaders and AllowCredentials
//     none (no header), MaxAge 1800 (-1 is sent as -1: no caching),
//     GeneratePreflightResponse true, IgnoreUnresolvedVariables true.
//     A MaxAge that is not a number (InvalidMaxAge) and a literal
//     AllowMethods entry that is not a method or * (InvalidHTTPMethods)
//     fail the load.
//   - The origin (Origin header) is allowed when it equals one of the
//     listed origins (flowproc: ignoring case) or the list holds "*";
//     Access-Control-Allow-Origin is then "set to the origin as provided
//     by the client". A request without Origin is not a CORS request:
//     flowproc adds no headers to its response.
//   - The policy sets the cross_origin_resource_sharing.* variables
//     (allow.credentials, allow.headers, allow.methods, allow.origin —
//     the allowed origin or "" —, allow.origins.list, expose.headers,
//     max.age, preflight.accepted, request.headers, request.method,
//     request.origin, request.type ACTUAL or PRE_FLIGHT). A preflight is
//     accepted when its origin, requested method and every requested
//     header are allowed (flowproc's reading of "accepted").
//   - A preflight (OPTIONS with Origin and Access-Control-Request-Method)
//     with GeneratePreflightResponse true is answered (engine.Run.Answer):
//     status 200, Access-Control-Allow-Methods, -Allow-Headers and
//     -Max-Age when accepted; "proxy flow execution transfers directly to
//     the Proxy Response PreFlow, skipping the request flows".
//     With false, no answer: the flow goes on with the variables set.
//   - "During the final response flow just before Response Sent to
//     Client" (also in the error flow) Apigee sets
//     Access-Control-Allow-Credentials, Access-Control-Allow-Origin and
//     Access-Control-Expose-Headers: flowproc registers that step with
//     engine.Run.OnResponse and takes the values from the variables then
//     (they are read/write), so a flow that changes them changes the
//     headers.
//   - An unresolved variable with IgnoreUnresolvedVariables false is the
//     UnresolvedVariable fault (500, "CORS[<policy>]: unable to resolve
//     variable <name>"); with true it renders as empty. On a preflight
//     with GeneratePreflightResponse, Apigee answers such an error at once,
//     skipping the error flow and the fault variables: flowproc answers
//     the fault JSON (500) through engine.Run.Answer (so the proxy
//     response flow still runs).
//   - A failure sets cors.<policy>.failed.
func init() {
	engine.Register(engine.Kind{Type: "CORS", Prefix: "cors", New: newCORS, Recyclable: true})
}

const corsVar = "cross_origin_resource_sharing."

type corsPolicy struct {
	name                              string
	origins, methods, headers, expose *msgtemplate.Template
	maxAge                            int
	credentials                       string // "", "true" or "false"
	preflight, ignoreU                bool
}

// corsMethod reports whether s is an HTTP method token.
func corsMethod(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", c)) {
			return false
		}
	}
	return true
}

func newCORS(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	root := p.Root
	c.Unknown(root, allowed("AllowOrigins", "AllowMethods", "AllowHeaders", "ExposeHeaders", "MaxAge",
		"AllowCredentials", "GeneratePreflightResponse", "IgnoreUnresolvedVariables")...)
	cp := &corsPolicy{name: p.Name, maxAge: 1800, preflight: true, ignoreU: true}
	tmpl := func(name, def string) *msgtemplate.Template {
		n := root.Child(name)
		src := def
		at := root
		if n != nil {
			src, at = strings.TrimSpace(n.Text), n
		}
		if src == "" {
			return nil
		}
		return c.Template(at, src)
	}
	n := root.Child("AllowOrigins")
	if n == nil || strings.TrimSpace(n.Text) == "" {
		c.Errorf(root, diag.APMissingElement, "CORS %s has no <AllowOrigins> (MissingAllowOrigins)", p.Name)
		return nil
	}
	cp.origins = tmpl("AllowOrigins", "")
	cp.methods = tmpl("AllowMethods", "GET, POST, HEAD, OPTIONS")
	cp.headers = tmpl("AllowHeaders", "Origin, Accept, X-Requested-With, Content-Type, Access-Control-Request-Method, Access-Control-Request-Headers")
	cp.expose = tmpl("ExposeHeaders", "")
	if cp.methods != nil && cp.methods.IsLiteral() {
		for _, m := range corsList(cp.methods.Source()) {
			if m != "*" && !corsMethod(m) {
				c.Errorf(root.Child("AllowMethods"), diag.APBadPolicy, "<AllowMethods>: %q is not an HTTP method (InvalidHTTPMethods)", m)
			}
		}
	}
	if n := root.Child("MaxAge"); n != nil {
		v, err := strconv.Atoi(strings.TrimSpace(n.Text))
		if err != nil || v < -1 {
			c.Errorf(n, diag.APBadPolicy, "<MaxAge> %q: want a number of seconds, or -1 (InvalidMaxAge)", n.Text)
		}
		cp.maxAge = v
	}
	if n := root.Child("AllowCredentials"); n != nil {
		if c.Bool(n, n.Text, false) {
			cp.credentials = "true"
		} else {
			cp.credentials = "false"
		}
	}
	if n := root.Child("GeneratePreflightResponse"); n != nil {
		cp.preflight = c.Bool(n, n.Text, true)
	}
	if n := root.Child("IgnoreUnresolvedVariables"); n != nil {
		cp.ignoreU = c.Bool(n, n.Text, true)
	}
	if cp.origins == nil {
		return nil
	}
	return cp
}

// render renders a list template ("" for nil).
func (cp *corsPolicy) render(r *engine.Run, t *msgtemplate.Template) (string, error) {
	if t == nil {
		return "", nil
	}
	s, miss, err := t.String(r)
	if err != nil {
		return "", err
	}
	if miss != "" && !cp.ignoreU {
		return "", engine.NewFault("cors", "UnresolvedVariable", 500, "CORS[%s]: unable to resolve variable %s", cp.name, miss)
	}
	return s, nil
}

// corsList splits a comma list, trimmed, without empty items.
func corsList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// corsHas reports whether list holds v or "*" (ignoring case).
func corsHas(list []string, v string) bool {
	for _, x := range list {
		if x == "*" || strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// Execute implements engine.Policy.
func (cp *corsPolicy) Execute(r *engine.Run) error {
	req := r.Request
	origin, _ := req.HeaderLine("Origin")
	reqMethod, hasReqMethod := req.Header("Access-Control-Request-Method")
	reqHeaders, _ := req.HeaderLine("Access-Control-Request-Headers")
	isPreflight := strings.EqualFold(req.Verb, "OPTIONS") && origin != "" && hasReqMethod && reqMethod != ""

	var vals [4]string
	for i, t := range []*msgtemplate.Template{cp.origins, cp.methods, cp.headers, cp.expose} {
		v, err := cp.render(r, t)
		if err != nil {
			var f *engine.Fault
			if isPreflight && cp.preflight && errors.As(err, &f) {
				// Apigee: with GeneratePreflightResponse an error answers
				// the client at once; the error flow is skipped and the
				// fault variables are not set.
				m := engine.NewResponse()
				m.SetStatus(f.Status)
				m.SetHeader("Content-Type", "application/json")
				m.SetContent(engine.FaultJSON(f.Message, f.Code))
				return r.Answer(m)
			}
			return err
		}
		vals[i] = strings.Join(corsList(v), ", ")
	}
	origins, methods, headers, expose := vals[0], vals[1], vals[2], vals[3]
	allowOrigin := ""
	if origin != "" && corsHas(corsList(origins), origin) {
		allowOrigin = origin
	}
	accepted := false
	if isPreflight && allowOrigin != "" && corsHas(corsList(methods), reqMethod) {
		accepted = true
		hl := corsList(headers)
		for _, h := range corsList(reqHeaders) {
			if !corsHas(hl, h) {
				accepted = false
				break
			}
		}
	}
	typ := "ACTUAL"
	if isPreflight {
		typ = "PRE_FLIGHT"
	}
	set := []struct {
		name string
		v    any
	}{
		{"allow.headers", headers}, {"allow.methods", methods}, {"allow.origin", allowOrigin},
		{"allow.origins.list", origins}, {"expose.headers", expose}, {"max.age", cp.maxAge},
		{"preflight.accepted", accepted}, {"request.headers", reqHeaders}, {"request.method", reqMethod},
		{"request.origin", origin}, {"request.type", typ},
	}
	if cp.credentials != "" {
		set = append(set, struct {
			name string
			v    any
		}{"allow.credentials", cp.credentials == "true"})
	}
	for _, kv := range set {
		if err := r.Set(corsVar+kv.name, kv.v); err != nil {
			return err
		}
	}
	r.OnResponse(func(m *engine.Message) { corsResponseHeaders(r, m) })
	if !isPreflight || !cp.preflight {
		return nil
	}
	m := engine.NewResponse()
	m.SetStatus(200)
	if accepted {
		if methods != "" {
			m.SetHeader("Access-Control-Allow-Methods", methods)
		}
		if headers != "" {
			m.SetHeader("Access-Control-Allow-Headers", headers)
		}
		m.SetHeader("Access-Control-Max-Age", strconv.Itoa(cp.maxAge))
	}
	return r.Answer(m)
}

// corsResponseHeaders is Apigee's final CORS step: the
// Access-Control-Allow-Origin, -Allow-Credentials and -Expose-Headers
// headers from the variables as they are when the response leaves.
func corsResponseHeaders(r *engine.Run, m *engine.Message) {
	origin, _ := r.Get(corsVar + "allow.origin")
	if origin == "" {
		return
	}
	m.SetHeader("Access-Control-Allow-Origin", origin)
	if v, ok := r.Get(corsVar + "allow.credentials"); ok && v != "" {
		m.SetHeader("Access-Control-Allow-Credentials", v)
	}
	if v, ok := r.Get(corsVar + "expose.headers"); ok && v != "" {
		m.SetHeader("Access-Control-Expose-Headers", v)
	}
}
