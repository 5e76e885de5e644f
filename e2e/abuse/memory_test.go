package abuse

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowproc/flowproc/extproc"
	"github.com/flowproc/flowproc/extproc/extproctest"
	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/budget"
)

// Sizes of the memory flood (TestBodyFloodStaysWithinBudget).
const (
	// memBodyLimit is the server's body limit; every flood body is exactly
	// this large.
	memBodyLimit = 256 << 10
	// memBodies is how many bodies at the limit the budget holds at once.
	memBodies = 4
	// memFlood is the number of concurrent body-reading requests per wave.
	memFlood = 32
	// memSlack is what the live heap may exceed the budget by: gRPC's
	// receive and send buffers of the in-flight streams (on both ends: the
	// client is in this process), the client's marshalled request messages,
	// goroutine stacks of the flood and the collector's granularity. It is
	// independent of how many requests are refused.
	memSlack = 24 << 20
)

// memBody is a JSON document of exactly memBodyLimit bytes with n items.
func memBody(t *testing.T) ([]byte, int) {
	t.Helper()
	var b bytes.Buffer
	b.WriteString(`{"items":[`)
	n := 0
	for ; b.Len() < memBodyLimit-64; n++ {
		if n > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"name":"item-%06d"}`, n, n)
	}
	b.WriteString(`]}`)
	b.Write(bytes.Repeat([]byte(" "), memBodyLimit-b.Len()))
	if b.Len() != memBodyLimit {
		t.Fatalf("body is %d bytes, want %d", b.Len(), memBodyLimit)
	}
	return b.Bytes(), n
}

// memHeap samples the live heap (runtime/metrics /gc/heap/live:bytes, the
// heap marked live by the last collection) until stop is closed and
// returns the peak.
func memHeap(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		var peak uint64
		tick := time.NewTicker(500 * time.Microsecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-stop:
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

// memLiveHeap is the live heap now, after a collection.
func memLiveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	runtime.GC()
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// memGate holds runs that read their body until every request of the wave
// has started, so that the admitted ones keep their reservations while the
// rest arrive: at least memFlood - memBodies requests meet a full budget.
type memGate struct {
	next    extproc.Resolver
	started atomic.Int64
	want    int64
	open    chan struct{}
	once    sync.Once
}

func (g *memGate) Resolve(name, path string) (flowengine.Runner, string, bool) {
	r, p, ok := g.next.Resolve(name, path)
	if !ok || path != "/count" {
		return r, p, ok
	}
	return runnerFunc(func(ctx context.Context, req *flowengine.Request, h flowengine.Host) *flowengine.Outcome {
		if g.started.Add(1) == g.want {
			g.once.Do(func() { close(g.open) })
		}
		o := r.Run(ctx, req, h)
		if o != nil && o.Status == 200 {
			select { // the parsed body is still referenced by the outcome
			case <-g.open:
			case <-ctx.Done():
			}
		}
		return o
	}), p, true
}

// TestBodyFloodStaysWithinBudget: waves of concurrent requests, each with a
// JSON body at the body limit that the flow parses and counts, against a
// server whose body budget holds memBodies of them. The live heap stays
// within the budget plus memSlack, a small request is answered correctly
// during and after the flood, every request is either counted correctly or
// refused with the documented 503 (code 5031), and the budget is empty
// afterwards.
func TestBodyFloodStaysWithinBudget(t *testing.T) {
	set := project(t, budget.Limits{}, memBodyLimit, map[string]string{
		"/count": `<flow><template>{"n": {{ count($body/json/items/value) }}}</template></flow>`,
		"/ping":  `<flow><echo>pong</echo></flow>`,
	})
	body, items := memBody(t)
	bodies := budget.NewBytes(memBodies * budget.BodyCostFactor * memBodyLimit)
	gate := &memGate{next: set, want: memFlood, open: make(chan struct{})}
	srv := extproc.New(extproc.Options{Resolver: gate, Logger: quiet, BodyLimit: memBodyLimit, BodyBudget: bodies})
	conn := extproctest.Dial(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	ping := func() error {
		res, err := extproctest.Exchange(ctx, conn, &extproctest.Request{Path: "/ping"}, nil)
		if err != nil {
			return fmt.Errorf("ping: %w", err)
		}
		if ir := res.Immediate; ir == nil || ir.GetStatus().GetCode() != 200 || string(ir.GetBody()) != "pong" {
			return fmt.Errorf("ping: got %v", res.Immediate)
		}
		return nil
	}
	if err := ping(); err != nil {
		t.Fatal(err)
	}
	base := memLiveHeap()

	stop := make(chan struct{})
	peak := memHeap(stop)
	var (
		counted, refused atomic.Int64
		wg               sync.WaitGroup
		errs             = make(chan error, 2*memFlood+1)
	)
	req := &extproctest.Request{Method: "POST", Path: "/count", Body: body, Headers: []flowengine.Header{
		{Name: "content-type", Value: "application/json"}, {Name: "content-length", Value: strconv.Itoa(len(body))},
	}}
	flood := func() {
		defer wg.Done()
		res, err := extproctest.Exchange(ctx, conn, req, nil)
		if err != nil {
			errs <- err
			return
		}
		ir := res.Immediate
		var doc struct {
			N     int `json:"n"`
			Error struct {
				Status int `json:"status"`
				Code   int `json:"code"`
			} `json:"error"`
		}
		if ir == nil || json.Unmarshal(ir.GetBody(), &doc) != nil {
			errs <- fmt.Errorf("no JSON answer: %v", res.Replies)
			return
		}
		switch code := ir.GetStatus().GetCode(); {
		case code == 200 && doc.N == items:
			counted.Add(1)
		case code == 503 && doc.Error.Status == 503 && doc.Error.Code == extproc.CodeBodyBudget:
			refused.Add(1)
		default:
			errs <- fmt.Errorf("got %d %.200s", code, ir.GetBody())
		}
	}
	// Wave 1 is gated (memGate); wave 2 runs free (the gate stays open).
	for wave := 1; wave <= 2; wave++ {
		pinged := make(chan error, 1)
		for range memFlood {
			wg.Add(1)
			go flood()
		}
		go func() { pinged <- ping() }() // during the flood
		wg.Wait()
		if err := <-pinged; err != nil {
			errs <- err
		}
	}
	close(stop)
	peakLive := <-peak
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := ping(); err != nil { // after the flood
		t.Fatal(err)
	}

	t.Logf("%d counted, %d refused (503 5031); live heap %.1f MiB before, peak %.1f MiB during; body budget %.1f MiB (peak reserved %.1f MiB), slack %.0f MiB",
		counted.Load(), refused.Load(), mib(base), mib(peakLive), mib(uint64(bodies.Limit())), mib(uint64(bodies.Peak())), mib(memSlack))
	if refused.Load() < memFlood-memBodies {
		t.Errorf("%d requests refused, want at least %d (the gated wave's excess)", refused.Load(), memFlood-memBodies)
	}
	if counted.Load() < memBodies {
		t.Errorf("%d requests counted, want at least %d", counted.Load(), memBodies)
	}
	if bodies.Peak() > bodies.Limit() {
		t.Errorf("peak reservation %d over the budget %d", bodies.Peak(), bodies.Limit())
	}
	if limit := base + uint64(bodies.Limit()) + memSlack; peakLive > limit {
		t.Errorf("peak live heap %.1f MiB > %.1f MiB before + budget %.1f MiB + slack %.0f MiB",
			mib(peakLive), mib(base), mib(uint64(bodies.Limit())), mib(memSlack))
	}
	for deadline := time.Now().Add(10 * time.Second); bodies.InUse() != 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d bytes of the body budget still reserved after the flood", bodies.InUse())
		}
	}
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }
