package policies

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// recycleBundle answers GET /v1/<name> itself: AssignMessage builds the
// answer from the path and a header. /v1/callout also makes a
// ServiceCallout (a type that has not opted in to recycling), /v1/disabled
// has a disabled one. withPostClient adds a PostClientFlow.
var recycleBundle = map[string]string{
	"proxies/default.xml": `<ProxyEndpoint name="default">
  <PreFlow name="PreFlow"><Request><Step><Name>EV-Name</Name></Step></Request><Response/></PreFlow>
  <Flows>
    <Flow name="callout"><Condition>proxy.pathsuffix = "/callout"</Condition><Request><Step><Name>SC-Get</Name></Step></Request></Flow>
    <Flow name="disabled"><Condition>proxy.pathsuffix = "/disabled"</Condition><Request><Step><Name>SC-Off</Name></Step></Request></Flow>
  </Flows>
  <PostFlow name="PostFlow"><Request/><Response><Step><Name>AM-Answer</Name></Step></Response></PostFlow>
  <HTTPProxyConnection><BasePath>/v1</BasePath></HTTPProxyConnection>
  <RouteRule name="noroute"/>
</ProxyEndpoint>`,
	"policies/EV-Name.xml": `<ExtractVariables name="EV-Name"><Source>request</Source><VariablePrefix>in</VariablePrefix>
  <URIPath><Pattern>/{name}</Pattern></URIPath></ExtractVariables>`,
	"policies/AM-Answer.xml": `<AssignMessage name="AM-Answer"><Set><Headers><Header name="X-Who">{request.header.x-who}</Header></Headers>
  <Payload contentType="text/plain">{in.name} for {request.header.x-who}</Payload></Set></AssignMessage>`,
	"policies/AM-Post.xml": `<AssignMessage name="AM-Post"><AssignVariable><Name>done</Name><Value>yes</Value></AssignVariable></AssignMessage>`,
	"policies/SC-Get.xml": `<ServiceCallout name="SC-Get"><Request><Set><Verb>GET</Verb></Set></Request><Response>got</Response>
  <HTTPTargetConnection><URL>https://svc.example.com/x</URL></HTTPTargetConnection></ServiceCallout>`,
	"policies/SC-Off.xml": `<ServiceCallout name="SC-Off" enabled="false"><Request><Set><Verb>GET</Verb></Set></Request><Response>got</Response>
  <HTTPTargetConnection><URL>https://svc.example.com/x</URL></HTTPTargetConnection></ServiceCallout>`,
}

// discardTracer is a trace recorder that drops the events.
type discardTracer struct{}

func (discardTracer) TraceEvent(flowengine.Event) {}

// withPostClient is recycleBundle with a PostClientFlow.
func withPostClient() map[string]string {
	files := map[string]string{}
	for k, v := range recycleBundle {
		files[k] = v
	}
	files["proxies/default.xml"] = strings.Replace(files["proxies/default.xml"], "<HTTPProxyConnection>",
		`<PostClientFlow name="PostClientFlow"><Response><Step><Name>AM-Post</Name></Step></Response></PostClientFlow>
  <HTTPProxyConnection>`, 1)
	return files
}

// TestRunRecycle: a run hands its memory back (Outcome.Recycle) only when
// every policy that ran is Kind.Recyclable, nothing runs after the answer,
// and no trace recorder holds its values.
func TestRunRecycle(t *testing.T) {
	m := upstream.NewMock()
	m.AnswerStatus("SC-Get", 200, nil, []byte("ok"))
	p := loadBundle(t, m, recycleBundle)
	post := loadBundle(t, upstream.NewMock(), withPostClient())
	for _, tc := range []struct {
		p          *engine.Project
		path       string
		trace      bool
		recyclable bool
	}{
		{p, "/v1/plain", false, true},
		{p, "/v1/disabled", false, true}, // a disabled policy does not run
		{p, "/v1/callout", false, false}, // ServiceCallout has not opted in
		{p, "/v1/plain", true, false},    // traced
		{post, "/v1/post", false, false}, // a PostClientFlow: the outcome has After
	} {
		req := &flowengine.Request{Method: "GET", Path: tc.path, ID: "r1", BodyKnownEmpty: true,
			Headers: []flowengine.Header{{Name: "x-who", Value: "ann"}}}
		if tc.trace {
			req.Trace = discardTracer{}
		}
		o := tc.p.Run(context.Background(), req, noTargetHost{})
		if got := o.Recycle != nil; got != tc.recyclable {
			t.Errorf("%s (trace %v): recyclable %v, want %v", tc.path, tc.trace, got, tc.recyclable)
		}
		if want := "|200\ncontent-type: text/plain\nx-who: ann\n\n" + tc.path[len("/v1/"):] + " for ann"; answer(o) != want {
			t.Errorf("%s: answer %q, want %q", tc.path, answer(o), want)
		}
		if o.After != nil {
			o.After(context.Background())
		}
		if o.Recycle != nil {
			o.Recycle.Recycle()
		}
	}
}

