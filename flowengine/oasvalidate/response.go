package oasvalidate

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/getkin/kin-openapi/openapi3filter"
)

// ValidateResponse validates the response to a request routed to op: the
// status must be defined (or a 'default' response), headers and body must
// match. With Mode Off it does nothing. HEAD responses and bodies of 1xx,
// 204 and 304 responses carry no content and are checked for status only.
func (op *Op) ValidateResponse(ctx context.Context, in ResponseInput) (res Result) {
	res.Mode = op.resp
	if op.resp == Off {
		return res
	}
	defer func() {
		if r := recover(); r != nil {
			res.Error = internalError(false, fmt.Sprintf("the validator failed: %v", r))
		}
	}()
	fail := func(info []string) Result {
		res.Error = &Error{Status: ResponseStatus, Code: ResponseCode, Message: ResponseMessage, Info: info}
		return res
	}
	responses := op.route.Operation.Responses
	if responses == nil || (responses.Status(in.Status) == nil && responses.Default() == nil) {
		return fail([]string{fmt.Sprintf("No definition for status code %d and no 'default'.", in.Status)})
	}
	if in.Request.Method == http.MethodHead || in.Status < 200 || in.Status == http.StatusNoContent || in.Status == http.StatusNotModified {
		return res
	}
	opts := op.respOpts
	if in.SkipBody {
		opts = op.respNoBody
	}
	req := &http.Request{
		Method: in.Request.Method,
		URL:    &url.URL{Path: in.Request.RawPath, RawQuery: in.Request.Query},
		Header: header(in.Request.Headers, in.Request.ContentType),
		Body:   http.NoBody,
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: op.route, Options: opts},
		Status:                 in.Status,
		Header:                 header(in.Headers, in.ContentType),
		Body:                   io.NopCloser(bytes.NewReader(in.Body)),
		Options:                opts,
	}
	if err := openapi3filter.ValidateResponse(ctx, input); err != nil {
		info := appendInfos(nil, err, false, "")
		if len(info) == 0 {
			info = []string{sentence("Invalid response: " + firstLine(err.Error()))}
		}
		return fail(info)
	}
	return res
}
