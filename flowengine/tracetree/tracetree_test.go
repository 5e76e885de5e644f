package tracetree

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine"
)

func TestWrite(t *testing.T) {
	c := &Collector{}
	vars := []flowengine.Var{{Name: "x", Value: "1"}}
	// Sent in end order (the inner step first), printed in start order.
	c.TraceEvent(flowengine.Event{Kind: flowengine.StepEvent, Seq: 1, Depth: 1, Flow: "a.xml", Step: "template", At: "a.xml:4:5", Vars: vars, Duration: 1500 * time.Microsecond})
	vars[0].Value = "changed after the call" // the collector copied the slice
	c.TraceEvent(flowengine.Event{Kind: flowengine.StepEvent, Seq: 0, Flow: "a.xml", Step: "if", At: "a.xml:3:3", Cond: "$a = 1", CondResult: true, Duration: 2 * time.Millisecond})
	c.TraceEvent(flowengine.Event{Kind: flowengine.MessageEvent, Seq: 2, Flow: "a.xml", Step: "debug", At: "a.xml:9:3", Message: "line one\nline two"})
	c.TraceEvent(flowengine.Event{Kind: flowengine.StepEvent, Seq: 3, Flow: "b.xml", Step: "eval", At: "b.xml:2:3", Err: errors.New("boom")})
	c.TraceEvent(flowengine.Event{Kind: flowengine.ForwardEvent, Seq: 4, Mutation: &flowengine.Mutation{Path: "/v2", Authority: "up", SetHeaders: []flowengine.Header{{Name: "x-a", Value: "1"}}, RemoveHeaders: []string{"cookie"}}})
	c.TraceEvent(flowengine.Event{Kind: flowengine.UpstreamEvent, Seq: 5, Response: &flowengine.Response{Status: 503}})
	c.TraceEvent(flowengine.Event{Kind: flowengine.OutcomeEvent, Seq: 6, Outcome: &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 502}, Error: "3209"}})

	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"plain", Options{}, `a.xml
  3:3 if [$a = 1 → true]
    4:5 template $x=1
  9:3 debug: line one⏎line two
b.xml
  2:3 eval ERROR boom
→ forward :path=/v2 :authority=up set x-a=1 remove cookie
← upstream 503
= answered 502 error 3209
`},
		{"durations, indent, truncation", Options{Durations: true, Indent: "> ", MaxValue: 4}, `> a.xml
>   3:3 if [$a =… → true] 2.00ms
>     4:5 template 1.50ms $x=1
>   9:3 debug: line…
> b.xml
>   2:3 eval 0µs ERROR boom
> → forward :path=/v2 :authority=up set x-a=1 remove cookie
> ← upstream 503
> = answered 502 error 3209
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := Write(&b, c.Events(), tt.opts); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", b.String(), tt.want)
			}
		})
	}
}
