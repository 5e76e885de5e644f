package extproc

import (
	"testing"
	"time"
)

// coldSpan is the memory BenchmarkProcessCold writes between two messages
// to push the server's code and data out of the CPU caches: larger than
// the second-level caches of the machines flowproc runs on, and than much
// of the shared third level a VM gets.
const coldSpan = 16 << 20

// coldMemory is written one byte per cache line (evict).
var coldMemory = make([]byte, coldSpan)

// evict writes a byte of every 64-byte line of coldMemory, so that what
// the next message touches comes from memory or a far cache.
func evict(round byte) {
	for i := 0; i < len(coldMemory); i += 64 {
		coldMemory[i] = round
	}
}

// BenchmarkProcessCold measures each exchange with the caches emptied
// before every message, as when a server idles between messages (a
// fixed, moderate rate such as flowproc bench -rate 2000, where each
// message wakes it): the handler's code and data, the stream's and the
// exchange's, come from memory every time. The exchange's time is the
// sum of its messages' round trips (message handed over to reply taken),
// reported as ns/exchange; the eviction between them is not counted.
// Use it with -cpu 1 and a fixed -benchtime (say 2000x): each exchange
// evicts 32 MiB.
func BenchmarkProcessCold(b *testing.B) {
	eachHandler(b, 1, func(b *testing.B, h handlerRun) {
		var spent time.Duration
		round := byte(0)
		b.ResetTimer()
		for range b.N {
			st := newChanStream(h.ctx)
			h.wg.Add(1)
			h.jobs <- st
			for _, m := range h.msgs {
				round++
				evict(round)
				start := time.Now()
				st.in <- m
				<-st.out
				spent += time.Since(start)
			}
			close(st.in)
			h.wg.Wait()
		}
		b.ReportMetric(float64(spent.Nanoseconds())/float64(b.N), "ns/exchange")
	})
}
