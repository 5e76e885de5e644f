package flat

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/flowproc/flowproc/flowengine/apidef"
	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/mock"
	"github.com/flowproc/flowproc/flowengine/oasvalidate"
	"github.com/flowproc/flowproc/flowengine/oxn"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// Upstream OpenAPI checks (FLAT docs: upstream API definitions): a side call with the
// options "definition" and validate-request / validate-response /
// mock-response is checked against the upstream API's definition. A
// request that violates it is not sent (400, code 3202); a response that
// violates it is replaced by the system error document (502, code 3203,
// with the upstream status in info); "report-only" logs a flat_alert
// instead; mock-response answers from the definition's examples without a
// request. The error is in $upstream/<id>/error, and with exit-on-error
// it ends the flow. proxy-request with a definition validates both
// directions and exits on error unless told otherwise. A definition that
// does not load is a 500. Definitions are compiled once per project.

// parseCheckMode reads a validate-* option: true, false or "report-only",
// the switch x-flat-validate uses too.
func parseCheckMode(n *dom.Node) (oasvalidate.Mode, error) {
	switch oxn.TypeOf(n) {
	case oxn.Boolean:
		return oasvalidate.ParseMode(n.StringValue() == "true")
	case oxn.String:
		return oasvalidate.ParseMode(n.StringValue())
	}
	return oasvalidate.Off, fmt.Errorf("want true, false or \"report-only\"")
}

// upCheck is a call's upstream OpenAPI checks (upstream.Call.Extra).
type upCheck struct {
	definition      string
	req, resp, sec  oasvalidate.Mode
	reqSet, respSet bool
	mock            bool
	exitSet         bool
	dir             string // the flow's directory (definition is relative to it)
	def             *upstreamDef
	match           apidef.Match
	reqFailed       bool
	reqInput        oasvalidate.RequestInput
}

// upCheckOf returns the call's checks, creating them.
func upCheckOf(c *upstream.Call) *upCheck {
	if uc, ok := c.Extra.(*upCheck); ok {
		return uc
	}
	uc := &upCheck{}
	c.Extra = uc
	return uc
}

// upstreamDef is a compiled upstream definition.
type upstreamDef struct {
	def *apidef.Definition
	val *oasvalidate.Validator
	err error
}

// upstreamDefs caches compiled upstream definitions per project.
type upstreamDefs struct {
	mu   sync.Mutex
	defs map[string]*upstreamDef
}

// upstreamDef loads (once) the definition at path, inside the project.
func (p *Project) upstreamDef(path string) *upstreamDef {
	p.upDefs.mu.Lock()
	defer p.upDefs.mu.Unlock()
	if d, ok := p.upDefs.defs[path]; ok {
		return d
	}
	if p.upDefs.defs == nil {
		p.upDefs.defs = map[string]*upstreamDef{}
	}
	d := &upstreamDef{}
	def, errs := apidef.LoadFile(p.dir, path)
	if def == nil || len(errs) > 0 || def.Doc == nil {
		d.err = fmt.Errorf("the upstream definition %s does not load (%d errors)", p.rel(path), len(errs))
		p.logger().Error("upstream definition does not load", "project", p.name, "definition", p.rel(path), "errors", errs.Error())
	} else if v, verrs := oasvalidate.CompileUpstream(def); len(verrs) > 0 {
		d.err = fmt.Errorf("the upstream definition %s does not compile for validation", p.rel(path))
		p.logger().Error("upstream definition does not compile", "project", p.name, "definition", p.rel(path), "errors", verrs.Error())
	} else {
		d.def, d.val = def, v
	}
	p.upDefs.defs[path] = d
	return d
}

