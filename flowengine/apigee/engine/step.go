package engine

import (
	"context"
	"errors"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/runtime"
)

// policyStep runs a compiled policy as a runtime action.
type policyStep struct{ p *compiledPolicy }

// Run implements runtime.Action: a disabled policy is skipped; a failing
// one sets <prefix>.<name>.failed and either continues
// (continueOnError="true") or raises its fault.
func (a policyStep) Run(r *Run, st *runtime.Step[*Run]) (runtime.Ctrl, error) {
	cp := a.p
	if !cp.enabled {
		return runtime.Next, nil
	}
	if !cp.recyclable {
		r.kept = true
	}
	err := cp.impl.Execute(r)
	if err == nil {
		return runtime.Next, nil
	}
	if errors.Is(err, context.Canceled) || isBudget(err) {
		return runtime.Next, err
	}
	if _, ok := asAnswered(err); ok {
		return runtime.Terminate, err
	}
	f, ok := err.(*Fault)
	if !ok && !errors.As(err, &f) {
		f = &Fault{Name: "ExecutionFailed", Code: "steps." + cp.prefix + ".ExecutionFailed", Status: 500,
			Message: "Execution of " + cp.name + " failed", Err: err}
	}
	if f.Policy == "" {
		f.Policy = cp.name
	}
	r.setVar(cp.failedVar, true)
	if cp.continueOnError {
		if r.x.Trace != nil {
			r.x.TraceVar(cp.failedVar, "true")
		}
		return runtime.Next, nil
	}
	if r.segment == ErrorFlow {
		// Inside a FaultRule: a RaiseFault replaces the error response
		// and stops the DefaultFaultRule; the rule's next Steps run.
		if f.Response != nil {
			r.Response = f.Response
			r.faultRaisedInRule = true
		}
	}
	return runtime.Terminate, f
}

// RunShared runs a shared flow's steps in this exchange (FlowCallout, flow
// hooks). Its faults are the caller's.
func (r *Run) RunShared(sf *SharedFlow) error {
	if sf == nil || !sf.ready {
		return errors.New("shared flow not compiled")
	}
	return r.runSteps("shared flow "+sf.Name, sf.steps)
}

// upstreamFailure turns Envoy's local reply for an unreachable or
// timed-out upstream into Apigee's target faults: ServiceUnavailable (503)
// and GatewayTimeout (504) (flowengine.Response.UpstreamFailure knows
// Envoy's details strings).
func upstreamFailure(resp *flowengine.Response) *Fault {
	switch resp.UpstreamFailure() {
	case flowengine.UpstreamTimeout:
		return &Fault{Name: "GatewayTimeout", Code: "messaging.adaptors.http.flow.GatewayTimeout", Status: 504, Message: "Gateway Timeout"}
	case flowengine.UpstreamUnavailable:
		return &Fault{Name: "ServiceUnavailable", Code: "messaging.adaptors.http.flow.ServiceUnavailable", Status: 503, Message: "The Service is temporarily unavailable"}
	}
	return nil
}
