package oasvalidate

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"

	"github.com/getkin/kin-openapi/openapi3filter"
)

// ValidateRequest validates a client request routed to op: path, query,
// header and cookie parameters, and (when NeedsRequestBody) the body. With
// Mode Off it does nothing.
func (op *Op) ValidateRequest(ctx context.Context, in RequestInput) (res Result) {
	res.Mode = op.req
	if op.req == Off {
		return res
	}
	defer func() {
		if r := recover(); r != nil { // a validator bug must not take the server down
			res.Error = internalError(true, fmt.Sprintf("the validator failed: %v", r))
		}
	}()
	needsBody, opts := op.needsBody, op.reqOpts
	if in.SkipBody {
		needsBody, opts = false, op.reqNoBody
	}
	if needsBody && !in.BodyRead {
		res.Error = internalError(true, "the request body was not read")
		return res
	}
	var info []string
	query, err := url.ParseQuery(in.Query)
	if err != nil && op.hasQuery {
		info = append(info, fmt.Sprintf("Invalid query string: %s.", queryErr(err)))
	}
	req := &http.Request{
		Method: in.Method,
		URL:    &url.URL{Path: in.RawPath, RawQuery: in.Query},
		Header: requestHeader(in.Headers, op.headers, in.ContentType),
		Body:   http.NoBody,
	}
	if needsBody && len(in.Body) > 0 {
		req.Body = io.NopCloser(bytes.NewReader(in.Body))
		req.ContentLength = int64(len(in.Body))
	}
	var params map[string]string
	if len(in.Params) > 0 {
		params = make(map[string]string, len(in.Params))
		for _, p := range in.Params {
			params[p.Name] = p.Value
		}
	}
	input := &openapi3filter.RequestValidationInput{
		Request:     req,
		PathParams:  params,
		QueryParams: query,
		Route:       op.route,
		Options:     opts,
	}
	if err := openapi3filter.ValidateRequest(ctx, input); err != nil {
		info = appendInfos(info, err, op.v2, mediaType(in.ContentType))
		if len(info) == 0 {
			info = []string{sentence("Invalid request: " + firstLine(err.Error()))}
		}
	}
	if len(info) > 0 {
		res.Error = &Error{Status: RequestStatus, Code: RequestCode, Message: RequestMessage, Info: info}
	}
	return res
}

// header converts lower-case name/value pairs to an http.Header; ct, when
// set, is the Content-Type.
func header(hs []Header, ct string) http.Header {
	h := make(http.Header, len(hs)+1)
	for _, f := range hs {
		k := textproto.CanonicalMIMEHeaderKey(f.Name)
		h[k] = append(h[k], f.Value)
	}
	if ct != "" {
		h["Content-Type"] = []string{ct}
	}
	return h
}

// requestHeader is header restricted to the names the parameters read
// (and the Content-Type).
func requestHeader(hs []Header, names []string, ct string) http.Header {
	h := make(http.Header, len(names)+1)
	for _, f := range hs {
		for _, n := range names {
			if f.Name == n {
				k := textproto.CanonicalMIMEHeaderKey(f.Name)
				h[k] = append(h[k], f.Value)
				break
			}
		}
	}
	if ct != "" {
		h["Content-Type"] = []string{ct}
	}
	return h
}

// queryErr is the text of a query parsing error without Go's prefixes.
func queryErr(err error) string {
	var ee url.EscapeError
	if asErr(err, &ee) {
		return fmt.Sprintf("invalid escape %q", string(ee))
	}
	return err.Error()
}
