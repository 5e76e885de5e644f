// Package oasvalidate enforces FLAT's x-flat-validate (FLAT docs: request validation, error codes): requests and responses of an API path are checked against the
// app's OpenAPI definition (Swagger 2.0, converted to OpenAPI 3 by apidef,
// or OpenAPI 3.x; 3.1 schemas are checked as JSON Schema 2020-12, 3.0 and
// 2.0 schemas as the OpenAPI 3.0 schema dialect).
//
// Compile reads the x-flat-validate settings once at load (top level, path,
// operation; the most specific setting wins per direction) and prepares one
// Op per routed (path, operation). Per request the engine calls
// ValidateRequest after routing and before the security check and the
// flows, and ValidateResponse after the flows; a failure is FLAT's system
// error document (Error), with FLAT-style info strings such as
//
//	Pattern constraint violated in path for language: '../x' does not match the pattern '^[a-z]+$'.
//
// Checking is done by kin-openapi's openapi3filter; this package turns its
// errors into FLAT's wording. Decisions where FLAT's documentation is
// silent are listed in docs/validation.md.
//
// A Validator is immutable after Compile and safe for concurrent use.
package oasvalidate

import (
	"context"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/flowproc/flowproc/flowengine/apidef"
	"github.com/flowproc/flowproc/flowengine/diag"
)

// FLAT's error codes and messages for client validation (FLAT docs: request validation, error codes).
const (
	// RequestStatus, RequestCode and RequestMessage form the error of a
	// request that violates the definition.
	RequestStatus  = 400
	RequestCode    = 3204
	RequestMessage = "Input Validation Failed"
	// ResponseStatus, ResponseCode and ResponseMessage form the error of a
	// response that violates the definition. FLAT documents no code; 3210
	// is flowproc's (3205 is already "Request body unavailable").
	ResponseStatus  = 500
	ResponseCode    = 3210
	ResponseMessage = "Client response validation failed"
)

// Error is FLAT's system error document ({"error": {...}}) without the
// requestID, which the engine adds.
type Error struct {
	Status  int
	Code    int
	Message string
	// Info are the violations, one sentence each, in a stable order.
	Info []string
}

// Result is the outcome of one validation.
type Result struct {
	// Mode is the effective x-flat-validate mode of the direction.
	Mode Mode
	// Error is nil when the message is valid or Mode is Off. With
	// ReportOnly the engine logs it (flat_alert, topic validation) and goes
	// on; with On it answers with it (through the error flow, if any).
	Error *Error
}

// Failed reports whether the engine must stop and answer with r.Error.
func (r Result) Failed() bool { return r.Error != nil && r.Mode == On }

// Header is one header field; Name is lower-case.
type Header struct{ Name, Value string }

// RequestInput is one client request, as routed by apidef.Definition.Match.
type RequestInput struct {
	// Path and Op are Match.Path and Match.Op (Op is nil for a slimline
	// path); Params are Match.Params (decoded path parameters).
	Path   *apidef.Path
	Op     *apidef.Operation
	Params []apidef.Param
	// Method is the request method; RawPath the URL path as received
	// (percent-encoded, without the query); Query the raw query string
	// (without '?').
	Method, RawPath, Query string
	// Headers are the request headers with lower-case names, in order;
	// Cookie headers included.
	Headers []Header
	// ContentType is the Content-Type header ("" when absent).
	ContentType string
	// Body is the request body (at most the engine's body limit); BodyRead
	// says whether the engine read it. When NeedsRequestBody is true and
	// BodyRead is false the request cannot be validated, and validation
	// fails closed.
	Body     []byte
	BodyRead bool
	// SkipBody: the caller does not want the body checked (Apigee's
	// OASValidation without ValidateMessageBody); parameters still are.
	SkipBody bool
}

// ResponseInput is one response to a client request.
type ResponseInput struct {
	// Request is the request it answers (Body and BodyRead unused).
	Request RequestInput
	// Status is the response status code.
	Status int
	// Headers are the response headers with lower-case names.
	Headers []Header
	// ContentType is the response's Content-Type ("" when absent).
	ContentType string
	// Body is the complete response body.
	Body []byte
	// SkipBody: check status and headers only, not the body.
	SkipBody bool
}

// opKey identifies a routed operation.
type opKey struct {
	p *apidef.Path
	o *apidef.Operation
}

// Validator holds the compiled validation of one Definition.
type Validator struct {
	ops map[opKey]*Op
}

// Op is the compiled validation of one operation (or slimline path).
type Op struct {
	req, resp Mode
	route     *routers.Route
	needsBody bool     // request validation reads a body
	hasQuery  bool     // the operation declares query parameters
	headers   []string // lower-case request headers its parameters read
	v2        bool     // Swagger 2.0: urlencoded/multipart bodies are formData
	reqOpts   *openapi3filter.Options
	respOpts  *openapi3filter.Options
	// reqNoBody and respNoBody are reqOpts and respOpts without body
	// checks (SkipBody).
	reqNoBody  *openapi3filter.Options
	respNoBody *openapi3filter.Options
}

// Lookup returns the compiled operation for a match (nil when p is not a
// path of the compiled definition).
func (v *Validator) Lookup(p *apidef.Path, o *apidef.Operation) *Op {
	if v == nil {
		return nil
	}
	return v.ops[opKey{p, o}]
}

// NeedsRequestBody reports whether validating a request for (p, o) needs
// its body: request validation is on or report-only and the operation
// defines a request body (or Swagger 2.0 formData). The engine asks Envoy
// for the body only then.
func (v *Validator) NeedsRequestBody(p *apidef.Path, o *apidef.Operation) bool {
	op := v.Lookup(p, o)
	return op != nil && op.needsBody
}

