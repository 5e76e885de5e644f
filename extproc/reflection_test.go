package extproc

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	"github.com/flowproc/flowproc/extproc/extproctest"
)

// TestReflectionOffByDefault: server reflection tells anyone who can connect
// every service and message type, so it is registered only with
// Options.Reflection (serve -reflection).
func TestReflectionOffByDefault(t *testing.T) {
	for _, tc := range []struct {
		name string
		on   bool
	}{{"default", false}, {"enabled", true}} {
		t.Run(tc.name, func(t *testing.T) {
			conn := extproctest.Dial(t, New(Options{Reflection: tc.on}))
			ctx := context.Background()
			rs, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
			if err != nil {
				t.Fatalf("reflection: %v", err)
			}
			// Send may see EOF when the server has already refused the
			// stream; Recv returns the status either way.
			if err := rs.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil && tc.on {
				t.Fatalf("reflection send: %v", err)
			}
			r, err := rs.Recv()
			if !tc.on {
				if status.Code(err) != codes.Unimplemented {
					t.Fatalf("reflection without Options.Reflection: %v, %v; want Unimplemented", r, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("reflection recv: %v", err)
			}
			_ = rs.CloseSend()
			var names []string
			for _, s := range r.GetListServicesResponse().GetService() {
				names = append(names, s.GetName())
			}
			if !strings.Contains(strings.Join(names, ","), ServiceName) {
				t.Errorf("reflection lists %v, want %s among them", names, ServiceName)
			}
		})
	}
}
