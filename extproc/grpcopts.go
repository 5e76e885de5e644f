package extproc

import "google.golang.org/grpc"

// streamWorkers is how many long-lived goroutines serve the server's
// streams (grpc.NumStreamWorkers). A stream that arrives when all are busy
// gets a goroutine of its own, as without the option. A worker keeps the
// stack the previous streams grew, so a stream's handler does not grow a
// fresh 8 KiB stack several times on its way down the flow and into
// marshalling: runtime.newstack fell from 9-13 % to 2-3 % of the server's
// CPU on the proxied route (docs/bench.md, "Levers"). 64 covers the
// concurrent streams of a sidecar; idle workers cost their stacks (at most a
// few MiB in all). grpc-go hands a stream to the worker that has waited
// longest, so at a low rate every stream runs on a stack the others have
// been through since: 8 workers saved about 2 % of the CPU at 2,000
// exchanges/s and cost 15 % at saturation, 32 could not be told from 64
// (docs/bench.md, "The idle regime probed").
const streamWorkers = 64

// transportOptions are the grpc.Server options chosen for CPU per exchange
// (docs/bench.md, "Levers"): stream workers, and the vtprotobuf codec in
// builds with the vtprotobuf tag. Options that did not measurably pay
// (shared write buffers, buffer sizes, static flow-control windows) are
// not set.
func transportOptions() []grpc.ServerOption {
	return append(codecOptions(), grpc.NumStreamWorkers(streamWorkers))
}
