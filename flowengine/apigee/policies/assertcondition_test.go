package policies

import "testing"

func TestAssertCondition(t *testing.T) {
	const pol = `<AssertCondition name="Assert-1"><Condition>request.header.sha256 = null</Condition></AssertCondition>`
	runCases(t, []pcase{
		{name: "true", policy: pol, vars: map[string]string{"assertcondition.Assert-1.truthValue": "true"}},
		{name: "false is no fault", policy: pol, headers: []string{"sha256", "abc"},
			vars: map[string]string{"assertcondition.Assert-1.truthValue": "false"}},
		{name: "compound", policy: `<AssertCondition name="A"><Condition>request.verb = "POST" and request.header.x ~~ "a.*"</Condition></AssertCondition>`,
			method: "POST", headers: []string{"x", "abc"}, vars: map[string]string{"assertcondition.A.truthValue": "true"}},
		{name: "missing condition", policy: `<AssertCondition name="A"/>`, loadErr: "AP104"},
		{name: "empty condition", policy: `<AssertCondition name="A"><Condition> </Condition></AssertCondition>`, loadErr: "has no <Condition>"},
		{name: "bad condition", policy: `<AssertCondition name="A"><Condition>a = </Condition></AssertCondition>`, loadErr: "AP300"},
		{name: "unknown element", policy: `<AssertCondition name="A"><Condition>true</Condition><Foo/></AssertCondition>`, loadErr: "AP103"},
	})
}
