package extproc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	procmodev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"

	"github.com/flowproc/flowproc/flowengine"
)

const (
	none     = procmodev3.ProcessingMode_NONE
	streamd  = procmodev3.ProcessingMode_STREAMED
	buffered = procmodev3.ProcessingMode_BUFFERED
	fds      = procmodev3.ProcessingMode_FULL_DUPLEX_STREAMED
)

// step sends one Envoy message (when send is non-nil) and then expects the
// replies in want, exactly and in order.
type step struct {
	send *extprocv3.ProcessingRequest
	want []*extprocv3.ProcessingResponse
}

func replies(r ...*extprocv3.ProcessingResponse) []*extprocv3.ProcessingResponse { return r }

var (
	forwardPlain = runnerFunc(func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
		if _, err := h.Forward(ctx, &flowengine.Mutation{}); err != nil {
			return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599, Body: []byte(err.Error())}}
		}
		return &flowengine.Outcome{Kind: flowengine.Forwarded}
	})
	upper = func(b []byte) []byte { return bytes.ToUpper(b) }
)

// TestExchange drives one stream per case and asserts every reply exactly.
func TestExchange(t *testing.T) {
	tests := []struct {
		name    string
		project string // x-flowproc-project metadata
		limit   int64
		run     runnerFunc
		steps   []step
		// wantCode is the stream's final gRPC code.
		wantCode string
	}{
		{
			name: "header-only forward with request and response mutations",
			run: func(ctx context.Context, req *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
				if req.Method != "GET" || req.Path != "/items?x=1" || req.Authority != "api.example.com" ||
					req.Scheme != "https" || req.ID != "req-1" || !req.BodyKnownEmpty ||
					len(req.Headers) != 3 || req.Headers[1] != (flowengine.Header{Name: "x-remove-me", Value: "1"}) {
					return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 598}}
				}
				resp, err := h.Forward(ctx, &flowengine.Mutation{
					SetHeaders:    []flowengine.Header{{Name: "X-Added", Value: "a b"}, {Name: "authorization", Value: "Bearer t"}},
					RemoveHeaders: []string{"x-remove-me"},
					Path:          "/v2/items?x=1",
					Authority:     "internal.example.com",
				})
				if err != nil || resp.Status != 200 || resp.Headers[0].Value != "envoy" || !resp.BodyKnownEmpty {
					return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599}}
				}
				return &flowengine.Outcome{Kind: flowengine.Forwarded, Mutation: flowengine.Mutation{Status: 201, SetHeaders: []flowengine.Header{{Name: "x-flow", Value: "yes"}}, AddHeaders: []flowengine.Header{{Name: "set-cookie", Value: "a=1"}, {Name: "set-cookie", Value: "b=2"}}, RemoveHeaders: []string{"server"}}}
			},
			steps: []step{
				{reqHeaders("GET", "/items?x=1", true, nil, "x-request-id", "req-1", "x-remove-me", "1", "accept", "*/*"),
					replies(wantReqHeaders(&extprocv3.CommonResponse{HeaderMutation: mut([]string{"x-remove-me"},
						set(":path", "/v2/items?x=1"), set(":authority", "internal.example.com"), set(UpstreamSchemeHeader, "https"),
						set("x-added", "a b"), set("authorization", "Bearer t")),
						ClearRouteCache: true}))},
				{respHeaders("200", true, "server", "envoy"),
					replies(wantRespHeaders(&extprocv3.CommonResponse{HeaderMutation: mut([]string{"server"},
						set(":status", "201"), set("x-flow", "yes"), add("set-cookie", "a=1"), add("set-cookie", "b=2"))}))},
			},
			wantCode: "OK",
		},
		{
			name: "early answer becomes an ImmediateResponse",
			run: func(context.Context, *flowengine.Request, flowengine.Host) *flowengine.Outcome {
				return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 403, SetHeaders: []flowengine.Header{{Name: "Content-Type", Value: "text/plain"}}, AddHeaders: []flowengine.Header{{Name: "set-cookie", Value: "s=1"}}, Body: []byte("denied")}, Project: "demo"}
			},
			steps: []step{{reqHeaders("GET", "/", true, nil),
				replies(wantImmediate(403, mut(nil, set("content-type", "text/plain"), add("set-cookie", "s=1")), "denied", "flowproc_demo"))}},
			wantCode: "OK",
		},
		{
			name: "request body read lazily, replaced in the body reply with content-length",
			run: func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
				b, err := h.RequestBody(ctx)
				if err != nil {
					return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599}}
				}
				if _, err := h.Forward(ctx, &flowengine.Mutation{
					BodySet:    true,
					Body:       append([]byte(`{"wrapped":"`), append(upper(b), '"', '}')...),
					SetHeaders: []flowengine.Header{{Name: "x-seen", Value: string(b)}, {Name: "content-length", Value: "1"}},
				}); err != nil {
					return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599}}
				}
				return &flowengine.Outcome{Kind: flowengine.Forwarded}
			},
			steps: []step{
				{reqHeaders("POST", "/echo", false, modes(none, none, false), "content-length", "5"),
					replies(withOverride(wantReqHeaders(&extprocv3.CommonResponse{}), buffered, none))},
				{reqBody("hello", true),
					replies(wantReqBody(&extprocv3.CommonResponse{
						HeaderMutation: mut(nil, set("x-seen", "hello"), set("content-length", "19")),
						BodyMutation:   bodyOf(`{"wrapped":"HELLO"}`)}))},
				{respHeaders("200", true), replies(wantRespHeaders(&extprocv3.CommonResponse{}))},
			},
			wantCode: "OK",
		},
		{
			name: "request body replaced unread: CONTINUE_AND_REPLACE in the headers reply",
			run: func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
				if _, err := h.Forward(ctx, &flowengine.Mutation{Body: []byte("new"), BodySet: true}); err != nil {
					return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599}}
				}
				return &flowengine.Outcome{Kind: flowengine.Forwarded}
			},
			steps: []step{
				{reqHeaders("POST", "/", false, nil, "content-length", "10"),
					replies(wantReqHeaders(&extprocv3.CommonResponse{
						Status:         extprocv3.CommonResponse_CONTINUE_AND_REPLACE,
						HeaderMutation: mut([]string{"content-length"}),
						BodyMutation:   bodyOf("new")}))},
				{respHeaders("204", true), replies(wantRespHeaders(&extprocv3.CommonResponse{}))},
			},
			wantCode: "OK",
		},
		{
			name: "response body read and rewritten in the body reply",
			run: func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
				if _, err := h.Forward(ctx, nil); err != nil {
					return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599}}
				}
				b, err := h.ResponseBody(ctx)
				if err != nil {
					return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599}}
				}
				return &flowengine.Outcome{Kind: flowengine.Forwarded, Mutation: flowengine.Mutation{Status: 202, BodySet: true, Body: append(b, "!!"...), SetHeaders: []flowengine.Header{{Name: "content-type", Value: "text/plain"}}}}
			},
			steps: []step{
				{reqHeaders("GET", "/", true, nil), replies(wantReqHeaders(&extprocv3.CommonResponse{}))},
				{respHeaders("200", false, "content-length", "2"),
					replies(withOverride(wantRespHeaders(&extprocv3.CommonResponse{}), none, buffered))},
				{respBody("ok", true), replies(wantRespBody(&extprocv3.CommonResponse{
					HeaderMutation: mut(nil, set(":status", "202"), set("content-type", "text/plain"), set("content-length", "4")),
					BodyMutation:   bodyOf("ok!!")}))},
			},
			wantCode: "OK",
		},
		{
			name: "response body replaced unread: CONTINUE_AND_REPLACE, content-length removed",
			run: func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
				if _, err := h.Forward(ctx, nil); err != nil {
					return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599}}
				}
				return &flowengine.Outcome{Kind: flowengine.Forwarded, Mutation: flowengine.Mutation{BodySet: true, Body: []byte(`{"a":1}`), SetHeaders: []flowengine.Header{{Name: "content-type", Value: "application/json"}, {Name: "content-length", Value: "99"}}}}
			},
			steps: []step{
				{reqHeaders("GET", "/", true, nil), replies(wantReqHeaders(&extprocv3.CommonResponse{}))},
				{respHeaders("200", false, "content-length", "10"), replies(wantRespHeaders(&extprocv3.CommonResponse{
					Status:         extprocv3.CommonResponse_CONTINUE_AND_REPLACE,
					HeaderMutation: mut([]string{"content-length"}, set("content-type", "application/json")),
					BodyMutation:   bodyOf(`{"a":1}`)}))},
			},
			wantCode: "OK",
		},
		{
			name: "trailers answered in both directions",
			run:  forwardPlain,
			steps: []step{
				{reqHeaders("POST", "/", false, nil), replies(wantReqHeaders(&extprocv3.CommonResponse{}))},
				{reqTrailers(), replies(wantReqTrailers())},
				{respHeaders("200", false), replies(wantRespHeaders(&extprocv3.CommonResponse{}))},
				{respTrailers(), replies(wantRespTrailers())},
			},
			wantCode: "OK",
		},
		{
			name: "STREAMED chunks of an unread body answered one by one in order",
			run:  forwardPlain,
			steps: []step{
				{reqHeaders("POST", "/", false, modes(streamd, streamd, false)), replies(wantReqHeaders(&extprocv3.CommonResponse{}))},
				{reqBody("a", false), nil},
				{reqBody("b", false), nil},
				{reqBody("c", true), replies(wantReqBody(&extprocv3.CommonResponse{}), wantReqBody(&extprocv3.CommonResponse{}), wantReqBody(&extprocv3.CommonResponse{}))},
				{respHeaders("200", false), replies(wantRespHeaders(&extprocv3.CommonResponse{}))},
				{respBody("x", false), replies(wantRespBody(&extprocv3.CommonResponse{}))},
				{respBody("y", true), replies(wantRespBody(&extprocv3.CommonResponse{}))},
			},
			wantCode: "OK",
		},
		{
			name: "STREAMED without waiting: chunks read and replaced FIFO (first carries the body, rest cleared)",
			run: func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
				b, err := h.RequestBody(ctx)
				if err != nil {
					return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599}}
				}
				if _, err := h.Forward(ctx, &flowengine.Mutation{Body: upper(b), BodySet: true}); err != nil {
					return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599}}
				}
				return &flowengine.Outcome{Kind: flowengine.Forwarded}
			},
			steps: []step{
				{reqHeaders("POST", "/", false, modes(streamd, none, true)), nil},
				{reqBody("ab", false), nil},
				{reqBody("cd", true), replies(
					wantReqHeaders(&extprocv3.CommonResponse{}),
					wantReqBody(&extprocv3.CommonResponse{BodyMutation: bodyOf("ABCD")}),
					wantReqBody(&extprocv3.CommonResponse{BodyMutation: &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_ClearBody{ClearBody: true}}}),
				)},
				{respHeaders("200", true), replies(wantRespHeaders(&extprocv3.CommonResponse{}))},
			},
			wantCode: "OK",
		},
		{
			name: "FULL_DUPLEX_STREAMED unread bodies echoed as streamed_response",
			run:  forwardPlain,
			steps: []step{
				{reqHeaders("POST", "/", false, modes(fds, fds, false)), replies(wantReqHeaders(&extprocv3.CommonResponse{}))},
				{reqBody("a", false), replies(wantReqBody(&extprocv3.CommonResponse{BodyMutation: streamed("a", false)}))},
				{reqBody("b", true), replies(wantReqBody(&extprocv3.CommonResponse{BodyMutation: streamed("b", true)}))},
				{respHeaders("200", false), replies(wantRespHeaders(&extprocv3.CommonResponse{}))},
				{respBody("x", false), replies(wantRespBody(&extprocv3.CommonResponse{BodyMutation: streamed("x", false)}))},
				{respTrailers(), replies(wantRespTrailers())},
			},
			wantCode: "OK",
		},
		{
			name: "FULL_DUPLEX_STREAMED body read before the headers reply, echoed in order after it",
			run: func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
				b, err := h.RequestBody(ctx)
				if err != nil || string(b) != "abc" {
					return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599}}
				}
				if _, err := h.Forward(ctx, &flowengine.Mutation{SetHeaders: []flowengine.Header{{Name: "x-n", Value: "3"}}}); err != nil {
					return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599}}
				}
				return &flowengine.Outcome{Kind: flowengine.Forwarded}
			},
			steps: []step{
				{reqHeaders("POST", "/", false, modes(fds, none, false)), nil},
				{reqBody("ab", false), nil},
				{reqBody("c", true), replies(
					wantReqHeaders(&extprocv3.CommonResponse{HeaderMutation: mut(nil, set("x-n", "3"))}),
					wantReqBody(&extprocv3.CommonResponse{BodyMutation: streamed("ab", false)}),
					wantReqBody(&extprocv3.CommonResponse{BodyMutation: streamed("c", true)}),
				)},
				{respHeaders("200", true), replies(wantRespHeaders(&extprocv3.CommonResponse{}))},
			},
			wantCode: "OK",
		},
		{
			name: "FULL_DUPLEX_STREAMED body replaced, trailers end it and are answered after the body",
			run: func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
				if _, err := h.Forward(ctx, &flowengine.Mutation{Body: []byte("replaced"), BodySet: true}); err != nil {
					return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599}}
				}
				return &flowengine.Outcome{Kind: flowengine.Forwarded}
			},
			steps: []step{
				{reqHeaders("POST", "/", false, modes(fds, none, false)), nil},
				{reqBody("original", false), nil},
				{reqTrailers(), replies(
					wantReqHeaders(&extprocv3.CommonResponse{}),
					wantReqBody(&extprocv3.CommonResponse{BodyMutation: streamed("replaced", false)}),
					wantReqTrailers(),
				)},
				{respHeaders("200", true), replies(wantRespHeaders(&extprocv3.CommonResponse{}))},
			},
			wantCode: "OK",
		},
		{
			name: "FULL_DUPLEX_STREAMED request chunks arriving after the response headers are still echoed",
			run: func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
				if _, err := h.Forward(ctx, nil); err != nil {
					return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599}}
				}
				return &flowengine.Outcome{Kind: flowengine.Forwarded, Mutation: flowengine.Mutation{SetHeaders: []flowengine.Header{{Name: "x-r", Value: "1"}}}}
			},
			steps: []step{
				{reqHeaders("POST", "/", false, modes(fds, none, false)), replies(wantReqHeaders(&extprocv3.CommonResponse{}))},
				{respHeaders("200", true), replies(wantRespHeaders(&extprocv3.CommonResponse{HeaderMutation: mut(nil, set("x-r", "1"))}))},
				{reqBody("late", true), replies(wantReqBody(&extprocv3.CommonResponse{BodyMutation: streamed("late", true)}))},
			},
			wantCode: "OK",
		},
		{
			name: "FULL_DUPLEX_STREAMED response body read and replaced as one streamed_response",
			run: func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
				if _, err := h.Forward(ctx, nil); err != nil {
					return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599}}
				}
				b, err := h.ResponseBody(ctx)
				if err != nil {
					return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599}}
				}
				return &flowengine.Outcome{Kind: flowengine.Forwarded, Mutation: flowengine.Mutation{BodySet: true, Body: upper(b)}}
			},
			steps: []step{
				{reqHeaders("GET", "/", true, modes(none, fds, false)), replies(wantReqHeaders(&extprocv3.CommonResponse{}))},
				{respHeaders("200", false), nil},
				{respBody("ab", false), nil},
				{respBody("c", true), replies(
					wantRespHeaders(&extprocv3.CommonResponse{}),
					wantRespBody(&extprocv3.CommonResponse{BodyMutation: streamed("ABC", true)}),
				)},
			},
			wantCode: "OK",
		},
		{
			name: "BUFFERED by configuration: unread body gets an empty body reply",
			run: func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
				if _, err := h.Forward(ctx, &flowengine.Mutation{SetHeaders: []flowengine.Header{{Name: "x-a", Value: "1"}}}); err != nil {
					return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599}}
				}
				return &flowengine.Outcome{Kind: flowengine.Forwarded}
			},
			steps: []step{
				{reqHeaders("POST", "/", false, modes(buffered, none, false)),
					replies(wantReqHeaders(&extprocv3.CommonResponse{HeaderMutation: mut(nil, set("x-a", "1"))}))},
				{reqBody("whole", true), replies(wantReqBody(&extprocv3.CommonResponse{}))},
				{respHeaders("200", true), replies(wantRespHeaders(&extprocv3.CommonResponse{}))},
			},
			wantCode: "OK",
		},
		{
			name: "BUFFERED by configuration: body read without an override",
			run: func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
				b, err := h.RequestBody(ctx)
				if err != nil {
					return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599}}
				}
				return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 200, Body: b}}
			},
			steps: []step{
				{reqHeaders("POST", "/", false, modes(buffered, none, false)), replies(wantReqHeaders(&extprocv3.CommonResponse{}))},
				{reqBody("echo me", true), replies(wantImmediate(200, nil, "echo me", "flowproc_demo"))},
			},
			wantCode: "OK",
		},
		{
			name: "body known empty: no override, no wait",
			run: func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
				b, err := h.RequestBody(ctx)
				if err != nil || len(b) != 0 {
					return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599}}
				}
				return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 204}}
			},
			steps:    []step{{reqHeaders("GET", "/", true, nil), replies(wantImmediate(204, nil, "", "flowproc_demo"))}},
			wantCode: "OK",
		},
		{
			name: "override not honoured: response_headers instead of the body fails the request",
			run: func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
				_, err := h.RequestBody(ctx)
				if !errors.Is(err, flowengine.ErrBodyUnavailable) {
					return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599}}
				}
				return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 502, Body: []byte("body unavailable")}}
			},
			steps: []step{
				{reqHeaders("POST", "/", false, nil), replies(withOverride(wantReqHeaders(&extprocv3.CommonResponse{}), buffered, none))},
				{respHeaders("200", true), replies(wantImmediate(502, nil, "body unavailable", "flowproc_demo"))},
			},
			wantCode: "OK",
		},
		{
			name: "override not honoured: trailers instead of the body fail the request",
			run: func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
				_, err := h.RequestBody(ctx)
				if !errors.Is(err, flowengine.ErrBodyUnavailable) {
					return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599}}
				}
				return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 502}}
			},
			steps: []step{
				{reqHeaders("POST", "/", false, nil), replies(withOverride(wantReqHeaders(&extprocv3.CommonResponse{}), buffered, none))},
				{reqTrailers(), replies(wantImmediate(502, nil, "", "flowproc_demo"))},
			},
			wantCode: "OK",
		},
		{
			name: "forward after the request was released without the flow's changes is refused",
			run: func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
				_, _ = h.RequestBody(ctx)
				_, err := h.Forward(ctx, &flowengine.Mutation{SetHeaders: []flowengine.Header{{Name: "x-auth", Value: "1"}}})
				if !errors.Is(err, ErrRequestReleased) {
					return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599}}
				}
				return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 500}}
			},
			steps: []step{
				{reqHeaders("POST", "/", false, nil), replies(withOverride(wantReqHeaders(&extprocv3.CommonResponse{}), buffered, none))},
				{respHeaders("200", true), replies(wantImmediate(500, nil, "", "flowproc_demo"))},
			},
			wantCode: "OK",
		},
		{
			name:  "request body over the limit is answered 413",
			limit: 4,
			run: func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
				if _, err := h.RequestBody(ctx); !errors.Is(err, ErrBodyTooLarge) {
					return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599}}
				}
				return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 500}}
			},
			steps: []step{
				{reqHeaders("POST", "/", false, nil, "x-request-id", "big-1"), replies(withOverride(wantReqHeaders(&extprocv3.CommonResponse{}), buffered, none))},
				{reqBody("too long", true), replies(wantImmediate(413, jsonType,
					`{"error":{"message":"request body too large","status":413,"requestID":"big-1"}}`, "flowproc_demo"))},
			},
			wantCode: "OK",
		},
		{
			name:  "a declared Content-Length over the limit is answered 413 without asking for the body",
			limit: 4,
			run: func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
				if _, err := h.RequestBody(ctx); !errors.Is(err, ErrBodyTooLarge) {
					return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599}}
				}
				return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 500}}
			},
			steps: []step{
				{reqHeaders("POST", "/", false, nil, "x-request-id", "big-2", "content-length", "10485760"), replies(wantImmediate(413, jsonType,
					`{"error":{"message":"request body too large","status":413,"requestID":"big-2"}}`, "flowproc_demo"))},
			},
			wantCode: "OK",
		},
		{
			name: "answer at the response phase replaces the upstream response",
			run: func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
				resp, err := h.Forward(ctx, nil)
				if err != nil || resp.Status != 500 {
					return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599}}
				}
				return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 502, Body: []byte("upstream failed")}}
			},
			steps: []step{
				{reqHeaders("GET", "/", true, nil), replies(wantReqHeaders(&extprocv3.CommonResponse{}))},
				{respHeaders("500", true), replies(wantImmediate(502, nil, "upstream failed", "flowproc_demo"))},
			},
			wantCode: "OK",
		},
		{
			name: "response.code_details of Envoy's local reply reaches Forward's Response",
			run: func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
				resp, err := h.Forward(ctx, nil)
				if err != nil || resp.Status != 503 || !resp.LocalReply() ||
					resp.CodeDetails != "upstream_reset_before_response_started{connection_failure}" {
					return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599}}
				}
				return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 503, Body: []byte("target down")}}
			},
			steps: []step{
				{reqHeaders("GET", "/", true, nil), replies(wantReqHeaders(&extprocv3.CommonResponse{}))},
				{withAttributes(respHeaders("503", false, "content-type", "text/plain"), map[string]any{
					"response.code_details": "upstream_reset_before_response_started{connection_failure}", "response.flags": 32.0}),
					replies(wantImmediate(503, nil, "target down", "flowproc_demo"))},
			},
			wantCode: "OK",
		},
		{
			name: "via_upstream is not a local reply",
			run: func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
				resp, err := h.Forward(ctx, nil)
				if err != nil || resp.Status != 503 || resp.LocalReply() || resp.CodeDetails != "via_upstream" {
					return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 599}}
				}
				return &flowengine.Outcome{Kind: flowengine.Forwarded}
			},
			steps: []step{
				{reqHeaders("GET", "/", true, nil), replies(wantReqHeaders(&extprocv3.CommonResponse{}))},
				{withAttributes(respHeaders("503", true), map[string]any{"response.code_details": "via_upstream"}),
					replies(wantRespHeaders(&extprocv3.CommonResponse{}))},
			},
			wantCode: "OK",
		},
		{
			name: "Forwarded outcome without a Forward call forwards unchanged",
			run: func(context.Context, *flowengine.Request, flowengine.Host) *flowengine.Outcome {
				return &flowengine.Outcome{Kind: flowengine.Forwarded, Mutation: flowengine.Mutation{SetHeaders: []flowengine.Header{{Name: "x-b", Value: "2"}}}}
			},
			steps: []step{
				{reqHeaders("GET", "/", true, nil), replies(wantReqHeaders(&extprocv3.CommonResponse{}))},
				{respHeaders("200", true), replies(wantRespHeaders(&extprocv3.CommonResponse{HeaderMutation: mut(nil, set("x-b", "2"))}))},
			},
			wantCode: "OK",
		},
		{
			name:    "project selected by metadata",
			project: "beta",
			steps:   []step{{reqHeaders("GET", "/alpha/x", true, nil), replies(wantImmediate(200, nil, "beta", "flowproc_beta"))}},
		},
		{
			name:  "project selected by path",
			steps: []step{{reqHeaders("GET", "/alpha/x", true, nil), replies(wantImmediate(200, nil, "alpha", "flowproc_alpha"))}},
		},
		{
			name: "no project: 404 JSON error",
			steps: []step{{reqHeaders("GET", "/nowhere", true, nil, "x-request-id", "r-404"), replies(wantImmediate(404, jsonType,
				`{"error":{"message":"no project for this request","status":404,"code":3204,"requestID":"r-404"}}`, "flowproc"))}},
			wantCode: "OK",
		},
		{
			name:    "unknown project name: 404",
			project: "gamma",
			steps: []step{{reqHeaders("GET", "/alpha", true, nil), replies(wantImmediate(404, jsonType,
				`{"error":{"message":"no project for this request","status":404,"code":3204}}`, "flowproc"))}},
			wantCode: "OK",
		},
		{
			name: "panic before forward: 500 ImmediateResponse",
			run: func(context.Context, *flowengine.Request, flowengine.Host) *flowengine.Outcome {
				panic("boom")
			},
			steps: []step{{reqHeaders("GET", "/", true, nil, "x-request-id", "p-1"), replies(wantImmediate(500, jsonType,
				`{"error":{"message":"internal server error","status":500,"requestID":"p-1"}}`, "flowproc_demo"))}},
			wantCode: "OK",
		},
		{
			name: "panic after forward: 500 at the response phase",
			run: func(ctx context.Context, _ *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
				_, _ = h.Forward(ctx, nil)
				var m map[string]int
				m["x"]++ // nil map write
				return nil
			},
			steps: []step{
				{reqHeaders("GET", "/", true, nil), replies(wantReqHeaders(&extprocv3.CommonResponse{}))},
				{respHeaders("200", true), replies(wantImmediate(500, jsonType,
					`{"error":{"message":"internal server error","status":500}}`, "flowproc_demo"))},
			},
			wantCode: "OK",
		},
		{
			name: "nil outcome: 500",
			run: func(context.Context, *flowengine.Request, flowengine.Host) *flowengine.Outcome {
				return nil
			},
			steps: []step{{reqHeaders("GET", "/", true, nil), replies(wantImmediate(500, jsonType,
				`{"error":{"message":"internal server error","status":500}}`, "flowproc_demo"))}},
			wantCode: "OK",
		},
		{
			name:     "response_headers before request_headers: FailedPrecondition",
			run:      forwardPlain,
			steps:    []step{{respHeaders("200", true), nil}},
			wantCode: "FailedPrecondition",
		},
		{
			name:     "message with no oneof: InvalidArgument",
			run:      forwardPlain,
			steps:    []step{{&extprocv3.ProcessingRequest{}, nil}},
			wantCode: "InvalidArgument",
		},
		{
			name: "second request_headers: FailedPrecondition",
			run:  forwardPlain,
			steps: []step{
				{reqHeaders("GET", "/", true, nil), replies(wantReqHeaders(&extprocv3.CommonResponse{}))},
				{reqHeaders("GET", "/", true, nil), nil},
			},
			wantCode: "FailedPrecondition",
		},
		{
			name: "response_body before response_headers: FailedPrecondition",
			run:  forwardPlain,
			steps: []step{
				{reqHeaders("GET", "/", true, nil), replies(wantReqHeaders(&extprocv3.CommonResponse{}))},
				{respBody("x", true), nil},
			},
			wantCode: "FailedPrecondition",
		},
		{
			name: "second response_headers after the exchange: FailedPrecondition",
			run:  forwardPlain,
			steps: []step{
				{reqHeaders("GET", "/", true, nil), replies(wantReqHeaders(&extprocv3.CommonResponse{}))},
				{respHeaders("200", true), replies(wantRespHeaders(&extprocv3.CommonResponse{}))},
				{respHeaders("200", true), nil},
			},
			wantCode: "FailedPrecondition",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := one(tc.run)
			if tc.run == nil {
				answer := func(text string) runnerFunc {
					return func(context.Context, *flowengine.Request, flowengine.Host) *flowengine.Outcome {
						return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 200, Body: []byte(text)}}
					}
				}
				res = fakeResolver{
					byName:   map[string]flowengine.Runner{"beta": answer("beta")},
					byPrefix: map[string]flowengine.Runner{"/alpha/": answer("alpha")},
				}
			}
			ts := newTestServer(t, res, tc.limit)
			c := ts.open(t, tc.project)
			for _, st := range tc.steps {
				if st.send != nil {
					c.send(st.send)
				}
				for _, w := range st.want {
					c.expect(w)
				}
			}
			want := tc.wantCode
			if want == "" {
				want = "OK"
			}
			if got := codeOf(c.end()); got != want {
				t.Fatalf("stream ended with %s, want %s; logs:\n%s", got, want, ts.logs)
			}
		})
	}
}

