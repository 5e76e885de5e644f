package policies

import (
	"errors"
	"math"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/dop251/goja"
)

// goja cannot account memory per runtime, so a script that builds huge
// values (`s += s` in a loop, "x".repeat(1e9)) could exhaust the process
// well within its timeLimit. The watchdog below is the bound goja allows:
// while any script runs, one goroutine samples the live heap every
// jsHeapPoll and interrupts every running script once the heap passes
// jsHeapCeiling. It cannot tell which script allocated, so under memory
// pressure all running scripts fail (load shedding) rather than the
// process. Bytes a script hands to the flow (setVariable, content,
// headers, session, httpClient bodies) are also charged to the run's
// output budget.

// errJSMemory interrupts scripts when the heap passes the ceiling.
var errJSMemory = errors.New("script memory limit exceeded")

// jsHeapPoll is how often the watchdog samples the heap.
const jsHeapPoll = 5 * time.Millisecond

// jsHeapCeiling returns the live-heap size at which running scripts are
// interrupted: 3/4 of GOMEMLIMIT when one is set, else 2 GiB.
var jsHeapCeiling = func() uint64 {
	if lim := debug.SetMemoryLimit(-1); lim > 0 && lim != math.MaxInt64 {
		return uint64(lim) / 4 * 3
	}
	return 2 << 30
}

var jsWatch struct {
	mu      sync.Mutex
	running map[*goja.Runtime]struct{}
	active  bool
}

// watchMemory registers vm with the watchdog until the returned function
// is called.
func watchMemory(vm *goja.Runtime) func() {
	jsWatch.mu.Lock()
	if jsWatch.running == nil {
		jsWatch.running = map[*goja.Runtime]struct{}{}
	}
	jsWatch.running[vm] = struct{}{}
	if !jsWatch.active {
		jsWatch.active = true
		go jsWatchLoop()
	}
	jsWatch.mu.Unlock()
	return func() {
		jsWatch.mu.Lock()
		delete(jsWatch.running, vm)
		jsWatch.mu.Unlock()
	}
}

func jsWatchLoop() {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	t := time.NewTicker(jsHeapPoll)
	defer t.Stop()
	for range t.C {
		jsWatch.mu.Lock()
		if len(jsWatch.running) == 0 {
			jsWatch.active = false
			jsWatch.mu.Unlock()
			return
		}
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 && sample[0].Value.Uint64() > jsHeapCeiling() {
			for vm := range jsWatch.running {
				vm.Interrupt(errJSMemory)
			}
		}
		jsWatch.mu.Unlock()
	}
}
