package policies

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/store"
)

const spikeViolation = "policies.ratelimit.SpikeArrestViolation"

// spikeXML is a SpikeArrest policy named S with the given children.
func spikeXML(body string) map[string]string {
	return map[string]string{"S.xml": `<SpikeArrest name="S">` + body + `</SpikeArrest>`}
}

// spikeCases are the SpikeArrest scenarios, run on memory and on Redis.
func spikeCases() []quotaScenario {
	cases := []quotaScenario{
		{name: "10pm allows one request every 6 s", files: spikeXML(`<Rate>10pm</Rate>`), reqs: []quotaReq{
			{},
			{advance: 5 * time.Second, fault: spikeViolation, msg: "Spike arrest violation. Allowed rate : MessageRate{capacity=10, period=Minutes}"},
			{advance: time.Second},
			{fault: spikeViolation},
			{advance: 6 * time.Second},
		}},
		{name: "5ps allows one request every 200 ms", files: spikeXML(`<Rate>5ps</Rate>`), reqs: []quotaReq{
			{},
			{advance: 199 * time.Millisecond, fault: spikeViolation, msg: "Spike arrest violation. Allowed rate : MessageRate{capacity=5, period=Seconds}"},
			{advance: time.Millisecond},
		}},
		{name: "identifier separates clients", files: spikeXML(`<Rate>1ps</Rate><Identifier ref="request.header.client"/>`), reqs: []quotaReq{
			{headers: []string{"client", "a"}},
			{headers: []string{"client", "b"}},
			{headers: []string{"client", "a"}, fault: spikeViolation},
			{},
			{fault: spikeViolation},
		}},
		{name: "rate reference wins", files: spikeXML(`<Rate ref="request.header.rate">1pm</Rate>`), reqs: []quotaReq{
			{headers: []string{"rate", "10ps"}},
			{advance: 100 * time.Millisecond, headers: []string{"rate", "10ps"}},
			{advance: 50 * time.Millisecond, fault: spikeViolation, msg: "Spike arrest violation. Allowed rate : MessageRate{capacity=1, period=Minutes}"},
			{headers: []string{"rate", "fast"}, fault: "policies.ratelimit.InvalidAllowedRate", msg: "Invalid spike arrest rate fast in SpikeArrest policy S"},
		}},
		{name: "unresolved rate reference", files: spikeXML(`<Rate ref="custom.rate"/>`), reqs: []quotaReq{
			{fault: "policies.ratelimit.FailedToResolveSpikeArrestRate", msg: "Unable to resolve rate reference custom.rate in SpikeArrest policy S"},
			{set: map[string]string{"custom.rate": "30ps"}},
		}},
		{name: "message weight costs several intervals", files: spikeXML(`<Rate>60pm</Rate><MessageWeight ref="request.header.w"/>`), reqs: []quotaReq{
			{headers: []string{"w", "3"}},
			{advance: 2 * time.Second, fault: spikeViolation},
			{advance: time.Second, headers: []string{"w", "2"}},
			{advance: time.Second, fault: spikeViolation},
			{advance: time.Second},
			{headers: []string{"w", "x"}, fault: "policies.ratelimit.InvalidMessageWeight", msg: "Invalid message weight value x"},
		}},
		{name: "effective count: a sliding window without smoothing", files: spikeXML(`<Rate>3pm</Rate><UseEffectiveCount>true</UseEffectiveCount>`), reqs: []quotaReq{
			{}, {}, {},
			{advance: 30 * time.Second, fault: spikeViolation},
			{advance: 31 * time.Second},
			{},
		}},
	}
	for i := range cases {
		cases[i].policy = "S"
	}
	return cases
}

func TestSpikeArrest(t *testing.T) {
	for _, sc := range spikeCases() {
		t.Run(sc.name, func(t *testing.T) {
			st, clk := quotaStores(t)
			quotaRunScenario(t, sc, st, clk)
		})
	}
}

func TestSpikeArrestLoadErrors(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"no rate", `<SpikeArrest name="S"/>`, "has no <Rate>"},
		{"empty rate", `<SpikeArrest name="S"><Rate/></SpikeArrest>`, "needs a value or ref="},
		{"bad rate", `<SpikeArrest name="S"><Rate>10ph</Rate></SpikeArrest>`, "Invalid spike arrest rate 10ph in SpikeArrest policy S"},
		{"zero rate", `<SpikeArrest name="S"><Rate>0ps</Rate></SpikeArrest>`, "Invalid spike arrest rate 0ps"},
		{"identifier without ref", `<SpikeArrest name="S"><Rate>1ps</Rate><Identifier/></SpikeArrest>`, "<Identifier> needs ref="},
		{"weight without ref", `<SpikeArrest name="S"><Rate>1ps</Rate><MessageWeight/></SpikeArrest>`, "<MessageWeight> needs ref="},
		{"bad boolean", `<SpikeArrest name="S"><Rate>1ps</Rate><UseEffectiveCount>maybe</UseEffectiveCount></SpikeArrest>`, "not true or false"},
		{"unknown element", `<SpikeArrest name="S"><Rate>1ps</Rate><Burst>3</Burst></SpikeArrest>`, "unknown element <Burst>"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := loadErrors(c.src); !strings.Contains(got, c.want) {
				t.Fatalf("load errors %q, want %q", got, c.want)
			}
		})
	}
}

// spikeHammer sends 10 bursts of 8 concurrent requests, 100 ms apart,
// through a 10ps SpikeArrest on st and returns how many passed: one per
// burst when the limiter is atomic.
func spikeHammer(t *testing.T, st *store.Stores, clk *quotaClock) int {
	t.Helper()
	pol := compile(t, `<SpikeArrest name="SH"><Rate>10ps</Rate></SpikeArrest>`)
	var mu sync.Mutex
	n := 0
	for burst := 0; burst < 10; burst++ {
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := newRun(engine.ProxyRequest, "GET", "/", "", nil)
				r.SetTestState(st)
				err := pol.Execute(r)
				var f *engine.Fault
				switch {
				case err == nil:
					mu.Lock()
					n++
					mu.Unlock()
				case errors.As(err, &f) && f.Code == spikeViolation:
				default:
					t.Errorf("unexpected error %v", err)
				}
			}()
		}
		wg.Wait()
		clk.Add(100 * time.Millisecond)
	}
	return n
}

func TestSpikeArrestConcurrentMemory(t *testing.T) {
	st, clk := quotaStores(t)
	if n := spikeHammer(t, st, clk); n != 10 {
		t.Fatalf("allowed %d requests in 10 steps of 100 ms at 10ps, want 10", n)
	}
}
