package engine

import (
	"context"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
)

// typeRecorder keeps the step events of a run.
type typeRecorder struct{ steps []flowengine.Event }

func (r *typeRecorder) TraceEvent(e flowengine.Event) {
	if e.Kind == flowengine.StepEvent {
		r.steps = append(r.steps, e)
	}
}

// TestStepEventType: a policy step's event names the policy (Step) and its
// type (Type), the bounded label metrics use.
func TestStepEventType(t *testing.T) {
	p := project(t, map[string]string{
		"apiproxy/proxies/default.xml":  noTargetProxy,
		"apiproxy/policies/Pre.xml":     pol("Pre", `<Header name="x-pre">yes</Header>`),
		"apiproxy/policies/Cats.xml":    pol("Cats", `<Set name="flow.which">cats</Set>`),
		"apiproxy/policies/Any.xml":     pol("Any", `<Set name="flow.which">any</Set>`),
		"apiproxy/policies/RespHdr.xml": pol("RespHdr", `<Set name="response.header.x-which">{flow.which}</Set>`),
	})
	rec := &typeRecorder{}
	req := &flowengine.Request{Method: "GET", Scheme: "https", Authority: "api.example.com", Path: "/v1/cats/tom", ID: "rid", BodyKnownEmpty: true, Trace: rec}
	if o := p.Run(context.Background(), req, &fakeHost{}); o.Status != 200 {
		t.Fatalf("status %d", o.Status)
	}
	want := []string{"Pre", "Cats", "RespHdr"}
	if len(rec.steps) != len(want) {
		t.Fatalf("got %d step events, want %d: %+v", len(rec.steps), len(want), rec.steps)
	}
	for i, e := range rec.steps {
		if e.Step != want[i] || e.Type != "TestOp" {
			t.Errorf("event %d: step %q type %q, want %q TestOp", i, e.Step, e.Type, want[i])
		}
	}
}
