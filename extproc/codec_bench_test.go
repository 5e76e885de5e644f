package extproc

import (
	"testing"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/encoding"
	protoenc "google.golang.org/grpc/encoding/proto"

	"github.com/flowproc/flowproc/flowengine"
)

// BenchmarkCodecMarshal compares grpc-go's protobuf codec ("proto") with
// vtCodec ("vt") on the replies of a proxied exchange with mutations and of
// an answered one, in one binary. Without -tags vtprotobuf both take the
// same path; with it, "vt" uses the generated methods.
func BenchmarkCodecMarshal(b *testing.B) {
	replies := []struct {
		name string
		msg  *extprocv3.ProcessingResponse
	}{
		{"request-mutation", noStore.headersReply(false, &extprocv3.CommonResponse{HeaderMutation: noStore.requestMutation(&flowengine.Mutation{
			SetHeaders:    []flowengine.Header{{Name: "x-user", Value: "alice"}, {Name: "authorization", Value: "Bearer abc.def.ghi"}},
			RemoveHeaders: []string{"cookie"},
			Path:          "/v2/items/42?expand=1",
		}, false, "", false)}, nil)},
		{"immediate", noStore.immediateReply(200, []flowengine.Header{{Name: "content-type", Value: "application/json"}}, nil,
			[]byte(`{"greeting":"Hello, world!","lang":"de","requestID":"7f1c9a2e-1b7a-4c55-9f0e-2b1d1f0c9e11"}`), "flowproc_hello")},
	}
	codecs := []struct {
		name string
		c    encoding.CodecV2
	}{{"proto", encoding.GetCodecV2(protoenc.Name)}, {"vt", newVTCodec()}}
	for _, r := range replies {
		for _, c := range codecs {
			b.Run(r.name+"/"+c.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					data, err := c.c.Marshal(r.msg)
					if err != nil {
						b.Fatal(err)
					}
					data.Free()
				}
			})
		}
	}
}
