package policies

import (
	"strings"
	"testing"
)

// resetQuotaCases are the ResetQuota scenarios, run on memory and Redis.
func resetQuotaCases() []quotaScenario {
	q := `<Quota name="Q"><Allow count="2"/><Interval>1</Interval><TimeUnit>minute</TimeUnit><Identifier ref="request.header.client"/></Quota>`
	q2 := `<Quota name="Q2"><Allow count="1"/><Interval>1</Interval><TimeUnit>hour</TimeUnit></Quota>`
	files := func(r string) map[string]string {
		return map[string]string{"Q.xml": q, "Q2.xml": q2, "R.xml": r}
	}
	a := []string{"client", "a"}
	cases := []quotaScenario{
		{name: "allow subtracts from the count",
			files:  files(`<ResetQuota name="R"><Quota name="Q"><Identifier ref="request.header.client"><Allow>1</Allow></Identifier></Quota></ResetQuota>`),
			policy: "Q|Q|Q|R|Q|Q|Q",
			reqs: []quotaReq{
				{headers: a}, {headers: a}, {headers: a, fault: quotaViolation},
				{headers: a},
				{headers: a, vars: map[string]string{"ratelimit.Q.used.count": "2"}},
				{headers: a, fault: quotaViolation},
				{headers: []string{"client", "b"}, vars: map[string]string{"ratelimit.Q.used.count": "1"}},
			}},
		{name: "allow larger than the count empties it",
			files:  files(`<ResetQuota name="R"><Quota name="Q"><Identifier ref="request.header.client"><Allow ref="request.header.n">1</Allow></Identifier></Quota></ResetQuota>`),
			policy: "Q|Q|R|Q",
			reqs: []quotaReq{
				{headers: a}, {headers: a},
				{headers: []string{"client", "a", "n", "100"}},
				{headers: a, vars: map[string]string{"ratelimit.Q.used.count": "1"}},
			}},
		{name: "no allow forgets the counter; name= is the literal identifier",
			files:  files(`<ResetQuota name="R"><Quota name="Q2"><Identifier name="_default"/></Quota></ResetQuota>`),
			policy: "Q2|Q2|R|Q2",
			reqs:   []quotaReq{{}, {fault: quotaViolation}, {}, {vars: map[string]string{"ratelimit.Q2.used.count": "1"}}},
		},
		{name: "quota ref picks the policy at run time",
			files:  files(`<ResetQuota name="R"><Quota ref="request.header.q"><Identifier name="_default"/></Quota></ResetQuota>`),
			policy: "Q2|R|Q2|R",
			reqs: []quotaReq{{}, {headers: []string{"q", "Q2"}}, {vars: map[string]string{"ratelimit.Q2.used.count": "1"}},
				{headers: []string{"q", "Nope"}, fault: "policies.resetquota.InvalidRLPolicy", msg: "Invalid rate limit policy Nope"}},
		},
	}
	return cases
}

func TestResetQuota(t *testing.T) {
	for _, sc := range resetQuotaCases() {
		t.Run(sc.name, func(t *testing.T) {
			st, clk := quotaStores(t)
			quotaRunScenario(t, sc, st, clk)
		})
	}
}

func TestResetQuotaLoadErrors(t *testing.T) {
	q := `<Quota name="Q"><Allow count="2"/><Interval>1</Interval><TimeUnit>minute</TimeUnit></Quota>`
	cases := []struct{ name, src, want string }{
		{"unknown quota", `<ResetQuota name="R"><Quota name="Nope"><Identifier name="_default"/></Quota></ResetQuota>`, "Invalid rate limit policy Nope"},
		{"name and ref", `<ResetQuota name="R"><Quota name="Q" ref="x"><Identifier name="_default"/></Quota></ResetQuota>`, "both name= and ref="},
		{"neither name nor ref", `<ResetQuota name="R"><Quota><Identifier name="_default"/></Quota></ResetQuota>`, "needs name= or ref="},
		{"no identifier", `<ResetQuota name="R"><Quota name="Q"/></ResetQuota>`, "needs an <Identifier>"},
		{"no quota", `<ResetQuota name="R"/>`, "has no <Quota>"},
		{"class not supported", `<ResetQuota name="R"><Quota name="Q"><Identifier name="_default"><Class ref="c"/></Identifier></Quota></ResetQuota>`, "unknown element <Class>"},
		{"bad allow", `<ResetQuota name="R"><Quota name="Q"><Identifier name="_default"><Allow>-1</Allow></Identifier></Quota></ResetQuota>`, "Invalid quota allow -1"},
		{"unknown element", `<ResetQuota name="R"><Quota name="Q"><Identifier name="_default"/></Quota><Reset/></ResetQuota>`, "unknown element <Reset>"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, errs := quotaPolicyInErrors(map[string]string{"Q.xml": q, "R.xml": c.src}, "R")
			if got := errs; !strings.Contains(got, c.want) {
				t.Fatalf("load errors %q, want %q", got, c.want)
			}
		})
	}
}

func TestResetQuotaNameAsVariable(t *testing.T) {
	sc := quotaScenario{
		files: map[string]string{
			"Q.xml": `<Quota name="Q"><Allow count="1"/><Interval>1</Interval><TimeUnit>hour</TimeUnit></Quota>`,
			"R.xml": `<ResetQuota name="R"><Quota name="request.header.q"><Identifier name="_default"><Allow>5</Allow><Allow ref="request.header.n"/></Identifier></Quota></ResetQuota>`,
		},
		policy: "Q|R|Q|Q|R|Q",
		reqs: []quotaReq{
			{},
			{headers: []string{"q", "Q", "n", "0"}}, // the reference wins: nothing subtracted
			{fault: quotaViolation},
			{fault: quotaViolation},
			{headers: []string{"q", "Q"}}, // no n: 5 subtracted
			{vars: map[string]string{"ratelimit.Q.used.count": "1"}},
		},
	}
	st, clk := quotaStores(t)
	quotaRunScenario(t, sc, st, clk)
}
