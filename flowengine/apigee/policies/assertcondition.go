package policies

import (
	"fmt"
	"strings"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/cond"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/diag"
)

// AssertCondition (Apigee X; Apigee docs: AssertCondition) evaluates one condition and
// stores the result:
//
//	<AssertCondition name="Assert-1"><Condition>request.header.sha256 = null</Condition></AssertCondition>
//
// It sets assertcondition.<policy>.truthValue to true or false and never
// raises a fault for a false condition (Apigee's AssertCondition page:
// the result is for later Conditions to test). The condition is compiled
// at load; a missing or empty <Condition> fails the load. A condition
// that cannot be evaluated at run time (not a false one) is an
// ExecutionFailed fault, as flowproc fails closed.
func init() {
	engine.Register(engine.Kind{Type: "AssertCondition", Prefix: "assertcondition", New: newAssertCondition, Recyclable: true})
}

type assertCondition struct {
	cond *cond.Expr
	out  string
}

func newAssertCondition(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	root := p.Root
	c.Unknown(root, allowed("Condition")...)
	n := root.Child("Condition")
	if n == nil || strings.TrimSpace(n.Text) == "" {
		c.Errorf(root, diag.APMissingElement, "AssertCondition %s has no <Condition>", p.Name)
		return nil
	}
	e := c.Cond(n, n.Text)
	if e == nil {
		return nil
	}
	return &assertCondition{cond: e, out: "assertcondition." + p.Name + ".truthValue"}
}

// Execute implements engine.Policy.
func (a *assertCondition) Execute(r *engine.Run) error {
	ok, err := a.cond.Eval(r)
	if err != nil {
		return fmt.Errorf("condition %q: %w", a.cond.Source(), err)
	}
	return r.Set(a.out, ok)
}