// checkBefore runs the checks a call needs before it is sent. It returns
// a result that replaces the network call (a mock, or a refused request)
// or nil to send it; an error ends the flow (an unusable definition).
func (r *run) checkBefore(c *upstream.Call) (*upstream.Result, error) {
	uc, _ := c.Extra.(*upCheck)
	if uc == nil || uc.definition == "" {
		return nil, nil
	}
	path := filepath.Join(uc.dir, filepath.FromSlash(uc.definition))
	if rel, err := filepath.Rel(r.p.dir, path); err != nil || !filepath.IsLocal(rel) {
		return nil, &flowError{status: 500, code: 5000, message: "FlowError", info: []string{fmt.Sprintf("request %s: the definition %q is outside the project", c.ID, uc.definition)}}
	}
	uc.def = r.p.upstreamDef(path)
	if uc.def.err != nil {
		return nil, &flowError{status: 500, code: 5000, message: "FlowError", info: []string{fmt.Sprintf("request %s: %v", c.ID, uc.def.err)}}
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return nil, nil
	}
	uc.match = uc.def.def.Match(c.Method, u.EscapedPath())
	in := oasvalidate.RequestInput{Path: uc.match.Path, Op: uc.match.Op, Params: uc.match.Params, Method: c.Method,
		RawPath: u.EscapedPath(), Query: u.RawQuery, ContentType: c.ContentType, Body: c.Body, BodyRead: true}
	for _, h := range c.Headers {
		in.Headers = append(in.Headers, oasvalidate.Header{Name: strings.ToLower(h.Name), Value: h.Value})
		if strings.EqualFold(h.Name, "content-type") {
			in.ContentType = h.Value
		}
	}
	if in.ContentType != "" && !hasCheckHeader(in.Headers, "content-type") {
		in.Headers = append(in.Headers, oasvalidate.Header{Name: "content-type", Value: in.ContentType})
	}
	uc.reqInput = in
	if uc.req != oasvalidate.Off {
		if fe := r.upstreamViolation(c, uc, uc.match.Kind != apidef.Matched, func() *oasvalidate.Error {
			return uc.def.val.ValidateRequest(r.x.Ctx, in).Error
		}, 400, 3202, "Upstream Request Validation Failed", uc.req, ""); fe != nil {
			uc.reqFailed = true
			return &upstream.Result{ID: c.ID, URL: c.URL, Extra: fe}, nil
		}
	}
	if uc.sec != oasvalidate.Off {
		if fe := r.upstreamViolation(c, uc, false, func() *oasvalidate.Error {
			return securityCheck(uc, in)
		}, 401, 3207, "Upstream Request Security Validation Failed", uc.sec, ""); fe != nil {
			uc.reqFailed = true
			return &upstream.Result{ID: c.ID, URL: c.URL, Extra: fe}, nil
		}
	}
	if uc.mock && uc.match.Kind == apidef.Matched {
		method := c.Method
		if uc.match.Op != nil {
			method = uc.match.Op.Method
		}
		accept := ""
		for _, h := range c.Headers {
			if strings.EqualFold(h.Name, "accept") {
				accept = h.Value
			}
		}
		if op := mock.Operation(uc.def.def.Doc, uc.match.Path.Pattern, method); op != nil {
			if status, ct, body, ok := mock.Response(uc.def.def.Doc, op, accept); ok {
				h := http.Header{}
				h.Set("Content-Type", ct)
				h.Set(mock.Header, "true")
				return &upstream.Result{ID: c.ID, URL: c.URL, Status: status, Header: h, Body: body}, nil
			}
		}
		return &upstream.Result{ID: c.ID, URL: c.URL, Extra: &flowError{status: 500, code: 3211, message: "Mocking failed",
			info: []string{"no example or schema of a 2xx response in the upstream definition for " + c.Method + " " + in.RawPath}}}, nil
	}
	return nil, nil
}

// checkAfter validates a response when the call asks for it; a violation
// replaces the body with the system error document.
func (r *run) checkAfter(c *upstream.Call, res *upstream.Result) {
	uc, _ := c.Extra.(*upCheck)
	if uc == nil || uc.def == nil || uc.def.val == nil || uc.resp == oasvalidate.Off || res.Err != nil || res.Extra != nil || uc.reqFailed {
		return
	}
	in := oasvalidate.ResponseInput{Request: uc.reqInput, Status: res.Status, Body: res.Body}
	for name, vals := range res.Header {
		in.Headers = append(in.Headers, oasvalidate.Header{Name: strings.ToLower(name), Value: strings.Join(vals, ", ")})
	}
	in.ContentType = res.Header.Get("Content-Type")
	upstreamStatus := fmt.Sprintf("Upstream status: %d %s", res.Status, http.StatusText(res.Status))
	if fe := r.upstreamViolation(c, uc, uc.match.Kind != apidef.Matched, func() *oasvalidate.Error {
		return uc.def.val.ValidateResponse(r.x.Ctx, in).Error
	}, 502, 3203, "Upstream Response Validation Failed", uc.resp, upstreamStatus); fe != nil {
		res.Extra = fe
		res.Body = errorDocument(fe, r.x.ID)
		if res.Header == nil {
			res.Header = http.Header{}
		}
		res.Header.Set("Content-Type", "application/json")
	}
}

