package extproc

import (
	"fmt"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/protobuf/proto"

	"github.com/flowproc/flowproc/flowengine"
)

// TestRequestMutationBlocks builds request mutations below, at and above
// the inline capacities of mutationBlock, appends content-length as a
// BUFFERED replacement does, and compares with the same mutation built
// message by message.
func TestRequestMutationBlocks(t *testing.T) {
	for _, tc := range []struct{ sets, removes int }{
		{0, 1}, {1, 0}, {inlineSets - 2, inlineRemoves}, {inlineSets - 1, inlineRemoves + 1}, {inlineSets + 3, 5},
	} {
		t.Run(fmt.Sprintf("sets=%d,removes=%d", tc.sets, tc.removes), func(t *testing.T) {
			f := &flowengine.Mutation{Path: "/v2/x"}
			want := &extprocv3.HeaderMutation{SetHeaders: []*corev3.HeaderValueOption{headerOption(":path", "/v2/x", false)}}
			for i := range tc.sets {
				h := flowengine.Header{Name: fmt.Sprintf("X-H%d", i), Value: fmt.Sprintf("v%d", i)}
				if i%2 == 0 {
					f.SetHeaders = append(f.SetHeaders, h)
				} else {
					f.AddHeaders = append(f.AddHeaders, h)
				}
			}
			for _, h := range f.SetHeaders {
				want.SetHeaders = append(want.SetHeaders, headerOption(h.Name, h.Value, false))
			}
			for _, h := range f.AddHeaders {
				want.SetHeaders = append(want.SetHeaders, headerOption(h.Name, h.Value, true))
			}
			for i := range tc.removes {
				f.RemoveHeaders = append(f.RemoveHeaders, fmt.Sprintf("R%d", i))
				want.RemoveHeaders = append(want.RemoveHeaders, fmt.Sprintf("r%d", i))
			}
			got := withContentLength(noStore.requestMutation(f, true, "", false), 12)
			want.SetHeaders = append(want.SetHeaders, headerOption("content-length", "12", false))
			if !proto.Equal(got, want) {
				t.Fatalf("got  %v\nwant %v", got, want)
			}
		})
	}
}

// TestReplyAllocations pins the allocations of the replies a proxied
// exchange sends: the request-headers reply with a three-header mutation
// and a removal is 4 allocations (reply block, mutation block, options,
// value bytes), an ImmediateResponse with one header 4 (reply block,
// mutation block, option, value bytes).
func TestReplyAllocations(t *testing.T) {
	f := &flowengine.Mutation{
		Path:          "/v2/items",
		SetHeaders:    []flowengine.Header{{Name: "x-user", Value: "alice"}, {Name: "x-flowproc", Value: "1"}},
		RemoveHeaders: []string{"cookie"},
	}
	if n := testing.AllocsPerRun(100, func() {
		_ = noStore.continueHeaders(false, noStore.requestMutation(f, false, "", false), false, nil)
	}); n > 4 {
		t.Errorf("request-headers reply: %.0f allocations, want ≤ 4", n)
	}
	set := []flowengine.Header{{Name: "content-type", Value: "application/json"}}
	body := []byte(`{"ok":true}`)
	if n := testing.AllocsPerRun(100, func() { _ = noStore.immediateReply(200, set, nil, body, "flowproc") }); n > 4 {
		t.Errorf("immediate reply: %.0f allocations, want ≤ 4", n)
	}
}

// TestReplyShapes checks that the block-allocated replies are the messages
// the plain constructors would build.
func TestReplyShapes(t *testing.T) {
	hm := &extprocv3.HeaderMutation{RemoveHeaders: []string{"x"}}
	for _, resp := range []bool{false, true} {
		c := &extprocv3.CommonResponse{HeaderMutation: hm, ClearRouteCache: true}
		hr := &extprocv3.HeadersResponse{Response: c}
		want := &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestHeaders{RequestHeaders: hr}}
		wantBody := &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestBody{RequestBody: &extprocv3.BodyResponse{Response: &extprocv3.CommonResponse{}}}}
		if resp {
			want = &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseHeaders{ResponseHeaders: hr}}
			wantBody = &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseBody{ResponseBody: &extprocv3.BodyResponse{Response: &extprocv3.CommonResponse{}}}}
		}
		if got := noStore.continueHeaders(resp, hm, true, nil); !proto.Equal(got, want) {
			t.Errorf("noStore.continueHeaders(response=%v) = %v, want %v", resp, got, want)
		}
		if got := noStore.headersReply(resp, c, nil); !proto.Equal(got, want) {
			t.Errorf("noStore.headersReply(response=%v) = %v, want %v", resp, got, want)
		}
		if got := noStore.bodyReply(resp, nil); !proto.Equal(got, wantBody) {
			t.Errorf("noStore.bodyReply(response=%v, nil) = %v, want %v", resp, got, wantBody)
		}
	}
}

// noStore allocates every block, as replies built outside an exchange do.
var noStore *replyStore
