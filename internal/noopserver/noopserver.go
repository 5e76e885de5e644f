// Package noopserver is the baseline ext_proc server of `flowproc bench`:
// it answers every message with CONTINUE in the reply type that matches the
// request (request_headers → HeadersResponse, bodies → BodyResponse,
// trailers → TrailersResponse) and changes nothing: the smallest server that
// follows the protocol. Whatever it costs is the floor set by gRPC, protobuf and
// the stream protocol; flowproc's cost above it is the flows'.
//
// FULL_DUPLEX_STREAMED bodies (announced in protocol_config) cannot be
// answered with an empty BodyResponse; they are echoed back unchanged as
// streamed_response chunks. Observability-mode messages get no reply.
package noopserver

import (
	"errors"
	"io"

	procmodev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Server is the no-op ExternalProcessor. The zero value is ready to use.
type Server struct {
	extprocv3.UnimplementedExternalProcessorServer
}

// Register registers the ext_proc service on g.
func (s *Server) Register(g *grpc.Server) { extprocv3.RegisterExternalProcessorServer(g, s) }

// GRPCOptions are the server options the no-op needs: none beyond those the
// caller chooses (message size limits for large BUFFERED bodies).
func (s *Server) GRPCOptions() []grpc.ServerOption { return nil }

// Process answers each message of one stream until Envoy closes it.
func (s *Server) Process(stream extprocv3.ExternalProcessor_ProcessServer) error {
	var fdsReq, fdsResp bool
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) || status.Code(err) == codes.Canceled {
			return nil
		}
		if err != nil {
			return err
		}
		if pc := req.GetProtocolConfig(); pc != nil {
			fdsReq = pc.GetRequestBodyMode() == procmodev3.ProcessingMode_FULL_DUPLEX_STREAMED
			fdsResp = pc.GetResponseBodyMode() == procmodev3.ProcessingMode_FULL_DUPLEX_STREAMED
		}
		if req.GetObservabilityMode() {
			continue
		}
		resp := Reply(req, fdsReq, fdsResp)
		if resp == nil {
			return status.Errorf(codes.InvalidArgument, "noopserver: unknown request type %T", req.GetRequest())
		}
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
}

// Reply returns the pass-through reply to req: CONTINUE with no mutations,
// of the matching type. fdsReq and fdsResp say that the request or response
// body is FULL_DUPLEX_STREAMED, in which case a body message is echoed back
// as a streamed_response. It returns nil for an unknown message type.
func Reply(req *extprocv3.ProcessingRequest, fdsReq, fdsResp bool) *extprocv3.ProcessingResponse {
	switch r := req.GetRequest().(type) {
	case *extprocv3.ProcessingRequest_RequestHeaders:
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestHeaders{
			RequestHeaders: &extprocv3.HeadersResponse{Response: &extprocv3.CommonResponse{}}}}
	case *extprocv3.ProcessingRequest_ResponseHeaders:
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseHeaders{
			ResponseHeaders: &extprocv3.HeadersResponse{Response: &extprocv3.CommonResponse{}}}}
	case *extprocv3.ProcessingRequest_RequestBody:
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestBody{
			RequestBody: bodyResponse(r.RequestBody, fdsReq)}}
	case *extprocv3.ProcessingRequest_ResponseBody:
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseBody{
			ResponseBody: bodyResponse(r.ResponseBody, fdsResp)}}
	case *extprocv3.ProcessingRequest_RequestTrailers:
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestTrailers{
			RequestTrailers: &extprocv3.TrailersResponse{}}}
	case *extprocv3.ProcessingRequest_ResponseTrailers:
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseTrailers{
			ResponseTrailers: &extprocv3.TrailersResponse{}}}
	}
	return nil
}

// bodyResponse is an empty CONTINUE, or for FULL_DUPLEX_STREAMED the chunk
// echoed back unchanged.
func bodyResponse(b *extprocv3.HttpBody, fds bool) *extprocv3.BodyResponse {
	if !fds {
		return &extprocv3.BodyResponse{Response: &extprocv3.CommonResponse{}}
	}
	return &extprocv3.BodyResponse{Response: &extprocv3.CommonResponse{
		BodyMutation: &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_StreamedResponse{
			StreamedResponse: &extprocv3.StreamedBodyResponse{Body: b.GetBody(), EndOfStream: b.GetEndOfStream()}}}}}
}
