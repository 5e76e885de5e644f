package extproc

import (
	"errors"
	"fmt"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/protobuf/proto"
)

// ErrReplyTooLarge is returned instead of sending a reply larger than the
// proxy accepts (Options.MaxReplyBytes). The exchange is then answered with
// a 500 error document (code reply_too_large) while the response can still
// be replaced, rather than failing the gRPC stream.
var ErrReplyTooLarge = errors.New("reply larger than the proxy accepts")

// replySlack is how much of a reply is not body: headers and framing. Only
// replies whose bodies come within this of the limit are measured exactly.
const replySlack = 64 << 10

// checkReplySize returns ErrReplyTooLarge when r is over max bytes. It
// measures the message only when its bodies are large, so ordinary replies
// cost a type switch.
func checkReplySize(r *extprocv3.ProcessingResponse, max int) error {
	if max <= 0 || replyBodyLen(r) < max-replySlack {
		return nil
	}
	if n := proto.Size(r); n > max {
		return fmt.Errorf("%w: %d bytes, the limit is %d", ErrReplyTooLarge, n, max)
	}
	return nil
}

// replyBodyLen is the size of the bodies a reply carries.
func replyBodyLen(r *extprocv3.ProcessingResponse) int {
	var c *extprocv3.CommonResponse
	switch v := r.GetResponse().(type) {
	case *extprocv3.ProcessingResponse_ImmediateResponse:
		return len(v.ImmediateResponse.GetBody())
	case *extprocv3.ProcessingResponse_RequestHeaders:
		c = v.RequestHeaders.GetResponse()
	case *extprocv3.ProcessingResponse_ResponseHeaders:
		c = v.ResponseHeaders.GetResponse()
	case *extprocv3.ProcessingResponse_RequestBody:
		c = v.RequestBody.GetResponse()
	case *extprocv3.ProcessingResponse_ResponseBody:
		c = v.ResponseBody.GetResponse()
	}
	bm := c.GetBodyMutation()
	return len(bm.GetBody()) + len(bm.GetStreamedResponse().GetBody())
}