// TestRunKeep: a policy of a recyclable type keeps its run out of the pool
// when, this time, it keeps something of it (Run.Keep): JavaScript with
// pooled runtimes.
func TestRunKeep(t *testing.T) {
	files := map[string]string{}
	for k, v := range recycleBundle {
		files[k] = v
	}
	files["proxies/default.xml"] = strings.Replace(files["proxies/default.xml"], "<Name>EV-Name</Name></Step>",
		"<Name>EV-Name</Name></Step><Step><Name>JS-Who</Name></Step>", 1)
	files["policies/JS-Who.xml"] = `<Javascript name="JS-Who"><ResourceURL>jsc://who.js</ResourceURL></Javascript>`
	files["resources/jsc/who.js"] = `context.setVariable("js.ran", "yes");`
	p := loadBundle(t, upstream.NewMock(), files)
	for _, reuse := range []bool{false, true} {
		reuseJSRuntimes = reuse
		o := p.Run(context.Background(), &flowengine.Request{Method: "GET", Path: "/v1/js", ID: "r1", BodyKnownEmpty: true,
			Headers: []flowengine.Header{{Name: "x-who", Value: "ann"}}}, noTargetHost{})
		reuseJSRuntimes = false
		if o.Status != 200 {
			t.Fatalf("reuse %v: %s", reuse, answer(o))
		}
		if got := o.Recycle != nil; got == reuse {
			t.Errorf("pooled JavaScript runtimes %v: recyclable %v", reuse, got)
		}
		if o.Recycle != nil {
			o.Recycle.Recycle()
		}
	}
}

// TestRecycledRunsConcurrent: runs recycled by concurrent exchanges never
// carry one exchange's values into another's answer (go test -race also
// checks the hand-back).
func TestRecycledRunsConcurrent(t *testing.T) {
	p := loadBundle(t, upstream.NewMock(), recycleBundle)
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := range 50 {
				name, who := fmt.Sprintf("item-%d-%d", w, i), fmt.Sprintf("user-%d", i)
				o := p.Run(context.Background(), &flowengine.Request{Method: "GET", Path: "/v1/" + name, ID: name, BodyKnownEmpty: true,
					Headers: []flowengine.Header{{Name: "x-who", Value: who}}}, noTargetHost{})
				got, want := answer(o), "|200\ncontent-type: text/plain\nx-who: "+who+"\n\n"+name+" for "+who
				if o.Recycle == nil {
					errc <- fmt.Errorf("%s: not recyclable", name)
					return
				}
				o.Recycle.Recycle()
				if got != want {
					errc <- fmt.Errorf("%s: answer %q, want %q", name, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
}

// TestRecyclableKinds pins the policy types that opted in to recycling:
// adding one means checking that its Execute keeps nothing of the run.
func TestRecyclableKinds(t *testing.T) {
	var got []string
	for _, typ := range engine.Types() {
		if k, _ := engine.KindOf(typ); k.Recyclable {
			got = append(got, typ)
		}
	}
	want := []string{"AccessControl", "AssertCondition", "AssignMessage", "BasicAuthentication", "CORS", "DecodeJWS", "DecodeJWT",
		"ExtractVariables", "FlowCallout", "GenerateJWS", "GenerateJWT", "GetOAuthV2Info", "JSONThreatProtection", "JSONToXML",
		"Javascript", "KeyValueMapOperations", "MessageValidation", "OASValidation", "OAuthV2", "Quota", "RaiseFault",
		"RegularExpressionProtection", "ResetQuota", "SOAPMessageValidation", "SetOAuthV2Info", "SpikeArrest",
		"StatisticsCollector", "VerifyAPIKey", "VerifyJWS", "VerifyJWT", "XMLThreatProtection", "XMLToJSON", "XSL"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("recyclable kinds %v, want %v", got, want)
	}
}