// TestExchangeNow: once an exchange has started, now reads one clock and
// gives a time with a monotonic reading (Sub and Since measure with it) and
// the start's wall clock moved on by the time since.
func TestExchangeNow(t *testing.T) {
	x := &exchange{}
	before := time.Now()
	if n := x.now(); n.Before(before) || time.Since(n) > time.Second {
		t.Fatalf("not started: now %v, before %v", n, before)
	}
	x.start = time.Now()
	time.Sleep(2 * time.Millisecond)
	n := x.now()
	after := time.Now()
	elapsed := n.Sub(x.start)
	if elapsed < 2*time.Millisecond || n.After(after) {
		t.Fatalf("now %v is %v after the start, %v before a later reading", n, elapsed, after.Sub(n))
	}
	if !strings.Contains(n.String(), "m=+") {
		t.Errorf("now %v has no monotonic reading", n)
	}
	if wall := n.Round(0); !wall.Equal(x.start.Round(0).Add(elapsed)) {
		t.Errorf("wall clock %v, want the start's %v plus %v", wall, x.start.Round(0), elapsed)
	}
}

// TestStreamClosed: the end of a stream is recognised as it is and
// wrapped; other errors are not it.
func TestStreamClosed(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{ErrStreamClosed, true},
		{fmt.Errorf("reading: %w", ErrStreamClosed), true},
		{nil, false},
		{errors.New("ext_proc stream closed by Envoy"), false},
		{ErrBodyTooLarge, false},
	} {
		if got := streamClosed(tc.err); got != tc.want {
			t.Errorf("streamClosed(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
