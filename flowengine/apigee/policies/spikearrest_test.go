package policies

import (
	"strings"
	"testing"
	"time"
)

const spikeViolation = "policies.ratelimit.SpikeArrestViolation"

// spikeXML is a SpikeArrest policy named S with the given children.
func spikeXML(body string) map[string]string {
	return map[string]string{"S.xml": `<SpikeArrest name="S">` + body + `</SpikeArrest>`}
}

func TestSpikeArrest(t *testing.T) {
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
	for _, sc := range cases {
		t.Run(sc.name, func(t *testing.T) {
			sc.policy = "S"
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
