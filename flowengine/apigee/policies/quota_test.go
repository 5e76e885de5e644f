package policies

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/store"
)

// quotaClock is a settable clock for the state stores.
type quotaClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *quotaClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *quotaClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// quotaStores returns fresh memory stores on a fake clock starting at
// 2026-01-07 10:00:30 UTC (a Wednesday).
func quotaStores(t testing.TB) (*store.Stores, *quotaClock) {
	t.Helper()
	clk := &quotaClock{t: time.Date(2026, 1, 7, 10, 0, 30, 0, time.UTC)}
	st, err := store.OpenConfig(context.Background(), store.Config{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return st, clk
}

// quotaReq is one request of a quota scenario.
type quotaReq struct {
	advance time.Duration
	headers []string
	set     map[string]string // variables set before the policy runs
	fault   string            // fault code ("" = allowed)
	msg     string            // exact faultstring, when given
	vars    map[string]string // variable → string value
}

// quotaScenario is a policy bundle run request after request on one
// state store.
type quotaScenario struct {
	name   string
	files  map[string]string // policies/ files; "" key: the policy under test is p.xml
	policy string            // name of the policy to run (default: the only one)
	reqs   []quotaReq
}

// quotaRunScenario runs the requests of sc in order, each through the
// policy compiled from sc.files, and checks faults and variables.
func quotaRunScenario(t *testing.T, sc quotaScenario, st *store.Stores, clk *quotaClock) {
	t.Helper()
	if sc.policy == "" {
		sc.policy = "Q"
	}
	pols := map[string]engine.Policy{}
	for i, rq := range sc.reqs {
		clk.Add(rq.advance)
		name := sc.policy
		if strings.Contains(name, "|") { // "policy|policy|…": one per request
			name = strings.Split(name, "|")[i]
		}
		pol := pols[name]
		if pol == nil {
			p, errs := engine.TestPolicyIn(sc.files, name)
			if p == nil || len(errs) > 0 {
				t.Fatalf("load %s: %v", name, errs)
			}
			pol, pols[name] = p, p
		}
		r := engine.TestRun(context.Background(), engine.ProxyRequest, "GET", "/", nil, nil, rq.headers...)
		r.SetTestState(st)
		for k, v := range rq.set {
			if err := r.Set(k, v); err != nil {
				t.Fatal(err)
			}
		}
		err := pol.Execute(r)
		var f *engine.Fault
		switch {
		case rq.fault == "" && err != nil:
			t.Fatalf("request %d: unexpected error %v", i+1, err)
		case rq.fault == "error": // a plain error (ExecutionFailed)
			if err == nil || errors.As(err, &f) {
				t.Fatalf("request %d: error %v, want a non-fault error", i+1, err)
			}
		case rq.fault != "":
			if !errors.As(err, &f) || f.Code != rq.fault {
				t.Fatalf("request %d: error %v, want fault %s", i+1, err, rq.fault)
			}
			if rq.msg != "" && f.Message != rq.msg {
				t.Fatalf("request %d: faultstring %q, want %q", i+1, f.Message, rq.msg)
			}
		}
		for v, want := range rq.vars {
			if got := get(r, v); got != want {
				t.Errorf("request %d: %s = %q, want %q", i+1, v, got, want)
			}
		}
	}
}

const quotaViolation = "policies.ratelimit.QuotaViolation"

// quotaXML wraps Quota children in a policy named Q.
func quotaXML(attrs, body string) map[string]string {
	return map[string]string{"Q.xml": `<Quota name="Q"` + attrs + `>` + body + `</Quota>`}
}

// quotaCases are the Quota scenarios, run on memory and on Redis.
func quotaCases() []quotaScenario {
	minute := `<Allow count="2"/><Interval>1</Interval><TimeUnit>minute</TimeUnit>`
	va := `<VerifyAPIKey name="VA"><APIKey ref="request.header.apikey"/></VerifyAPIKey>`
	oa := `<OAuthV2 name="OA"><Operation>VerifyAccessToken</Operation></OAuthV2>`
	// 2026-01-07 10:01:00 UTC in milliseconds: the end of the first minute.
	endMinute := fmt.Sprint(time.Date(2026, 1, 7, 10, 1, 0, 0, time.UTC).UnixMilli())
	return []quotaScenario{
		{name: "default type counts per calendar minute", files: quotaXML("", minute), reqs: []quotaReq{
			{vars: map[string]string{"ratelimit.Q.allowed.count": "2", "ratelimit.Q.used.count": "1", "ratelimit.Q.available.count": "1",
				"ratelimit.Q.exceed.count": "0", "ratelimit.Q.total.exceed.count": "0", "ratelimit.Q.expiry.time": endMinute,
				"ratelimit.Q.identifier": "_default", "ratelimit.Q.class": "<null>"}},
			{vars: map[string]string{"ratelimit.Q.used.count": "2", "ratelimit.Q.available.count": "0"}},
			{fault: quotaViolation, msg: "Rate limit quota violation. Quota limit  exceeded. Identifier : _default",
				vars: map[string]string{"ratelimit.Q.used.count": "2", "ratelimit.Q.available.count": "0", "ratelimit.Q.exceed.count": "1",
					"ratelimit.Q.total.exceed.count": "1"}},
			{advance: 30 * time.Second, vars: map[string]string{"ratelimit.Q.used.count": "1", "ratelimit.Q.exceed.count": "0"}},
		}},
		{name: "countRef wins over count", files: quotaXML("", `<Allow count="5" countRef="request.header.limit"/><Interval>1</Interval><TimeUnit>hour</TimeUnit>`), reqs: []quotaReq{
			{headers: []string{"limit", "1"}, vars: map[string]string{"ratelimit.Q.allowed.count": "1"}},
			{headers: []string{"limit", "1"}, fault: quotaViolation},
			{vars: map[string]string{"ratelimit.Q.allowed.count": "5", "ratelimit.Q.used.count": "2"}},
		}},
		{name: "identifier separates clients", files: quotaXML("", `<Allow count="1"/><Interval>1</Interval><TimeUnit>day</TimeUnit><Identifier ref="request.header.client"/>`), reqs: []quotaReq{
			{headers: []string{"client", "a"}, vars: map[string]string{"ratelimit.Q.identifier": "a"}},
			{headers: []string{"client", "b"}, vars: map[string]string{"ratelimit.Q.identifier": "b", "ratelimit.Q.used.count": "1"}},
			{headers: []string{"client", "a"}, fault: quotaViolation, msg: "Rate limit quota violation. Quota limit  exceeded. Identifier : a"},
			{vars: map[string]string{"ratelimit.Q.identifier": "_default"}},
		}},
		{name: "message weight", files: quotaXML("", `<Allow count="5"/><Interval>1</Interval><TimeUnit>minute</TimeUnit><MessageWeight ref="request.header.w"/>`), reqs: []quotaReq{
			{headers: []string{"w", "3"}, vars: map[string]string{"ratelimit.Q.used.count": "3", "ratelimit.Q.available.count": "2"}},
			{headers: []string{"w", "3"}, fault: quotaViolation, vars: map[string]string{"ratelimit.Q.used.count": "3"}},
			{headers: []string{"w", "2"}, vars: map[string]string{"ratelimit.Q.used.count": "5"}},
			{headers: []string{"w", "1.5"}, fault: "policies.ratelimit.InvalidMessageWeight", msg: "Invalid message weight value 1.5"},
			{headers: []string{"w", "0"}, fault: "policies.ratelimit.InvalidMessageWeight"},
		}},
		{name: "class limits", files: quotaXML("", `<Allow count="1"><Class ref="request.header.class"><Allow class="gold" count="3"/><Allow class="silver" count="2"/></Class></Allow><Interval>1</Interval><TimeUnit>minute</TimeUnit>`), reqs: []quotaReq{
			{headers: []string{"class", "gold"}, vars: map[string]string{"ratelimit.Q.class": "gold", "ratelimit.Q.class.allowed.count": "3",
				"ratelimit.Q.class.used.count": "1", "ratelimit.Q.class.available.count": "2", "ratelimit.Q.class.exceed.count": "0"}},
			{headers: []string{"class", "silver"}, vars: map[string]string{"ratelimit.Q.allowed.count": "2", "ratelimit.Q.used.count": "2"}},
			{headers: []string{"class", "bronze"}, fault: quotaViolation, vars: map[string]string{"ratelimit.Q.class": "bronze", "ratelimit.Q.allowed.count": "1",
				"ratelimit.Q.class.exceed.count": "1", "ratelimit.Q.class.total.exceed.count": "1"}},
			{headers: []string{"class", "gold"}},
			{headers: []string{"class", "gold"}, fault: quotaViolation},
		}},
		{name: "calendar with start time", files: quotaXML(` type="calendar"`, `<Allow count="1"/><Interval>2</Interval><TimeUnit>hour</TimeUnit><StartTime>2026-1-7 9:30:00</StartTime>`), reqs: []quotaReq{
			// Windows: 9:30-11:30, 11:30-13:30; now 10:00:30.
			{vars: map[string]string{"ratelimit.Q.expiry.time": fmt.Sprint(time.Date(2026, 1, 7, 11, 30, 0, 0, time.UTC).UnixMilli())}},
			{advance: 89 * time.Minute, fault: quotaViolation},
			{advance: time.Minute, vars: map[string]string{"ratelimit.Q.used.count": "1",
				"ratelimit.Q.expiry.time": fmt.Sprint(time.Date(2026, 1, 7, 13, 30, 0, 0, time.UTC).UnixMilli())}},
		}},
		{name: "flexi window starts at the first request", files: quotaXML(` type="flexi"`, minute), reqs: []quotaReq{
			{vars: map[string]string{"ratelimit.Q.expiry.time": fmt.Sprint(time.Date(2026, 1, 7, 10, 1, 30, 0, time.UTC).UnixMilli())}},
			{advance: 40 * time.Second},
			{advance: 10 * time.Second, fault: quotaViolation},
			{advance: 11 * time.Second, vars: map[string]string{"ratelimit.Q.used.count": "1"}},
		}},
		{name: "rolling window", files: quotaXML(` type="rollingwindow"`, minute), reqs: []quotaReq{
			{},                          // 10:00:30
			{advance: 40 * time.Second}, // 10:01:10: a calendar minute would have restarted
			{advance: 10 * time.Second, fault: quotaViolation},
			// 10:01:45: the first request is 75 s old and no longer counts.
			{advance: 25 * time.Second, vars: map[string]string{"ratelimit.Q.used.count": "2"}},
		}},
		{name: "interval and time unit references", files: quotaXML("", `<Allow count="1"/><Interval ref="request.header.i">1</Interval><TimeUnit ref="request.header.u">day</TimeUnit>`), reqs: []quotaReq{
			{headers: []string{"i", "2", "u", "minute"}},
			{advance: 60 * time.Second, headers: []string{"i", "2", "u", "minute"}, fault: quotaViolation},
			{headers: []string{"i", "x"}, fault: "error"},
			{headers: []string{"u", "fortnight"}, fault: "policies.ratelimit.InvalidQuotaTimeUnit", msg: "Invalid quota time unit fortnight in quota policy Q"},
		}},
		{name: "unresolved interval reference", files: quotaXML("", `<Allow count="1"/><Interval ref="request.header.i"/><TimeUnit>day</TimeUnit>`), reqs: []quotaReq{
			{fault: "policies.ratelimit.FailedToResolveQuotaIntervalReference", msg: "Failed to resolve quota interval reference request.header.i in quota policy Q"},
			{headers: []string{"i", "1"}},
		}},
		{name: "unresolved time unit reference", files: quotaXML("", `<Allow count="1"/><Interval>1</Interval><TimeUnit ref="request.header.u"/>`), reqs: []quotaReq{
			{fault: "policies.ratelimit.FailedToResolveQuotaIntervalTimeUnitReference", msg: "Failed to resolve quota time unit reference request.header.u in quota policy Q"},
		}},
		{name: "product quota from VerifyAPIKey", files: map[string]string{"VA.xml": va,
			"Q.xml": `<Quota name="Q"><UseQuotaConfigInAPIProduct stepName="VA"><DefaultConfig><Allow>1</Allow><Interval>1</Interval><TimeUnit>minute</TimeUnit></DefaultConfig></UseQuotaConfigInAPIProduct></Quota>`},
			reqs: []quotaReq{
				{vars: map[string]string{"ratelimit.Q.allowed.count": "1"}},
				{fault: quotaViolation},
				{set: map[string]string{"verifyapikey.VA.apiproduct.developer.quota.limit": "5",
					"verifyapikey.VA.apiproduct.developer.quota.interval": "1", "verifyapikey.VA.apiproduct.developer.quota.timeunit": "minute"},
					vars: map[string]string{"ratelimit.Q.allowed.count": "5", "ratelimit.Q.used.count": "2"}},
			}},
		{name: "product quota from OAuthV2 without default", files: map[string]string{"OA.xml": oa,
			"Q.xml": `<Quota name="Q"><UseQuotaConfigInAPIProduct stepName="OA"/></Quota>`},
			reqs: []quotaReq{
				{fault: "policies.ratelimit.FailedToResolveAllowCountReference", msg: "Failed to resolve allow count reference apiproduct.developer.quota.limit in quota policy Q"},
			}},
		{name: "shared counter: enforce then count", files: map[string]string{
			"E.xml": `<Quota name="E"><SharedName>s</SharedName><EnforceOnly>true</EnforceOnly>` + minute + `</Quota>`,
			"C.xml": `<Quota name="C"><SharedName>s</SharedName><CountOnly>true</CountOnly>` + minute + `</Quota>`},
			policy: "E|C|E|C|E|C|E",
			reqs: []quotaReq{
				{vars: map[string]string{"ratelimit.E.used.count": "0", "ratelimit.E.expiry.time": "0"}},
				{vars: map[string]string{"ratelimit.C.used.count": "1"}},
				{},
				{vars: map[string]string{"ratelimit.C.used.count": "2"}},
				{fault: quotaViolation, vars: map[string]string{"ratelimit.E.used.count": "2"}},
				{vars: map[string]string{"ratelimit.C.used.count": "3", "ratelimit.C.exceed.count": "0"}},
				{fault: quotaViolation},
			}},
	}
}

func TestQuota(t *testing.T) {
	for _, sc := range quotaCases() {
		t.Run(sc.name, func(t *testing.T) {
			st, clk := quotaStores(t)
			quotaRunScenario(t, sc, st, clk)
		})
	}
}

func TestQuotaLoadErrors(t *testing.T) {
	minute := `<Interval>1</Interval><TimeUnit>minute</TimeUnit>`
	cases := []struct{ name, src, want string }{
		{"no allow", `<Quota name="Q">` + minute + `</Quota>`, "no <Allow>"},
		{"allow without count", `<Quota name="Q"><Allow/>` + minute + `</Quota>`, "needs count=, countRef= or <Class>"},
		{"bad count", `<Quota name="Q"><Allow count="x"/>` + minute + `</Quota>`, "not a non-negative integer"},
		{"bad type", `<Quota name="Q" type="daily"><Allow count="1"/>` + minute + `</Quota>`, `type "daily"`},
		{"fractional interval", `<Quota name="Q"><Allow count="1"/><Interval>0.1</Interval><TimeUnit>minute</TimeUnit></Quota>`, "Invalid quota interval 0.1 in quota policy Q"},
		{"zero interval", `<Quota name="Q"><Allow count="1"/><Interval>0</Interval><TimeUnit>minute</TimeUnit></Quota>`, "Invalid quota interval 0"},
		{"bad unit", `<Quota name="Q"><Allow count="1"/><Interval>1</Interval><TimeUnit>second</TimeUnit></Quota>`, "Invalid quota time unit second in quota policy Q"},
		{"no interval", `<Quota name="Q"><Allow count="1"/><TimeUnit>minute</TimeUnit></Quota>`, "no <Interval>"},
		{"no time unit", `<Quota name="Q"><Allow count="1"/><Interval>1</Interval></Quota>`, "no <TimeUnit>"},
		{"rolling months", `<Quota name="Q" type="rollingwindow"><Allow count="1"/><Interval>1</Interval><TimeUnit>month</TimeUnit></Quota>`, "cannot count in months"},
		{"start time without calendar", `<Quota name="Q"><Allow count="1"/>` + minute + `<StartTime>2020-1-1 00:00:00</StartTime></Quota>`, `needs type="calendar"`},
		{"bad start time", `<Quota name="Q" type="calendar"><Allow count="1"/>` + minute + `<StartTime>yesterday</StartTime></Quota>`, "<StartTime>"},
		{"count and enforce only", `<Quota name="Q"><Allow count="1"/>` + minute + `<CountOnly>true</CountOnly><EnforceOnly>true</EnforceOnly></Quota>`, "cannot both be true"},
		{"bad boolean", `<Quota name="Q"><Allow count="1"/>` + minute + `<Distributed>yes</Distributed></Quota>`, "not true or false"},
		{"unknown element", `<Quota name="Q"><Allow count="1"/>` + minute + `<Limit/></Quota>`, "unknown element <Limit>"},
		{"unknown in allow", `<Quota name="Q"><Allow count="1"><Max/></Allow>` + minute + `</Quota>`, "unknown element <Max> in <Allow>"},
		{"class without ref", `<Quota name="Q"><Allow><Class><Allow class="a" count="1"/></Class></Allow>` + minute + `</Quota>`, "<Class> needs ref="},
		{"class entry without count", `<Quota name="Q"><Allow><Class ref="x"><Allow class="a"/></Class></Allow>` + minute + `</Quota>`, "needs a class and a non-negative count"},
		{"identifier without ref", `<Quota name="Q"><Allow count="1"/>` + minute + `<Identifier/></Quota>`, "<Identifier> needs ref="},
		{"weight without ref", `<Quota name="Q"><Allow count="1"/>` + minute + `<MessageWeight/></Quota>`, "<MessageWeight> needs ref="},
		{"empty shared name", `<Quota name="Q"><Allow count="1"/>` + minute + `<SharedName/></Quota>`, "empty <SharedName>"},
		{"product step missing", `<Quota name="Q"><UseQuotaConfigInAPIProduct stepName="VA"/></Quota>`, `stepName "VA" names no policy`},
		{"product without step", `<Quota name="Q"><UseQuotaConfigInAPIProduct/></Quota>`, "needs stepName="},
		{"async config child", `<Quota name="Q"><Allow count="1"/>` + minute + `<AsynchronousConfiguration><Every>1</Every></AsynchronousConfiguration></Quota>`, "unknown element <Every>"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := loadErrors(c.src); !strings.Contains(got, c.want) {
				t.Fatalf("load errors %q, want %q", got, c.want)
			}
		})
	}
	// A stepName naming a policy of another type.
	_, errs := engine.TestPolicyIn(map[string]string{"AM.xml": `<AssignMessage name="AM"/>`,
		"Q.xml": `<Quota name="Q"><UseQuotaConfigInAPIProduct stepName="AM"/></Quota>`}, "Q")
	if !strings.Contains(errs.Error(), "is a AssignMessage policy") {
		t.Fatalf("errors %v", errs)
	}
}

// quotaDownCounter is a Counter whose store is unreachable.
type quotaDownCounter struct{}

func (quotaDownCounter) Incr(context.Context, string, int64, store.Window) (store.Usage, error) {
	return store.Usage{}, fmt.Errorf("dial: %w", store.ErrUnavailable)
}
func (quotaDownCounter) Take(context.Context, string, int64, int64, store.Window) (store.Usage, error) {
	return store.Usage{}, fmt.Errorf("dial: %w", store.ErrUnavailable)
}
func (quotaDownCounter) Get(context.Context, string, store.Window) (store.Usage, error) {
	return store.Usage{}, fmt.Errorf("dial: %w", store.ErrUnavailable)
}
func (quotaDownCounter) Reset(context.Context, string) error {
	return fmt.Errorf("dial: %w", store.ErrUnavailable)
}

// spikeDownLimiter is a RateLimiter whose store is unreachable.
type spikeDownLimiter struct{}

func (spikeDownLimiter) TryAcquire(context.Context, string, int64, store.Rate) (store.Decision, error) {
	return store.Decision{}, fmt.Errorf("dial: %w", store.ErrUnavailable)
}

func TestQuotaStoreUnavailable(t *testing.T) {
	down := &store.Stores{Counter: quotaDownCounter{}, Rate: spikeDownLimiter{}}
	body := `<Allow count="1"/><Interval>1</Interval><TimeUnit>minute</TimeUnit>`
	cases := []struct {
		name, src, fault string
	}{
		{"quota fails closed", `<Quota name="Q">` + body + `</Quota>`, "flowproc.ratelimit.StoreUnavailable"},
		{"quota fails open", `<Quota name="Q"><Properties><Property name="flowproc.failOpen">true</Property></Properties>` + body + `</Quota>`, ""},
		{"spike fails closed", `<SpikeArrest name="Q"><Rate>10ps</Rate></SpikeArrest>`, "flowproc.ratelimit.StoreUnavailable"},
		{"spike fails open", `<SpikeArrest name="Q"><Properties><Property name="flowproc.failOpen">true</Property></Properties><Rate>10ps</Rate></SpikeArrest>`, ""},
		{"spike effective count fails closed", `<SpikeArrest name="Q"><Rate>10ps</Rate><UseEffectiveCount>true</UseEffectiveCount></SpikeArrest>`, "flowproc.ratelimit.StoreUnavailable"},
		{"reset fails closed", `<ResetQuota name="R"><Quota name="Q"><Identifier name="_default"/></Quota></ResetQuota>`, "flowproc.ratelimit.StoreUnavailable"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{"p.xml": c.src, "Q2.xml": `<Quota name="Q">` + body + `</Quota>`}
			name := "Q"
			if strings.HasPrefix(c.src, "<ResetQuota") {
				name = "R"
			} else {
				delete(files, "Q2.xml")
			}
			pol, errs := engine.TestPolicyIn(files, name)
			if pol == nil {
				t.Fatalf("load: %v", errs)
			}
			r := newRun(engine.ProxyRequest, "GET", "/", "", nil)
			r.SetTestState(down)
			err := pol.Execute(r)
			if c.fault == "" {
				if err != nil || get(r, "ratelimit.Q.store.unavailable") != "true" {
					t.Fatalf("fail open: err %v, store.unavailable %s", err, get(r, "ratelimit.Q.store.unavailable"))
				}
				return
			}
			var f *engine.Fault
			if !errors.As(err, &f) || f.Code != c.fault || f.Status != 503 || !errors.Is(err, store.ErrUnavailable) {
				t.Fatalf("error %v, want %s 503", err, c.fault)
			}
		})
	}
}

