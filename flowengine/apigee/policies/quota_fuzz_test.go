package policies

import (
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

// FuzzQuotaPolicies compiles arbitrary Quota, SpikeArrest and ResetQuota
// policies and runs the ones that load: nothing may panic, and a run
// either passes or fails with an error.
func FuzzQuotaPolicies(f *testing.F) {
	f.Add(`<Quota name="Q" type="calendar"><Allow count="2" countRef="request.header.l"/><Interval ref="request.header.i">1</Interval><TimeUnit>minute</TimeUnit><StartTime>2020-1-1 00:00:00</StartTime></Quota>`, "3", "2")
	f.Add(`<Quota name="Q" type="rollingwindow"><Allow><Class ref="request.header.l"><Allow class="3" count="1"/></Class></Allow><Interval>1</Interval><TimeUnit ref="request.header.i">hour</TimeUnit><MessageWeight ref="request.header.l"/></Quota>`, "3", "week")
	f.Add(`<SpikeArrest name="Q"><Rate ref="request.header.l">10pm</Rate><MessageWeight ref="request.header.i"/></SpikeArrest>`, "5ps", "2")
	f.Add(`<SpikeArrest name="Q"><Rate>3ps</Rate><UseEffectiveCount>true</UseEffectiveCount></SpikeArrest>`, "", "")
	f.Add(`<ResetQuota name="Q"><Quota ref="request.header.l"><Identifier ref="request.header.i"><Allow>1</Allow></Identifier></Quota></ResetQuota>`, "T", "x")
	target := `<Quota name="T"><Allow count="1"/><Interval>1</Interval><TimeUnit>day</TimeUnit></Quota>`
	f.Fuzz(func(t *testing.T, src, l, i string) {
		pol, _ := engine.TestPolicyIn(map[string]string{"p.xml": src, "t.xml": target}, "Q")
		if pol == nil {
			return
		}
		st, _ := quotaStores(t)
		for n := 0; n < 3; n++ {
			r := newRun(engine.ProxyRequest, "GET", "/", "", nil, "l", l, "i", i)
			r.SetTestState(st)
			_ = pol.Execute(r)
		}
	})
}
