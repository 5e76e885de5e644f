package policies

import (
	"net/http"
	"path"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/flowproc/flowproc/flowengine/apidef"
	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/oasvalidate"
)

// OASValidation validates a request or response message against an OpenAPI
// 3 specification stored in the bundle (resources/oas/, oas://file).
//
// What flowproc relies on (Apigee's OASValidation policy reference and
// its runtime-error reference):
//   - <OASResource>oas://spec.yaml</OASResource> is required; the file must
//     end in .json, .yaml or .yml. It is parsed and compiled once at load:
//     a missing file is AP204, a spec that does not parse or is not
//     OpenAPI 3 is AP401. A resource named by a variable ({…}) is not
//     supported (AP401, fail closed).
//   - <Source> is request, response, message (the default: the message of
//     the running flow) or a message variable.
//   - The proxy's base path counts, the spec's servers/basePath is
//     ignored: proxy.pathsuffix is matched against the spec's paths
//     (the request's verb selects the operation; for a response, the
//     request's verb and path suffix). A request message that a policy
//     built (Source naming a message variable) is matched by its own path
//     (flowproc's reading: it has no proxy path suffix).
//   - Parameters (path, query, header, cookie) are always checked.
//     <Options><ValidateMessageBody> (default false) adds the body schema,
//     and only for a JSON Content-Type (application/json, flowproc also
//     takes application/*+json); other bodies pass unchecked.
//     For a response the status must be defined and the response headers
//     the spec declares are checked.
//   - <Options><AllowUnspecifiedParameters><Header|Query|Cookie> default
//     true; false rejects a request parameter the operation does not
//     declare. For headers, the standard HTTP and proxy headers listed in
//     oasStdHeaders are never "unspecified" (flowproc's choice: Apigee
//     documents no list).
//   - A violation is steps.oasvalidation.Failed, status 400 for a request
//     and 500 for a response (flowproc's reading: a bad response is the
//     server's fault), with the faultstring
//     OASValidation <policy> with resource "oas://<file>": failed with reason: "[ERROR - <msg>: [], …]"
//     Apigee's messages are its validator's; flowproc uses the wording
//     of "No API path found that matches request '<path>'." and
//     "<VERB> operation not allowed on path '<path>'." and otherwise the
//     info sentences of package oasvalidate.
//   - A Source message not in scope is SourceMessageNotAvailable
//     ("<source> message is not available for OASValidation policy <p>"),
//     a Source variable that is not a message NotMessageVariable
//     ("Variable <v> does not resolve to a Message"); both 500.
//   - The engine sets oasvalidation.<policy>.failed.
func init() {
	engine.Register(engine.Kind{Type: "OASValidation", Prefix: oasPrefix, New: newOASValidation, Recyclable: true})
}

const oasPrefix = "oasvalidation"

// oasKey identifies a routed operation of the spec.
type oasKey struct {
	p *apidef.Path
	o *apidef.Operation
}

// oasDeclared are the parameters an operation declares, for
// AllowUnspecifiedParameters false: query and cookie names as written,
// header names lower-case.
type oasDeclared struct {
	query, header, cookie map[string]bool
}

type oasValidation struct {
	name, resource string
	source         string
	def            *apidef.Definition
	val            *oasvalidate.Validator
	body           bool
	allowHeader    bool
	allowQuery     bool
	allowCookie    bool
	declared       map[oasKey]*oasDeclared
}