// quotaHammer runs 8 goroutines × 50 requests through one Quota with a
// limit of 100 on st and returns how many were allowed.
func quotaHammer(t *testing.T, st *store.Stores) int {
	t.Helper()
	pol := compile(t, `<Quota name="QH"><Allow count="100"/><Interval>1</Interval><TimeUnit>hour</TimeUnit></Quota>`)
	var mu sync.Mutex
	allowedN := 0
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				r := newRun(engine.ProxyRequest, "GET", "/", "", nil)
				r.SetTestState(st)
				err := pol.Execute(r)
				var f *engine.Fault
				switch {
				case err == nil:
					mu.Lock()
					allowedN++
					mu.Unlock()
				case errors.As(err, &f) && f.Code == quotaViolation:
				default:
					t.Errorf("unexpected error %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return allowedN
}

func TestQuotaConcurrentMemory(t *testing.T) {
	st, _ := quotaStores(t)
	if n := quotaHammer(t, st); n != 100 {
		t.Fatalf("allowed %d of 400 with a limit of 100", n)
	}
}

func BenchmarkQuotaMemory(b *testing.B) {
	st, _ := quotaStores(b)
	pol, errs := engine.TestPolicy(`<Quota name="QB"><Allow count="1000000000"/><Interval>1</Interval><TimeUnit>hour</TimeUnit><Identifier ref="request.header.client"/></Quota>`, nil, nil)
	if pol == nil {
		b.Fatal(errs)
	}
	r := newRun(engine.ProxyRequest, "GET", "/", "", nil, "client", "c1")
	r.SetTestState(st)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := pol.Execute(r); err != nil {
			b.Fatal(err)
		}
	}
}

// quotaPolicyInErrors is engine.TestPolicyIn with the diagnostics as text.
func quotaPolicyInErrors(files map[string]string, name string) (engine.Policy, string) {
	p, errs := engine.TestPolicyIn(files, name)
	return p, errs.Error()
}
