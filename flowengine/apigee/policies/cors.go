package policies

import (
	"strconv"
	"strings"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/apigee/msgtemplate"
	"github.com/flowproc/flowproc/flowengine/diag"
)

// CORS (Apigee X; reference §4.12) answers CORS preflights and adds CORS
// headers to the response:
//
//	<CORS name="CORS"><AllowOrigins>{request.header.origin}</AllowOrigins>
//	  <AllowMethods>GET, PUT, POST, DELETE</AllowMethods><AllowHeaders>origin, x-requested-with</AllowHeaders>
//	  <ExposeHeaders>*</ExposeHeaders><MaxAge>3628800</MaxAge><AllowCredentials>false</AllowCredentials>
//	  <GeneratePreflightResponse>true</GeneratePreflightResponse><IgnoreUnresolvedVariables>true</IgnoreUnresolvedVariables></CORS>
//
// What flowproc relies on (Apigee X's CORS policy page; marked where it is
// flowproc's reading):
//   - <AllowOrigins> is required: a message template giving a comma list
//     of origins, or "*". Defaults: AllowMethods "GET, PUT, POST, DELETE",
//     AllowHeaders "origin, x-requested-with, accept, content-type",
//     ExposeHeaders none, MaxAge 1800 (-1: no Access-Control-Max-Age),
//     AllowCredentials false, GeneratePreflightResponse true,
//     IgnoreUnresolvedVariables true. All list elements are templates.
//   - A request without an Origin header is not a CORS request: nothing
//     happens. Otherwise the origin is allowed when it equals (ignoring
//     case) one of the listed origins or the list holds "*".
//   - A preflight is an OPTIONS request with Origin and
//     Access-Control-Request-Method. With GeneratePreflightResponse the
//     policy answers it at once (engine.Run.Answer): status 200, no body,
//     the CORS headers; the rest of the request flow, the target and the
//     response flows do not run (the PostClientFlow does). flowproc
//     answers a preflight from a disallowed origin too, without CORS
//     headers, so the browser refuses it and the target never sees it.
//   - On any other request the policy remembers the headers and adds them
//     to the final response (engine.Run.OnResponse) — the target's, the
//     proxy's or an error response — as Apigee applies CORS headers at
//     the end of the flow: Access-Control-Allow-Origin,
//     Access-Control-Allow-Credentials (when true) and
//     Access-Control-Expose-Headers (when set); a preflight the proxy
//     answers itself (GeneratePreflightResponse false) also gets
//     Access-Control-Allow-Methods, -Allow-Headers and -Max-Age.
//   - Access-Control-Allow-Origin is "*" when the origin matched only the
//     "*" entry and credentials are not allowed, the request's origin
//     otherwise (browsers reject "*" with credentials). AllowMethods and
//     AllowHeaders "*" with credentials echo the preflight's requested
//     method and headers, for the same reason (flowproc's reading).
//   - An unresolved variable in a template is the UnresolvedVariable
//     fault (500, "Unresolved variable : <name>") when
//     IgnoreUnresolvedVariables is false; with true it renders as empty.
//
// flowproc sets no cors.* flow variables (none verified in Apigee's docs).
func init() {
	engine.Register(engine.Kind{Type: "CORS", Prefix: "cors", New: newCORS})
}

type corsPolicy struct {
	origins, methods, headers, expose *msgtemplate.Template
	maxAge                            string // "" = no header
	credentials, preflight, ignoreU   bool
}

