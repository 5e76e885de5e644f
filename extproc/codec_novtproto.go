//go:build !vtprotobuf

package extproc

import "google.golang.org/grpc"

// codecOptions is empty without the vtprotobuf build tag: grpc-go's own
// protobuf codec marshals (the generated VT methods are not compiled in).
func codecOptions() []grpc.ServerOption { return nil }

// vtprotoBuild reports whether this build marshals with vtprotobuf.
const vtprotoBuild = false