// Modes returns the effective request and response modes of (p, o); Off
// for a path the Validator does not know.
func (v *Validator) Modes(p *apidef.Path, o *apidef.Operation) (req, resp Mode) {
	if op := v.Lookup(p, o); op != nil {
		return op.req, op.resp
	}
	return Off, Off
}

// ValidateRequest validates a routed client request (FLAT docs: project layout and request lifecycle step 4).
// A request that is not under a path of the definition (in.Path nil) is
// not validated (Mode Off). A path that the Validator does not know fails
// closed.
func (v *Validator) ValidateRequest(ctx context.Context, in RequestInput) Result {
	if in.Path == nil {
		return Result{}
	}
	op := v.Lookup(in.Path, in.Op)
	if op == nil {
		return Result{Mode: On, Error: internalError(true, "path "+in.Path.Pattern+" was not compiled for validation")}
	}
	return op.ValidateRequest(ctx, in)
}

// ValidateResponse validates the response to a routed client request
// (FLAT docs: project layout and request lifecycle step 9). Unknown paths behave as in ValidateRequest.
func (v *Validator) ValidateResponse(ctx context.Context, in ResponseInput) Result {
	if in.Request.Path == nil {
		return Result{}
	}
	op := v.Lookup(in.Request.Path, in.Request.Op)
	if op == nil {
		return Result{Mode: On, Error: internalError(false, "path "+in.Request.Path.Pattern+" was not compiled for validation")}
	}
	return op.ValidateResponse(ctx, in)
}

// Modes returns the operation's request and response modes.
func (op *Op) Modes() (req, resp Mode) { return op.req, op.resp }

// NeedsRequestBody reports whether request validation reads the body.
func (op *Op) NeedsRequestBody() bool { return op.needsBody }

// internalError is the error of a request that cannot be validated at all
// (fail closed).
func internalError(request bool, why string) *Error {
	if request {
		return &Error{Status: RequestStatus, Code: RequestCode, Message: RequestMessage, Info: []string{"The request could not be validated: " + why + "."}}
	}
	return &Error{Status: ResponseStatus, Code: ResponseCode, Message: ResponseMessage, Info: []string{"The response could not be validated: " + why + "."}}
}

// Compile prepares the validation of d: it reads every x-flat-validate
// setting and builds one Op per path and operation. Settings errors are
// diagnostics (diag.BadExtension) at the x-flat-validate key; with errors
// the Validator must not be used.
func Compile(d *apidef.Definition) (*Validator, diag.List) {
	return compile(d, false)
}

// CompileUpstream compiles d, an upstream API's definition, for checking
// the calls a flow makes to it (FLAT's request options validate-request
// and validate-response, FLAT docs: upstream API definitions): every operation
// validates both directions whatever x-flat-validate says; the caller
// decides per call which directions it checks and whether a violation
// fails the call.
func CompileUpstream(d *apidef.Definition) (*Validator, diag.List) {
	return compile(d, true)
}

func compile(d *apidef.Definition, all bool) (*Validator, diag.List) {
	var errs diag.List
	if d == nil || d.Doc == nil {
		file := ""
		if d != nil {
			file = d.File
		}
		errs.Addf(file, 0, 0, diag.BadDefinition, "x-flat-validate: the definition did not load, so nothing can be validated")
		return nil, errs
	}
	c := &compiler{d: d, errs: &errs}
	c.scanMisplaced()
	top := c.pathsSetting().over(c.setting(d.Doc.Extensions))
	if all {
		top = setting{req: On, resp: On, hasReq: true, hasResp: true}
	}
	if cv := d.Config.Validation; cv != nil {
		// conf/config.xml's <validation> is read after the definition: it
		// replaces the top level for the directions it names.
		var cs setting
		for _, dir := range []struct {
			v    string
			mode *Mode
			has  *bool
		}{{cv.Request, &cs.req, &cs.hasReq}, {cv.Response, &cs.resp, &cs.hasResp}} {
			if dir.v == "" {
				continue
			}
			m, err := ParseMode(dir.v)
			if err != nil {
				errs.Addf(cv.At.File, cv.At.Line, cv.At.Col, diag.BadConfig, "<validation>: %v", err)
				continue
			}
			*dir.mode, *dir.has = m, true
		}
		top = cs.over(top)
	}
	v := &Validator{ops: make(map[opKey]*Op)}
	v2 := d.Version == "2.0"
	for _, p := range d.Paths {
		var item *openapi3.PathItem
		if d.Doc.Paths != nil {
			item = d.Doc.Paths.Value(p.Pattern)
		}
		if item == nil {
			errs.Addf(p.At.File, p.At.Line, p.At.Col, diag.BadDefinition, "path %q is missing from the OpenAPI document", p.Pattern)
			continue
		}
		ps := c.setting(item.Extensions, "paths", p.Pattern).over(top)
		if all {
			ps = top
		}
		if len(p.Ops) == 0 {
			v.ops[opKey{p, nil}] = c.op(d.Doc, p, item, &openapi3.Operation{}, ps, v2)
			continue
		}
		for _, o := range p.Ops {
			kop := item.GetOperation(o.Method)
			if kop == nil {
				errs.Addf(o.At.File, o.At.Line, o.At.Col, diag.BadDefinition, "operation %s %s is missing from the OpenAPI document", o.Method, p.Pattern)
				continue
			}
			os := c.setting(kop.Extensions, "paths", p.Pattern, methodKey(o.Method)).over(ps)
			if all {
				os = top
			}
			v.ops[opKey{p, o}] = c.op(d.Doc, p, item, kop, os, v2)
		}
	}
	errs.Sort()
	return v, errs
}
