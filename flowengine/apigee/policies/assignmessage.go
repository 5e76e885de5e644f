package policies

import (
	"strings"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/diag"
)

func init() {
	engine.Register(engine.Kind{Type: "AssignMessage", Prefix: "assignmessage", New: newAssignMessage, Recyclable: true})
}

// assignMessage is a compiled AssignMessage policy (Apigee docs: AssignMessage).
type assignMessage struct {
	name   string
	ops    msgOps
	strict bool

	// AssignTo: hasAssignTo false (or no name and createNew false) means
	// the message of the running segment.
	hasAssignTo bool
	target      string
	createNew   bool
	// typ is "request", "response" or "" (by the segment).
	typ string
	// faults are the operations' faults. Fault codes and faultstrings:
	// Apigee's AssignMessage runtime error page (its documented default
	// fault bodies and status codes).
	faults policyFaults
}

func newAssignMessage(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	root := p.Root
	c.Unknown(root, append([]string{"DisplayName", "Description", "Properties", "AssignTo", "IgnoreUnresolvedVariables"}, opElements...)...)
	a := &assignMessage{name: p.Name, strict: true, faults: policyFaults{prefix: "assignmessage", typ: "AssignMessage", name: p.Name}}
	if n := root.Child("IgnoreUnresolvedVariables"); n != nil {
		// Default false: an unresolved variable faults (Apigee's
		// AssignMessage reference).
		a.strict = !c.Bool(n, n.Text, false)
	}
	if n := root.Child("AssignTo"); n != nil {
		c.Unknown(n)
		a.hasAssignTo = true
		a.target = n.Text
		cn, _ := n.Attr("createNew")
		a.createNew = c.Bool(n, cn, false)
		if t, ok := n.Attr("type"); ok {
			switch strings.TrimSpace(t) {
			case "request", "response":
				a.typ = strings.TrimSpace(t)
			default:
				c.Errorf(n, diag.APBadPolicy, "<AssignTo type=%q>: want request or response", t)
			}
		}
		if tr, ok := n.Attr("transport"); ok && strings.TrimSpace(tr) != "http" {
			c.Errorf(n, diag.APBadPolicy, "<AssignTo transport=%q>: only http is supported", tr)
		}
	}
	a.ops = compileOps(c, root)
	return a
}

// Execute applies the operations to the target message.
func (a *assignMessage) Execute(r *engine.Run) error {
	cur := r.Current()
	dst, store, err := a.targetMessage(r, cur)
	if err != nil {
		return err
	}
	e := getOpEnv()
	*e = opEnv{r: r, vars: r, dst: dst, src: cur, strict: a.strict, faults: &a.faults}
	err = a.ops.run(e)
	putOpEnv(e)
	if err != nil {
		return err
	}
	if store != "" {
		r.SetMessage(store, dst)
	}
	return nil
}

// targetMessage picks the message the operations change and the name to
// store it under when it is new ("" when it is already in place).
func (a *assignMessage) targetMessage(r *engine.Run, cur *engine.Message) (*engine.Message, string, error) {
	name := a.target
	if !a.hasAssignTo || name == "" && !a.createNew {
		return cur, "", nil
	}
	if !a.createNew {
		if m, ok := sourceMessage(r, name); ok {
			return m, "", nil
		}
		if v, ok := r.Lookup(name); ok && v != nil {
			// Fault name from Apigee docs: AssignMessage (VariableOfNonMsgType);
			// the faultstring wording is flowproc's.
			return nil, "", engine.NewFault("assignmessage", "VariableOfNonMsgType", 500, "AssignMessage[%s]: value of variable %s is not of type Message", a.name, name)
		}
	}
	typ := a.typ
	if typ == "" && (name == "request" || name == "response") {
		typ = name
	}
	isReq := typ == "request" || typ == "" && (r.Segment() == engine.ProxyRequest || r.Segment() == engine.TargetRequest)
	var m *engine.Message
	if isReq {
		m = engine.NewRequest()
	} else {
		m = engine.NewResponse()
	}
	if name == "" {
		// createNew without a name replaces the request or response.
		name = "response"
		if isReq {
			name = "request"
		}
	}
	return m, name, nil
}
