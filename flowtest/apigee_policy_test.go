package flowtest

import (
	"context"
	"fmt"
	"strconv"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/apigee/msgtemplate"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// FlowtestSet is a policy type for these tests only (no real policy type
// is registered in this package): its children run in order on the
// current message.
//
//	<FlowtestSet name="p">
//	  <Header name="x-a">{template}</Header>   set a header
//	  <Variable name="v">{template}</Variable> set a flow variable
//	  <Status>404</Status>                      set the status
//	  <Content>{template}</Content>             set the body
//	  <Callout url="http://x/" variable="v"/>   POST a side call; v = status or "error"
//	  <Fault status="418">Teapot</Fault>        raise steps.flowtestset.Teapot
//	</FlowtestSet>
func init() {
	engine.Register(engine.Kind{Type: "FlowtestSet", Prefix: "flowtestset", New: newFlowtestSet})
}

type ftAction struct {
	kind, name, arg string
	tmpl            *msgtemplate.Template
	status          int
}

type flowtestSet struct{ actions []ftAction }

func newFlowtestSet(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	c.Unknown(p.Root, "Header", "Variable", "Status", "Verb", "Content", "Callout", "Fault")
	s := &flowtestSet{}
	for _, ch := range p.Root.Children {
		a := ftAction{kind: ch.Name}
		a.name, _ = ch.Attr("name")
		switch ch.Name {
		case "Header", "Variable", "Content":
			a.tmpl = c.Template(ch, ch.Text)
		case "Verb":
			a.arg = ch.Text
		case "Status":
			n, err := strconv.Atoi(ch.Text)
			if err != nil {
				c.Errorf(ch, diag.APBadPolicy, "status %q", ch.Text)
			}
			a.status = n
		case "Callout":
			a.arg, _ = ch.Attr("url")
			a.name, _ = ch.Attr("variable")
			if v, _ := ch.Attr("async"); v == "true" {
				a.kind = "AsyncCallout"
			}
		case "Fault":
			st, _ := ch.Attr("status")
			a.status, _ = strconv.Atoi(st)
			a.name = ch.Text
		}
		s.actions = append(s.actions, a)
	}
	return s
}

func (s *flowtestSet) Execute(r *engine.Run) error {
	for _, a := range s.actions {
		val := ""
		if a.tmpl != nil {
			v, _, err := a.tmpl.String(r)
			if err != nil {
				return err
			}
			val = v
		}
		switch a.kind {
		case "Header":
			r.Current().SetHeader(a.name, val)
		case "Variable":
			if err := r.Set(a.name, val); err != nil {
				return err
			}
		case "Content":
			r.Current().SetContent([]byte(val))
		case "Status":
			r.Current().SetStatus(a.status)
		case "Verb":
			r.Current().SetVerb(a.arg)
		case "Callout":
			res, err := r.Upstream().Do(r.Ctx(), &upstream.Call{ID: "callout", Method: "POST", URL: a.arg, Body: []byte("log")})
			if err != nil {
				return err
			}
			out := "error"
			if res.Err == nil {
				out = strconv.Itoa(res.Status)
			}
			if err := r.Set(a.name, out); err != nil {
				return err
			}
		case "AsyncCallout":
			up, call := r.Upstream(), &upstream.Call{ID: "async", Method: "POST", URL: a.arg, Body: []byte("log")}
			r.AfterResponse(func(ctx context.Context) { _, _ = up.Do(ctx, call) })
		case "Fault":
			return engine.NewFault("flowtestset", a.name, a.status, "%s raised", a.name)
		default:
			return fmt.Errorf("unknown action %s", a.kind)
		}
	}
	return nil
}