func newOASValidation(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	root := p.Root
	c.Unknown(root, allowed("OASResource", "Source", "Options")...)
	o := &oasValidation{name: p.Name, source: "message", allowHeader: true, allowQuery: true, allowCookie: true}
	if s := strings.TrimSpace(repChildText(root, "Source")); s != "" {
		o.source = s
	}
	if opts := root.Child("Options"); opts != nil {
		c.Unknown(opts, "ValidateMessageBody", "AllowUnspecifiedParameters")
		if n := opts.Child("ValidateMessageBody"); n != nil {
			o.body = c.Bool(n, n.Text, false)
		}
		if aup := opts.Child("AllowUnspecifiedParameters"); aup != nil {
			c.Unknown(aup, "Header", "Query", "Cookie")
			for _, f := range []struct {
				name string
				dst  *bool
			}{{"Header", &o.allowHeader}, {"Query", &o.allowQuery}, {"Cookie", &o.allowCookie}} {
				if n := aup.Child(f.name); n != nil {
					*f.dst = c.Bool(n, n.Text, true)
				}
			}
		}
	}
	res := root.Child("OASResource")
	if res == nil || strings.TrimSpace(res.Text) == "" {
		at := res
		if at == nil {
			at = root
		}
		c.Errorf(at, diag.APMissingElement, "OASValidation %s: <OASResource> is required", p.Name)
		return nil
	}
	o.resource = strings.TrimSpace(res.Text)
	if strings.ContainsAny(o.resource, "{}") {
		c.Errorf(res, diag.APBadPolicy, "OASValidation %s: <OASResource> %q: a resource named by a variable is not supported", p.Name, o.resource)
		return nil
	}
	if !strings.HasPrefix(o.resource, "oas://") {
		c.Errorf(res, diag.APBadPolicy, "OASValidation %s: <OASResource> %q: want oas://<file>", p.Name, o.resource)
		return nil
	}
	switch strings.ToLower(path.Ext(o.resource)) {
	case ".json", ".yaml", ".yml":
	default:
		c.Errorf(res, diag.APBadPolicy, "OASValidation %s: <OASResource> %q: the specification must end in .json, .yaml or .yml", p.Name, o.resource)
		return nil
	}
	data, found := c.Resource(res, o.resource)
	if !found {
		return nil
	}
	def, errs := apidef.Parse(o.resource, data)
	if len(errs) > 0 || def == nil || def.Doc == nil {
		c.Errorf(res, diag.APBadPolicy, "OASValidation %s: %s does not load: %s", p.Name, o.resource, oasFirstErrors(errs))
		return nil
	}
	if !strings.HasPrefix(def.Version, "3.") {
		c.Errorf(res, diag.APBadPolicy, "OASValidation %s: %s is version %s; OASValidation takes OpenAPI 3 specifications", p.Name, o.resource, def.Version)
		return nil
	}
	val, verrs := oasvalidate.CompileUpstream(def)
	if len(verrs) > 0 {
		c.Errorf(res, diag.APBadPolicy, "OASValidation %s: %s does not compile for validation: %s", p.Name, o.resource, oasFirstErrors(verrs))
		return nil
	}
	o.def, o.val = def, val
	if !o.allowHeader || !o.allowQuery || !o.allowCookie {
		o.declared = oasDeclaredParams(def)
	}
	return o
}

// oasFirstErrors renders at most three diagnostics of a spec.
func oasFirstErrors(errs diag.List) string {
	if len(errs) == 0 {
		return "the document is empty"
	}
	var parts []string
	for i, e := range errs {
		if i == 3 {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, e.Error())
	}
	return strings.Join(parts, "; ")
}

// oasDeclaredParams collects the parameters every operation declares
// (path-level and operation-level).
func oasDeclaredParams(def *apidef.Definition) map[oasKey]*oasDeclared {
	out := map[oasKey]*oasDeclared{}
	for _, p := range def.Paths {
		item := def.Doc.Paths.Value(p.Pattern)
		if item == nil {
			continue
		}
		collect := func(d *oasDeclared, ps openapi3.Parameters) {
			for _, pr := range ps {
				if pr == nil || pr.Value == nil {
					continue
				}
				switch pr.Value.In {
				case openapi3.ParameterInQuery:
					d.query[pr.Value.Name] = true
				case openapi3.ParameterInHeader:
					d.header[strings.ToLower(pr.Value.Name)] = true
				case openapi3.ParameterInCookie:
					d.cookie[pr.Value.Name] = true
				}
			}
		}
		newDecl := func() *oasDeclared {
			return &oasDeclared{query: map[string]bool{}, header: map[string]bool{}, cookie: map[string]bool{}}
		}
		if len(p.Ops) == 0 {
			d := newDecl()
			collect(d, item.Parameters)
			out[oasKey{p, nil}] = d
		}
		for _, op := range p.Ops {
			d := newDecl()
			collect(d, item.Parameters)
			if kop := item.GetOperation(op.Method); kop != nil {
				collect(d, kop.Parameters)
			}
			out[oasKey{p, op}] = d
		}
	}
	return out
}

// oasStdHeaders are request headers that AllowUnspecifiedParameters
// <Header>false</Header> never rejects: protocol, content negotiation and
// proxy headers every client or the gateway adds.
var oasStdHeaders = map[string]bool{
	"host": true, "content-type": true, "content-length": true, "content-encoding": true,
	"accept": true, "accept-encoding": true, "accept-language": true, "accept-charset": true,
	"user-agent": true, "connection": true, "keep-alive": true, "te": true, "trailer": true,
	"transfer-encoding": true, "upgrade": true, "via": true, "forwarded": true, "expect": true,
	"cache-control": true, "pragma": true, "cookie": true, "authorization": true,
	"x-forwarded-for": true, "x-forwarded-proto": true, "x-forwarded-host": true, "x-forwarded-port": true,
	"x-request-id": true, "x-real-ip": true,
}

