//go:build vtprotobuf

package extproc

import "google.golang.org/grpc"

// codecOptions installs the vtprotobuf codec on the ext_proc gRPC server
// (builds with -tags vtprotobuf; see codec.go and docs/bench.md).
func codecOptions() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.ForceServerCodecV2(newVTCodec())}
}

// vtprotoBuild reports whether this build marshals with vtprotobuf.
const vtprotoBuild = true
