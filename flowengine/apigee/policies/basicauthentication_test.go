package policies

import (
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

func TestBasicAuthentication(t *testing.T) {
	const enc = `<BasicAuthentication name="BA"><Operation>Encode</Operation>
  <IgnoreUnresolvedVariables>false</IgnoreUnresolvedVariables>
  <User ref="cred.user"/><Password ref="cred.pass"/>
  <AssignTo createNew="%s">request.header.Authorization</AssignTo></BasicAuthentication>`
	encode := func(createNew string) string { return secSprintf(enc, createNew) }
	const dec = `<BasicAuthentication name='BA-Decode'>
   <Operation>Decode</Operation>
   <IgnoreUnresolvedVariables>%s</IgnoreUnresolvedVariables>
   <User ref='inbound_username' />
   <Password ref='inbound_password' />
   <Source>request.header.Authorization</Source>
</BasicAuthentication>`
	decode := func(ignore string) string { return secSprintf(dec, ignore) }
	setCred := func(r *engine.Run) {
		_ = r.Set("cred.user", "MyUsername")
		_ = r.Set("cred.pass", "MyPassword")
	}
	runCases(t, []pcase{
		{name: "encode", policy: encode("false"), setup: setCred,
			vars: map[string]string{"request.header.Authorization": "Basic TXlVc2VybmFtZTpNeVBhc3N3b3Jk"}},
		{name: "encode createNew=false keeps a set header", policy: encode("false"), setup: setCred,
			headers: []string{"Authorization", "Bearer x"}, vars: map[string]string{"request.header.Authorization": "Bearer x"}},
		{name: "encode createNew=true overwrites", policy: encode("true"), setup: setCred,
			headers: []string{"Authorization", "Bearer x"}, vars: map[string]string{"request.header.Authorization": "Basic TXlVc2VybmFtZTpNeVBhc3N3b3Jk"}},
		{name: "encode unresolved user", policy: encode("true"),
			setup: func(r *engine.Run) { _ = r.Set("cred.pass", "p") },
			fault: "steps.basicauthentication.UnresolvedVariable", faultMsg: "Unresolved variable : cred.user"},
		{name: "encode unresolved ignored uses the text", policy: `<BasicAuthentication name="BA"><Operation>Encode</Operation>
  <IgnoreUnresolvedVariables>true</IgnoreUnresolvedVariables>
  <User ref="cred.user">anon</User><Password ref="cred.pass"/>
  <AssignTo>x.auth</AssignTo></BasicAuthentication>`,
			vars: map[string]string{"x.auth": "Basic YW5vbjo="}},
		{name: "decode", policy: decode("false"), headers: []string{"Authorization", "Basic TXlVc2VybmFtZTpNeVBhc3N3b3Jk"},
			vars: map[string]string{"inbound_username": "MyUsername", "inbound_password": "MyPassword"}},
		{name: "decode password with colon, lower-case scheme, unpadded", policy: decode("false"),
			headers: []string{"Authorization", "basic dTpwOnE"}, // u:p:q
			vars:    map[string]string{"inbound_username": "u", "inbound_password": "p:q"}},
		{name: "decode missing header", policy: decode("false"),
			fault: "steps.basicauthentication.UnresolvedVariable", faultMsg: "Unresolved variable : request.header.Authorization"},
		{name: "decode missing header ignored", policy: decode("true"), vars: map[string]string{"inbound_username": unset}},
		{name: "IgnoreUnresolvedVariables defaults to true", policy: `<BasicAuthentication name="B"><Operation>Decode</Operation>
  <User ref="u"/><Password ref="p"/><Source>request.header.Authorization</Source></BasicAuthentication>`, vars: map[string]string{"u": unset}},
		{name: "encode createNew=false keeps a present empty header", policy: encode("false"), setup: setCred,
			headers: []string{"Authorization", ""}, vars: map[string]string{"request.header.Authorization": ""}},
		{name: "decode bearer", policy: decode("true"), headers: []string{"Authorization", "Bearer abc"},
			fault:    "steps.basicauthentication.InvalidBasicAuthenticationSource",
			faultMsg: "Source variable : request.header.Authorization for basic authentication decode policy is not valid"},
		{name: "decode bad base64", policy: decode("false"), headers: []string{"Authorization", "Basic !!!"},
			fault: "steps.basicauthentication.InvalidBasicAuthenticationSource"},
		{name: "decode no colon", policy: decode("false"), headers: []string{"Authorization", "Basic dXNlcg=="},
			fault: "steps.basicauthentication.InvalidBasicAuthenticationSource"},
		{name: "decode scheme only", policy: decode("false"), headers: []string{"Authorization", "Basic"},
			fault: "steps.basicauthentication.InvalidBasicAuthenticationSource"},
		{name: "no operation", policy: `<BasicAuthentication name="B"><User ref="u"/><Password ref="p"/><Source>s</Source></BasicAuthentication>`, loadErr: "no <Operation>"},
		{name: "bad operation", policy: `<BasicAuthentication name="B"><Operation>Hash</Operation><User ref="u"/><Password ref="p"/><Source>s</Source></BasicAuthentication>`, loadErr: "want Encode or Decode"},
		{name: "no user", policy: `<BasicAuthentication name="B"><Operation>Decode</Operation><Password ref="p"/><Source>s</Source></BasicAuthentication>`, loadErr: `<User ref="…"> must be present for the Decode operation`},
		{name: "no password", policy: `<BasicAuthentication name="B"><Operation>Encode</Operation><User ref="u"/><AssignTo>a</AssignTo></BasicAuthentication>`, loadErr: `<Password ref="…"> must be present for the Encode operation`},
		{name: "encode without AssignTo", policy: `<BasicAuthentication name="B"><Operation>Encode</Operation><User ref="u"/><Password ref="p"/></BasicAuthentication>`, loadErr: "<AssignTo> must be present"},
		{name: "decode without Source", policy: `<BasicAuthentication name="B"><Operation>Decode</Operation><User ref="u"/><Password ref="p"/></BasicAuthentication>`, loadErr: "<Source> must be present"},
		{name: "bad createNew", policy: `<BasicAuthentication name="B"><Operation>Encode</Operation><User ref="u"/><Password ref="p"/><AssignTo createNew="yes">a</AssignTo></BasicAuthentication>`, loadErr: "is not true or false"},
		{name: "unknown element", policy: `<BasicAuthentication name="B"><Operation>Decode</Operation><User ref="u"/><Password ref="p"/><Source>s</Source><Realm/></BasicAuthentication>`, loadErr: "AP103"},
	})
}

// FuzzSecParseBasic checks that decoding any Authorization value never
// panics and that what it accepts round-trips through Encode's format.
func FuzzSecParseBasic(f *testing.F) {
	for _, s := range []string{"Basic TXlVc2VybmFtZTpNeVBhc3N3b3Jk", "basic dTpwOnE", "Basic", "Bearer x", "Basic ===", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, p, ok := parseBasic(s)
		if !ok {
			return
		}
		u2, p2, ok2 := parseBasic("Basic " + secB64(u+":"+p))
		if !ok2 || u2 != u || p2 != p {
			t.Fatalf("%q: round trip %q %q -> %q %q %v", s, u, p, u2, p2, ok2)
		}
	})
}
