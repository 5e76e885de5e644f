package flat

import (
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/xmlsrc"
)

// <set-config>…</set-config> overrides configuration for the rest of the
// request (FLAT docs: set-config); enable="true" is implied. flowproc
// knows one setting that acts during a flow: security/force-backend-https,
// which sends the side calls made after it over https. Any other setting
// is a load error, never silently ignored.

func init() {
	registerAction("set-config", &actionSpec{compile: compileSetConfig})
}

type setConfigAction struct {
	forceBackendHTTPS bool
}

func compileSetConfig(c *compiler, f *Flow, e *xmlsrc.Element) action {
	a := &setConfigAction{}
	found := false
	for _, g := range e.Children {
		for _, s := range g.Children {
			if g.Name != "security" || s.Name != "force-backend-https" || len(s.Children) > 0 {
				c.errf(f, s.Line, s.Col, diag.BadContent, "set-config: <%s><%s> is not a setting flowproc supports (only <security><force-backend-https/>)", g.Name, s.Name)
				continue
			}
			on := true
			for _, at := range s.Attrs {
				if at.Name != "enable" || (at.Value != "true" && at.Value != "false") {
					c.errf(f, at.Line, at.Col, diag.BadAttribute, "<force-backend-https> takes only enable=\"true|false\"")
					continue
				}
				on = at.Value == "true"
			}
			a.forceBackendHTTPS, found = on, true
		}
		if len(g.Children) == 0 {
			c.errf(f, g.Line, g.Col, diag.BadContent, "set-config: <%s> names no setting", g.Name)
		}
	}
	if !found {
		if len(e.Children) == 0 {
			c.errf(f, e.Line, e.Col, diag.BadContent, "<set-config> needs configuration elements")
		}
		return nil
	}
	return a
}

func (a *setConfigAction) Run(r *run, _ *step) (ctrl, error) {
	r.sideState().forceBackendHTTPS = a.forceBackendHTTPS
	return ctrlNext, nil
}