// upstreamViolation runs a check and returns the error of a violation
// that counts (nil when valid, or when report-only, which only logs).
func (r *run) upstreamViolation(c *upstream.Call, uc *upCheck, unknownPath bool, check func() *oasvalidate.Error,
	status, code int, message string, mode oasvalidate.Mode, extraInfo string) *flowError {
	var info []string
	if unknownPath {
		info = []string{fmt.Sprintf("Operation %s %s not found in the upstream definition.", c.Method, uc.reqInput.RawPath)}
	} else if e := check(); e != nil {
		info = append(info, e.Info...)
	}
	if len(info) == 0 {
		return nil
	}
	if extraInfo != "" {
		info = append(info, extraInfo)
	}
	r.p.logger().LogAttrs(context.WithoutCancel(r.x.Ctx), slog.LevelWarn, "flat_alert",
		slog.String("type", "flat_alert"), slog.String("topic", "validation"), slog.String("requestID", r.x.ID),
		slog.String("message", message), slog.String("request", c.ID), slog.Any("info", info))
	if mode == oasvalidate.ReportOnly {
		return nil
	}
	return &flowError{status: status, code: code, message: message, info: info}
}

func hasCheckHeader(hs []oasvalidate.Header, name string) bool {
	for _, h := range hs {
		if h.Name == name {
			return true
		}
	}
	return false
}

// securityCheck checks that a call carries what the upstream definition's
// security requirements ask for (FLAT's validate-request-security): the
// operation's requirements, else the definition's; one alternative must
// be met in full. Credentials are only checked for presence — the upstream
// verifies them.
func securityCheck(uc *upCheck, in oasvalidate.RequestInput) *oasvalidate.Error {
	if uc.match.Kind != apidef.Matched {
		return nil
	}
	doc := uc.def.def.Doc
	method := in.Method
	if uc.match.Op != nil {
		method = uc.match.Op.Method
	}
	reqs := doc.Security
	if op := mock.Operation(doc, uc.match.Path.Pattern, method); op != nil && op.Security != nil {
		reqs = *op.Security
	}
	if len(reqs) == 0 {
		return nil
	}
	header := func(name string) string {
		for _, h := range in.Headers {
			if strings.EqualFold(h.Name, name) {
				return h.Value
			}
		}
		return ""
	}
	query, _ := url.ParseQuery(in.Query)
	var info []string
	for _, alt := range reqs {
		var missing []string
		for name := range alt {
			ref := doc.Components.SecuritySchemes[name]
			if ref == nil || ref.Value == nil {
				missing = append(missing, fmt.Sprintf("Security (%s): unknown security scheme", name))
				continue
			}
			s := ref.Value
			switch {
			case s.Type == "apiKey" && s.In == "header" && header(s.Name) == "":
				missing = append(missing, fmt.Sprintf("Header Security (%s): Missing header %s", name, s.Name))
			case s.Type == "apiKey" && s.In == "query" && !query.Has(s.Name):
				missing = append(missing, fmt.Sprintf("Query Security (%s): Missing query parameter %s", name, s.Name))
			case s.Type == "apiKey" && s.In == "cookie" && !hasCookie(header("cookie"), s.Name):
				missing = append(missing, fmt.Sprintf("Cookie Security (%s): Missing cookie %s", name, s.Name))
			case s.Type == "http" && !strings.HasPrefix(strings.ToLower(header("authorization")), strings.ToLower(s.Scheme)+" "):
				missing = append(missing, fmt.Sprintf("HTTP Security (%s): Missing %s credentials in the Authorization header", name, s.Scheme))
			case (s.Type == "oauth2" || s.Type == "openIdConnect") && !strings.HasPrefix(strings.ToLower(header("authorization")), "bearer "):
				missing = append(missing, fmt.Sprintf("OAuth2 Security (%s): Missing bearer token in the Authorization header", name))
			}
		}
		if len(missing) == 0 {
			return nil
		}
		sort.Strings(missing)
		info = append(info, missing...)
	}
	return &oasvalidate.Error{Status: 401, Code: 3207, Message: "Upstream Request Security Validation Failed", Info: info}
}

func hasCookie(header, name string) bool {
	for part := range strings.SplitSeq(header, ";") {
		if k, _, _ := strings.Cut(strings.TrimSpace(part), "="); k == name {
			return true
		}
	}
	return false
}
