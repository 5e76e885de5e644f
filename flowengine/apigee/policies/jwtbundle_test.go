package policies

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// TestJWTInABundle runs VerifyJWT through the engine: a valid bearer
// token reaches the AssignMessage that echoes its claims; an expired one
// gets Apigee's default 401 fault JSON; a FaultRule sees fault.name and
// jwt.<policy>.error for a forged one.
func TestJWTInABundle(t *testing.T) {
	k := jwtTestKeys(t)
	p := loadBundle(t, upstream.NewMock(), map[string]string{
		"proxies/default.xml": `<ProxyEndpoint name="default">
  <PreFlow name="PreFlow">
    <Request><Step><Name>AM-Key</Name></Step><Step><Name>VJ</Name></Step></Request>
    <Response><Step><Name>AM-Answer</Name></Step></Response>
  </PreFlow>
  <FaultRules>
    <FaultRule name="sig">
      <Step><Name>AM-Fault</Name></Step>
      <Condition>fault.name = "InvalidToken"</Condition>
    </FaultRule>
  </FaultRules>
  <HTTPProxyConnection><BasePath>/v1</BasePath></HTTPProxyConnection>
  <RouteRule name="noroute"/>
</ProxyEndpoint>`,
		"policies/AM-Key.xml": `<AssignMessage name="AM-Key"><AssignVariable><Name>private.secretkey</Name><Value>` + k.secret + `</Value></AssignVariable></AssignMessage>`,
		"policies/VJ.xml": `<VerifyJWT name="VJ"><Algorithm>HS256</Algorithm>
  <SecretKey><Value ref="private.secretkey"/></SecretKey><Audience>urn://apigee</Audience></VerifyJWT>`,
		"policies/AM-Answer.xml": `<AssignMessage name="AM-Answer"><Set><Payload contentType="application/json">{"sub":"{jwt.VJ.claim.subject}","names":"{jwt.VJ.payload-claim-names}"}</Payload><StatusCode>200</StatusCode></Set></AssignMessage>`,
		"policies/AM-Fault.xml":  `<AssignMessage name="AM-Fault"><Set><Headers><Header name="X-Err">{jwt.VJ.error}</Header></Headers></Set></AssignMessage>`,
	})
	run := func(tok string) string {
		req := &flowengine.Request{Method: "GET", Scheme: "https", Authority: "api.example.com", Path: "/v1/x", ID: "r1", BodyKnownEmpty: true,
			Headers: []flowengine.Header{{Name: "Authorization", Value: "Bearer " + tok}}}
		return answer(p.Run(context.Background(), req, noTargetHost{}))
	}
	now := time.Now().Unix()
	good := jwtSign(t, "HS256", "secret", nil, map[string]any{"sub": "ann", "aud": "urn://apigee", "exp": now + 60})
	if got, want := run(good), "|200\ncontent-type: application/json\n\n{\"sub\":\"ann\",\"names\":\"aud,exp,sub\"}"; got != want {
		t.Errorf("valid:\n got %q\nwant %q", got, want)
	}
	expired := jwtSign(t, "HS256", "secret", nil, map[string]any{"sub": "ann", "aud": "urn://apigee", "exp": now - 60})
	want := "TokenExpired|401\ncontent-type: application/json\n\n" + `{"fault":{"faultstring":"The Token has expired: policy(VJ)","detail":{"errorcode":"steps.jwt.TokenExpired"}}}`
	if got := run(expired); got != want {
		t.Errorf("expired:\n got %q\nwant %q", got, want)
	}
	forged := jwtSignSecret(t, "HS256", strings.Repeat("z", 32), map[string]any{"sub": "ann", "aud": "urn://apigee"})
	if got := run(forged); !strings.HasPrefix(got, "InvalidToken|401\n") || !strings.Contains(got, "x-err: Invalid token: signature could not be verified: policy(VJ)") {
		t.Errorf("forged: %q", got)
	}
}
