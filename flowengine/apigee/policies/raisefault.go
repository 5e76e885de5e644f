package policies

import (
	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

func init() {
	engine.Register(engine.Kind{Type: "RaiseFault", Prefix: "raisefault", New: newRaiseFault, Recyclable: true})
}

// raiseFault is a compiled RaiseFault policy (Apigee docs: RaiseFault).
// It always fails with fault.name RaiseFault, code
// steps.raisefault.RaiseFault and faultstring "Raising fault. Fault name
// : <policy>" (Apigee's documented behaviour: the default fault bodies and status codes: several real captures, note the
// space before the colon). With a FaultResponse its operations build a
// new response message (status 500 unless set) that becomes the error
// response.
type raiseFault struct {
	name        string
	hasResponse bool
	ops         msgOps
	strict      bool
	short       bool
	// faults are the operations' faults. No source names RaiseFault's
	// fault for an unresolved variable; these mirror AssignMessage's.
	faults policyFaults
}

func newRaiseFault(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	root := p.Root
	c.Unknown(root, "DisplayName", "Description", "Properties", "FaultResponse", "IgnoreUnresolvedVariables", "ShortFaultReason")
	f := &raiseFault{name: p.Name, strict: true, faults: policyFaults{prefix: "raisefault", typ: "RaiseFault", name: p.Name}}
	if n := root.Child("IgnoreUnresolvedVariables"); n != nil {
		f.strict = !c.Bool(n, n.Text, false)
	}
	if n := root.Child("ShortFaultReason"); n != nil {
		c.Unknown(n)
		f.short = c.Bool(n, n.Text, false)
	}
	if n := root.Child("FaultResponse"); n != nil {
		c.Unknown(n, opElements...)
		f.hasResponse = true
		f.ops = compileOps(c, n)
	}
	return f
}

// Execute builds the fault response and returns the fault.
func (f *raiseFault) Execute(r *engine.Run) error {
	fault := &engine.Fault{Name: "RaiseFault", Code: "steps.raisefault.RaiseFault", Status: 500,
		Message: "Raising fault. Fault name : " + f.name}
	if f.short {
		// Apigee X <ShortFaultReason>true</ShortFaultReason>: the
		// faultstring is the policy name alone [mem; not confirmed by a
		// stored source].
		fault.Message = f.name
	}
	if !f.hasResponse {
		return fault
	}
	m := engine.NewResponse()
	m.Status = 500
	e := getOpEnv()
	*e = opEnv{r: r, vars: messageOverlay{r, m}, dst: m, src: r.Current(), strict: f.strict, faults: &f.faults}
	err := f.ops.run(e)
	contentSet := e.contentSet
	putOpEnv(e)
	if err != nil {
		return err
	}
	if !contentSet {
		// A FaultResponse without a payload answers with Apigee's fault
		// JSON and the FaultResponse's status (Apigee's documented behaviour: the default fault bodies and status codes: a
		// capture of a RaiseFault with a 403 StatusCode and the default
		// body with Content-Type application/json).
		m.SetHeader("Content-Type", "application/json")
		m.SetContent(engine.FaultJSON(fault.Message, fault.Code))
	}
	fault.Status = m.Status
	fault.Reason = m.Reason
	fault.Response = m
	return fault
}
