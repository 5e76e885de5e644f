package bundle

import (
	"github.com/flowproc/flowproc/flowengine/diag"
)

// Step is one <Step>: a policy reference with an optional condition.
type Step struct {
	Policy    string
	Condition string
	Line, Col int
}

// Flow is a PreFlow, PostFlow, PostClientFlow or conditional Flow.
type Flow struct {
	Name      string
	Condition string
	Request   []Step
	Response  []Step
}

// RouteRule picks a TargetEndpoint (or none: the proxy answers itself).
type RouteRule struct {
	Name           string
	Condition      string
	TargetEndpoint string
	URL            string
	Line, Col      int
}

// ProxyEndpoint is one proxies/*.xml file.
type ProxyEndpoint struct {
	Name           string
	File           string
	BasePath       string
	VirtualHosts   []string
	PreFlow        *Flow
	Flows          []*Flow
	PostFlow       *Flow
	PostClientFlow *Flow
	RouteRules     []*RouteRule
	Root           *Node
}

var proxyChildren = map[string]bool{
	"Description": true, "FaultRules": true, "DefaultFaultRule": true, "PreFlow": true,
	"Flows": true, "PostFlow": true, "PostClientFlow": true, "HTTPProxyConnection": true,
	"RouteRule": true,
}

// parseProxyEndpoint reads a ProxyEndpoint element (root already parsed).
// FaultRules are kept in Root for the fault compiler.
func parseProxyEndpoint(file string, root *Node, errs *diag.List) *ProxyEndpoint {
	pe := &ProxyEndpoint{File: file, Root: root}
	if root.Name != "ProxyEndpoint" {
		errs.Addf(file, root.Line, root.Col, diag.APBadRoot, "root element <%s>, want <ProxyEndpoint>", root.Name)
		return nil
	}
	pe.Name, _ = root.Attr("name")
	if pe.Name == "" {
		errs.Addf(file, root.Line, root.Col, diag.APMissingElement, "ProxyEndpoint has no name attribute")
	}
	for _, c := range root.Children {
		switch c.Name {
		case "PreFlow":
			pe.PreFlow = parseFlow(file, c, errs)
		case "PostFlow":
			pe.PostFlow = parseFlow(file, c, errs)
		case "PostClientFlow":
			pe.PostClientFlow = parseFlow(file, c, errs)
		case "Flows":
			for _, f := range c.Children {
				if f.Name != "Flow" {
					errs.Addf(file, f.Line, f.Col, diag.APUnknownElement, "<%s> inside <Flows>, want <Flow>", f.Name)
					continue
				}
				pe.Flows = append(pe.Flows, parseFlow(file, f, errs))
			}
		case "HTTPProxyConnection":
			for _, h := range c.Children {
				switch h.Name {
				case "BasePath":
					pe.BasePath = h.Text
				case "VirtualHost":
					pe.VirtualHosts = append(pe.VirtualHosts, h.Text)
				case "Properties":
				default:
					errs.Addf(file, h.Line, h.Col, diag.APUnknownElement, "unknown element <%s> in <HTTPProxyConnection>", h.Name)
				}
			}
		case "RouteRule":
			rr := &RouteRule{Line: c.Line, Col: c.Col}
			rr.Name, _ = c.Attr("name")
			for _, x := range c.Children {
				switch x.Name {
				case "Condition":
					rr.Condition = x.Text
				case "TargetEndpoint":
					rr.TargetEndpoint = x.Text
				case "URL":
					rr.URL = x.Text
				default:
					errs.Addf(file, x.Line, x.Col, diag.APUnknownElement, "unknown element <%s> in <RouteRule>", x.Name)
				}
			}
			pe.RouteRules = append(pe.RouteRules, rr)
		default:
			if !proxyChildren[c.Name] {
				errs.Addf(file, c.Line, c.Col, diag.APUnknownElement, "unknown element <%s> in <ProxyEndpoint>", c.Name)
			}
		}
	}
	return pe
}

func parseFlow(file string, n *Node, errs *diag.List) *Flow {
	f := &Flow{}
	f.Name, _ = n.Attr("name")
	for _, c := range n.Children {
		switch c.Name {
		case "Condition":
			f.Condition = c.Text
		case "Description":
		case "Request":
			f.Request = parseSteps(file, c, errs)
		case "Response":
			f.Response = parseSteps(file, c, errs)
		default:
			errs.Addf(file, c.Line, c.Col, diag.APUnknownElement, "unknown element <%s> in <%s>", c.Name, n.Name)
		}
	}
	return f
}

func parseSteps(file string, n *Node, errs *diag.List) []Step {
	var out []Step
	for _, s := range n.Children {
		if s.Name != "Step" {
			errs.Addf(file, s.Line, s.Col, diag.APUnknownElement, "<%s> inside <%s>, want <Step>", s.Name, n.Name)
			continue
		}
		st := Step{Line: s.Line, Col: s.Col}
		for _, c := range s.Children {
			switch c.Name {
			case "Name":
				st.Policy = c.Text
			case "Condition":
				st.Condition = c.Text
			case "FaultRules":
			default:
				errs.Addf(file, c.Line, c.Col, diag.APUnknownElement, "unknown element <%s> in <Step>", c.Name)
			}
		}
		if st.Policy == "" {
			errs.Addf(file, s.Line, s.Col, diag.APMissingElement, "<Step> without <Name>")
			continue
		}
		out = append(out, st)
	}
	return out
}

// checkSteps reports every step of pe naming a policy not in pols (AP200).
func checkSteps(pe *ProxyEndpoint, pols map[string]*Policy, errs *diag.List) {
	flows := append([]*Flow{pe.PreFlow, pe.PostFlow, pe.PostClientFlow}, pe.Flows...)
	for _, f := range flows {
		if f == nil {
			continue
		}
		for _, seg := range [][]Step{f.Request, f.Response} {
			for _, s := range seg {
				if pols[s.Policy] == nil {
					errs.Addf(pe.File, s.Line, s.Col, diag.APMissingPolicy, "step names policy %q, which does not exist", s.Policy)
				}
			}
		}
	}
}