// Execute implements engine.Policy.
func (o *oasValidation) Execute(r *engine.Run) error {
	m, ok := r.Message(o.source)
	if !ok || m == nil {
		if v, found := r.Lookup(o.source); found && v != nil {
			return engine.NewFault(oasPrefix, "NotMessageVariable", 500, "Variable %s does not resolve to a Message", o.source)
		}
		return engine.NewFault(oasPrefix, "SourceMessageNotAvailable", 500, "%s message is not available for OASValidation policy %s", o.source, o.name)
	}
	req := m
	if !m.IsRequest {
		req = r.Request
	}
	suffix, _ := r.Get("proxy.pathsuffix")
	if m.IsRequest && m != r.Request {
		suffix = m.Path // a request message a policy built: its own path
	}
	if suffix == "" {
		suffix = "/"
	}
	match := o.def.Match(req.Verb, o.def.BasePath+suffix)
	if match.Kind != apidef.Matched {
		msg := "No API path found that matches request '" + suffix + "'."
		if match.Path != nil {
			msg = req.Verb + " operation not allowed on path '" + suffix + "'."
		}
		return o.fail(m, []string{msg})
	}
	in := oasvalidate.RequestInput{Path: match.Path, Op: match.Op, Params: match.Params, Method: req.Verb,
		RawPath: o.def.BasePath + suffix, Query: req.QueryString()}
	for _, h := range req.Headers {
		in.Headers = append(in.Headers, oasvalidate.Header{Name: strings.ToLower(h.Name), Value: h.Value})
	}
	in.ContentType, _ = req.Header("content-type")
	if m.IsRequest {
		in.SkipBody = !o.body || !contentTypeIs(in.ContentType, "json")
		if !in.SkipBody {
			b, err := m.Content()
			if err != nil {
				return err
			}
			in.Body, in.BodyRead = b, true
		}
		var msgs []string
		if o.declared != nil {
			msgs = o.unspecified(req, match, suffix)
		}
		if res := o.val.ValidateRequest(r.Ctx(), in); res.Error != nil {
			msgs = append(msgs, res.Error.Info...)
		}
		if len(msgs) > 0 {
			return o.fail(m, msgs)
		}
		return nil
	}
	out := oasvalidate.ResponseInput{Request: in, Status: m.Status}
	for _, h := range m.Headers {
		out.Headers = append(out.Headers, oasvalidate.Header{Name: strings.ToLower(h.Name), Value: h.Value})
	}
	out.ContentType, _ = m.Header("content-type")
	out.SkipBody = !o.body || !contentTypeIs(out.ContentType, "json")
	if !out.SkipBody {
		b, err := m.Content()
		if err != nil {
			return err
		}
		out.Body = b
	}
	if res := o.val.ValidateResponse(r.Ctx(), out); res.Error != nil {
		return o.fail(m, res.Error.Info)
	}
	return nil
}

// unspecified lists the request's parameters the operation does not
// declare, for the kinds AllowUnspecifiedParameters rejects.
func (o *oasValidation) unspecified(req *engine.Message, match apidef.Match, suffix string) []string {
	d := o.declared[oasKey{match.Path, match.Op}]
	if d == nil {
		return nil
	}
	var msgs []string
	if !o.allowQuery {
		seen := map[string]bool{}
		for _, q := range req.Query() {
			if !d.query[q.Name] && !seen[q.Name] {
				seen[q.Name] = true
				msgs = append(msgs, "Query parameter '"+q.Name+"' is unexpected on path '"+suffix+"'.")
			}
		}
	}
	if !o.allowHeader {
		seen := map[string]bool{}
		for _, h := range req.Headers {
			n := strings.ToLower(h.Name)
			if !d.header[n] && !oasStdHeaders[n] && !seen[n] {
				seen[n] = true
				msgs = append(msgs, "Header parameter '"+h.Name+"' is unexpected on path '"+suffix+"'.")
			}
		}
	}
	if !o.allowCookie {
		for _, line := range req.HeaderValues("cookie") {
			cookies, err := http.ParseCookie(line)
			if err != nil {
				msgs = append(msgs, "Invalid Cookie header: "+err.Error()+".")
				continue
			}
			for _, ck := range cookies {
				if !d.cookie[ck.Name] {
					msgs = append(msgs, "Cookie parameter '"+ck.Name+"' is unexpected on path '"+suffix+"'.")
				}
			}
		}
	}
	return msgs
}

// fail is the Failed fault: 400 for a request, 500 for a response.
func (o *oasValidation) fail(m *engine.Message, msgs []string) error {
	status := 400
	if !m.IsRequest {
		status = 500
	}
	var b strings.Builder
	b.WriteByte('[')
	for i, s := range msgs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("ERROR - ")
		b.WriteString(s)
		b.WriteString(": []")
	}
	b.WriteByte(']')
	return engine.NewFault(oasPrefix, "Failed", status, `OASValidation %s with resource "%s": failed with reason: "%s"`, o.name, o.resource, b.String())
}
