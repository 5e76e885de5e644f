package policies

import (
	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/diag"
)

// FlowCallout runs a shared flow bundle of the project inline, in the
// caller's message context (Apigee docs: FlowCallout, shared flows and flow hooks):
//
//	<FlowCallout name="FC-Auth">
//	  <SharedFlowBundle>auth</SharedFlowBundle>
//	  <Parameters>
//	    <Parameter name="p1">literal</Parameter>
//	    <Parameter name="p2" ref="some.var"/>
//	    <Parameter name="p3" value="literal"/>
//	  </Parameters>
//	</FlowCallout>
//
// The shared flow is resolved when the project loads (AP203 when it is
// missing or when shared flows call each other in a cycle). Parameters
// become flow variables before the shared flow runs. A fault inside the
// shared flow is the caller's fault, unchanged: the FaultRules of the
// calling endpoint handle it (Apigee docs, "Reusable shared flows": a
// shared flow's faults are handled by the calling proxy's FaultRules).
func init() {
	engine.Register(engine.Kind{Type: "FlowCallout", Prefix: "flowcallout", New: newFlowCallout, Recyclable: true})
}

// fcParam is one <Parameter>. Apigee's docs show three forms: ref="var",
// value="literal" and a literal as element text. When ref and a literal
// are both given, flowproc uses ref if it resolves and the literal
// otherwise (the same rule as ExtractVariables/AssignMessage refs with
// defaults); a ref that resolves to nothing with no literal leaves the
// variable unset.
type fcParam struct {
	name    string
	ref     string
	literal string
	hasLit  bool
}

type flowCallout struct {
	sf     *engine.SharedFlow
	params []fcParam
}

func newFlowCallout(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	root := p.Root
	c.Unknown(root, "DisplayName", "Description", "Properties", "SharedFlowBundle", "Parameters")
	fc := &flowCallout{}
	sfn := root.Child("SharedFlowBundle")
	if sfn == nil || sfn.Text == "" {
		at := root
		if sfn != nil {
			at = sfn
		}
		c.Errorf(at, diag.APMissingElement, "FlowCallout %s: <SharedFlowBundle> names no shared flow", p.Name)
		return nil
	}
	if params := root.Child("Parameters"); params != nil {
		c.Unknown(params, "Parameter")
		seen := map[string]bool{}
		for _, pn := range params.Children {
			if pn.Name != "Parameter" {
				continue
			}
			name, _ := pn.Attr("name")
			if name == "" {
				c.Errorf(pn, diag.APMissingElement, "<Parameter> has no name attribute")
				continue
			}
			if seen[name] {
				c.Errorf(pn, diag.APBadPolicy, "parameter %q is given twice", name)
				continue
			}
			seen[name] = true
			fp := fcParam{name: name}
			fp.ref, _ = pn.Attr("ref")
			if v, ok := pn.Attr("value"); ok {
				if pn.Text != "" {
					c.Errorf(pn, diag.APBadPolicy, "parameter %q has both a value attribute and text; keep one", name)
					continue
				}
				fp.literal, fp.hasLit = v, true
			} else if pn.Text != "" {
				fp.literal, fp.hasLit = pn.Text, true
			}
			if fp.ref == "" && !fp.hasLit {
				c.Errorf(pn, diag.APMissingElement, "parameter %q has neither a ref nor a value", name)
				continue
			}
			if len(pn.Children) > 0 {
				c.Errorf(pn.Children[0], diag.APUnknownElement, "unknown element <%s> in <Parameter>", pn.Children[0].Name)
				continue
			}
			fc.params = append(fc.params, fp)
		}
	}
	fc.sf = c.SharedFlow(sfn, sfn.Text)
	if fc.sf == nil {
		return nil
	}
	return fc
}

// Execute sets the parameters, then runs the shared flow; its fault is
// returned as it is.
func (fc *flowCallout) Execute(r *engine.Run) error {
	for _, p := range fc.params {
		var v any
		ok := false
		if p.ref != "" {
			if x, found := r.Lookup(p.ref); found && x != nil {
				v, ok = x, true
			}
		}
		if !ok && p.hasLit {
			v, ok = p.literal, true
		}
		if !ok {
			// A ref that does not resolve and no literal: the variable
			// stays as it is (null for the shared flow).
			continue
		}
		if err := r.Set(p.name, v); err != nil {
			return engine.NewFault("flowcallout", "ExecutionFailed", 500, "Execution of FlowCallout failed: parameter %s: %v", p.name, err)
		}
	}
	return r.RunShared(fc.sf)
}
