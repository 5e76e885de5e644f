package flat

import (
	"testing"
	"unsafe"
)

// TestRunFitsItsSizeClass: a run is one allocation per request; at 2 KiB
// it sits in the 2048-byte size class, and every byte beyond moves it to
// the 2688-byte class, which costs measurably more GC work per exchange
// (BenchmarkRunTemplated went +37% when it grew to 2432 bytes).
func TestRunFitsItsSizeClass(t *testing.T) {
	if n := unsafe.Sizeof(run{}); n > 2048 {
		t.Fatalf("run is %d bytes, over the 2048-byte size class", n)
	}
}
