package extproc

import "google.golang.org/grpc"

// transportOptions are the grpc.Server options chosen for throughput and CPU
// per exchange (docs/bench.md, "Levers"): the vtprotobuf codec in builds with
// the vtprotobuf tag.
func transportOptions() []grpc.ServerOption {
	return codecOptions()
}
