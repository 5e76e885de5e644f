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

// FaultRule is one <FaultRule> (or the <DefaultFaultRule>, with
// AlwaysEnforce).
type FaultRule struct {
	Name          string
	Condition     string
	Steps         []Step
	AlwaysEnforce bool
	Line, Col     int
}

// EndpointFlows are what ProxyEndpoints and TargetEndpoints both hold:
// PreFlow, the conditional Flows, PostFlow and the fault rules.
type EndpointFlows struct {
	PreFlow          *Flow
	Flows            []*Flow
	PostFlow         *Flow
	FaultRules       []*FaultRule
	DefaultFaultRule *FaultRule
}

// parseChild reads c when it is one of the shared endpoint elements and
// reports whether it was.
func (ef *EndpointFlows) parseChild(file string, c *Node, errs *diag.List) bool {
	switch c.Name {
	case "PreFlow":
		ef.PreFlow = parseFlow(file, c, errs)
	case "PostFlow":
		ef.PostFlow = parseFlow(file, c, errs)
	case "Flows":
		ef.Flows = parseFlows(file, c, errs)
	case "FaultRules":
		ef.FaultRules = parseFaultRules(file, c, errs)
	case "DefaultFaultRule":
		ef.DefaultFaultRule = parseFaultRule(file, c, errs)
	default:
		return false
	}
	return true
}

// AllFlows returns PreFlow and PostFlow (nil when absent) and the
// conditional Flows.
func (ef *EndpointFlows) AllFlows() []*Flow {
	return append([]*Flow{ef.PreFlow, ef.PostFlow}, ef.Flows...)
}

// AllFaultRules returns the FaultRules and the DefaultFaultRule (nil when absent).
func (ef *EndpointFlows) AllFaultRules() []*FaultRule {
	return append(append([]*FaultRule{}, ef.FaultRules...), ef.DefaultFaultRule)
}

// ProxyEndpoint is one proxies/*.xml file.
type ProxyEndpoint struct {
	EndpointFlows
	Name           string
	File           string
	BasePath       string
	VirtualHosts   []string
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
		if pe.parseChild(file, c, errs) {
			continue
		}
		switch c.Name {
		case "PostClientFlow":
			pe.PostClientFlow = parseFlow(file, c, errs)
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

func parseFaultRules(file string, n *Node, errs *diag.List) []*FaultRule {
	var out []*FaultRule
	for _, c := range n.Children {
		if c.Name != "FaultRule" {
			errs.Addf(file, c.Line, c.Col, diag.APUnknownElement, "<%s> inside <FaultRules>, want <FaultRule>", c.Name)
			continue
		}
		out = append(out, parseFaultRule(file, c, errs))
	}
	return out
}

// parseFaultRule reads a FaultRule or DefaultFaultRule: its Steps, its
// Condition and (DefaultFaultRule only) AlwaysEnforce.
func parseFaultRule(file string, n *Node, errs *diag.List) *FaultRule {
	fr := &FaultRule{Line: n.Line, Col: n.Col}
	fr.Name, _ = n.Attr("name")
	var steps Node
	for _, c := range n.Children {
		switch {
		case c.Name == "Step":
			steps.Children = append(steps.Children, c)
		case c.Name == "Condition":
			fr.Condition = c.Text
		case c.Name == "AlwaysEnforce" && n.Name == "DefaultFaultRule":
			b, ok := parseBool(c.Text)
			if !ok {
				errs.Addf(file, c.Line, c.Col, diag.APBadPolicy, "AlwaysEnforce %q is not true or false", c.Text)
			}
			fr.AlwaysEnforce = b
		case c.Name == "Description":
		default:
			errs.Addf(file, c.Line, c.Col, diag.APUnknownElement, "unknown element <%s> in <%s>", c.Name, n.Name)
		}
	}
	steps.Name = n.Name
	fr.Steps = parseSteps(file, &steps, errs)
	return fr
}

// parseFlows reads <Flows>. Apigee accepts a stray PreFlow or PostFlow
// inside <Flows> (devrel's threat-protect sample has an empty one) and
// never runs it: an empty one is accepted here too; one with Steps is an
// error, since those Steps would silently never run.
func parseFlows(file string, n *Node, errs *diag.List) []*Flow {
	var out []*Flow
	for _, f := range n.Children {
		switch f.Name {
		case "Flow":
			out = append(out, parseFlow(file, f, errs))
		case "PreFlow", "PostFlow":
			if fl := parseFlow(file, f, errs); len(fl.Request)+len(fl.Response) > 0 {
				errs.Addf(file, f.Line, f.Col, diag.APUnknownElement, "<%s> inside <Flows> never runs in Apigee; move its Steps to a <Flow> or the endpoint's <%s>", f.Name, f.Name)
			}
		default:
			errs.Addf(file, f.Line, f.Col, diag.APUnknownElement, "<%s> inside <Flows>, want <Flow>", f.Name)
		}
	}
	return out
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

// checkSteps reports every step in flows and fault rules naming a policy
// not in pols (AP200).
func checkSteps(file string, flows []*Flow, rules []*FaultRule, pols map[string]*Policy, errs *diag.List) {
	check := func(steps []Step) {
		for _, s := range steps {
			if pols[s.Policy] == nil {
				errs.Addf(file, s.Line, s.Col, diag.APMissingPolicy, "step names policy %q, which does not exist", s.Policy)
			}
		}
	}
	for _, f := range flows {
		if f != nil {
			check(f.Request)
			check(f.Response)
		}
	}
	for _, r := range rules {
		if r != nil {
			check(r.Steps)
		}
	}
}

// AllFlows returns the endpoint's flows: PreFlow, PostFlow, PostClientFlow
// (nil when absent) and the conditional Flows.
func (pe *ProxyEndpoint) AllFlows() []*Flow {
	return append(pe.EndpointFlows.AllFlows(), pe.PostClientFlow)
}