func newCORS(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	root := p.Root
	c.Unknown(root, allowed("AllowOrigins", "AllowMethods", "AllowHeaders", "ExposeHeaders", "MaxAge",
		"AllowCredentials", "GeneratePreflightResponse", "IgnoreUnresolvedVariables")...)
	cp := &corsPolicy{maxAge: "1800", preflight: true, ignoreU: true}
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
		c.Errorf(root, diag.APMissingElement, "CORS %s has no <AllowOrigins>", p.Name)
		return nil
	}
	cp.origins = tmpl("AllowOrigins", "")
	cp.methods = tmpl("AllowMethods", "GET, PUT, POST, DELETE")
	cp.headers = tmpl("AllowHeaders", "origin, x-requested-with, accept, content-type")
	cp.expose = tmpl("ExposeHeaders", "")
	if n := root.Child("MaxAge"); n != nil {
		v, err := strconv.Atoi(strings.TrimSpace(n.Text))
		switch {
		case err != nil || v < -1:
			c.Errorf(n, diag.APBadPolicy, "<MaxAge> %q: want a number of seconds, or -1", n.Text)
		case v == -1:
			cp.maxAge = ""
		default:
			cp.maxAge = strconv.Itoa(v)
		}
	}
	if n := root.Child("AllowCredentials"); n != nil {
		cp.credentials = c.Bool(n, n.Text, false)
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
		return "", engine.NewFault("cors", "UnresolvedVariable", 500, "Unresolved variable : %s", miss)
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

// Execute implements engine.Policy.
func (cp *corsPolicy) Execute(r *engine.Run) error {
	req := r.Request
	origin, ok := req.Header("Origin")
	if !ok || origin == "" {
		return nil
	}
	// Origin is one value; Header stops at a comma, which an origin has
	// not, so HeaderLine is not needed.
	reqMethod, hasReqMethod := req.Header("Access-Control-Request-Method")
	isPreflight := strings.EqualFold(req.Verb, "OPTIONS") && hasReqMethod && reqMethod != ""

	origins, err := cp.render(r, cp.origins)
	if err != nil {
		return err
	}
	allowOrigin := ""
	for _, o := range corsList(origins) {
		if o == "*" {
			if allowOrigin == "" {
				allowOrigin = "*"
			}
			continue
		}
		if strings.EqualFold(o, origin) {
			allowOrigin = origin
			break
		}
	}
	if allowOrigin == "*" && cp.credentials {
		allowOrigin = origin
	}

	var hs [][2]string
	if allowOrigin != "" {
		hs = append(hs, [2]string{"Access-Control-Allow-Origin", allowOrigin})
		if cp.credentials {
			hs = append(hs, [2]string{"Access-Control-Allow-Credentials", "true"})
		}
		if isPreflight {
			pre, err := cp.preflightHeaders(r, req, reqMethod)
			if err != nil {
				return err
			}
			hs = append(hs, pre...)
		} else if cp.expose != nil {
			exp, err := cp.render(r, cp.expose)
			if err != nil {
				return err
			}
			if l := corsList(exp); len(l) > 0 {
				hs = append(hs, [2]string{"Access-Control-Expose-Headers", strings.Join(l, ", ")})
			}
		}
	}
	if isPreflight && cp.preflight {
		m := engine.NewResponse()
		m.SetStatus(200)
		for _, h := range hs {
			m.SetHeader(h[0], h[1])
		}
		return r.Answer(m)
	}
	if len(hs) > 0 {
		r.OnResponse(func(m *engine.Message) {
			for _, h := range hs {
				m.SetHeader(h[0], h[1])
			}
		})
	}
	return nil
}

// preflightHeaders are the headers only a preflight answer carries.
func (cp *corsPolicy) preflightHeaders(r *engine.Run, req *engine.Message, reqMethod string) ([][2]string, error) {
	var hs [][2]string
	methods, err := cp.render(r, cp.methods)
	if err != nil {
		return nil, err
	}
	if l := corsList(methods); len(l) > 0 {
		v := strings.Join(l, ", ")
		if v == "*" && cp.credentials {
			v = reqMethod
		}
		hs = append(hs, [2]string{"Access-Control-Allow-Methods", v})
	}
	headers, err := cp.render(r, cp.headers)
	if err != nil {
		return nil, err
	}
	if l := corsList(headers); len(l) > 0 {
		v := strings.Join(l, ", ")
		if v == "*" && cp.credentials {
			v, _ = req.HeaderLine("Access-Control-Request-Headers")
		}
		if v != "" {
			hs = append(hs, [2]string{"Access-Control-Allow-Headers", v})
		}
	}
	if cp.maxAge != "" {
		hs = append(hs, [2]string{"Access-Control-Max-Age", cp.maxAge})
	}
	return hs, nil
}
