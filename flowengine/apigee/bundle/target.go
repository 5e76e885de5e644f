package bundle

import (
	"github.com/flowproc/flowproc/flowengine/diag"
)

// TargetServerRef is one <Server> of a LoadBalancer.
type TargetServerRef struct {
	Name       string
	Weight     int
	IsFallback bool
	Line, Col  int
}

// TargetEndpoint is one targets/*.xml file.
type TargetEndpoint struct {
	EndpointFlows
	Name string
	File string
	// HTTPTargetConnection: URL, or a LoadBalancer over TargetServers
	// (with Path); Properties such as success.codes.
	HTTP      bool
	URL       string
	Path      string
	Servers   []TargetServerRef
	Algorithm string
	// Failover is the LoadBalancer's failure handling; HealthMonitor its
	// active probes (nil without one).
	Failover      Failover
	HealthMonitor *HealthMonitor
	Properties    map[string]string
	SSLInfo       *Node
	Auth          *Node
	// LocalTargetConnection: another proxy of this server, by APIProxy and
	// ProxyEndpoint names or by Path.
	Local              bool
	LocalAPIProxy      string
	LocalProxyEndpoint string
	LocalPath          string
	Line, Col          int
	Root               *Node
}

func parseTargetEndpoint(file string, root *Node, errs *diag.List) *TargetEndpoint {
	if root.Name != "TargetEndpoint" {
		errs.Addf(file, root.Line, root.Col, diag.APBadRoot, "root element <%s>, want <TargetEndpoint>", root.Name)
		return nil
	}
	te := &TargetEndpoint{File: file, Root: root, Line: root.Line, Col: root.Col}
	te.Name, _ = root.Attr("name")
	if te.Name == "" {
		errs.Addf(file, root.Line, root.Col, diag.APMissingElement, "TargetEndpoint has no name attribute")
	}
	for _, c := range root.Children {
		if te.parseChild(file, c, errs) {
			continue
		}
		switch c.Name {
		case "Description":
		case "HTTPTargetConnection":
			te.HTTP = true
			parseHTTPTarget(file, te, c, errs)
		case "LocalTargetConnection":
			te.Local = true
			for _, x := range c.Children {
				switch x.Name {
				case "APIProxy":
					te.LocalAPIProxy = x.Text
				case "ProxyEndpoint":
					te.LocalProxyEndpoint = x.Text
				case "Path":
					te.LocalPath = x.Text
				default:
					errs.Addf(file, x.Line, x.Col, diag.APUnknownElement, "unknown element <%s> in <LocalTargetConnection>", x.Name)
				}
			}
			if te.LocalAPIProxy == "" && te.LocalPath == "" {
				errs.Addf(file, c.Line, c.Col, diag.APMissingElement, "<LocalTargetConnection> needs <APIProxy> or <Path>")
			}
		default:
			// HostedTarget (Edge Node.js), EventFlow (X streaming) and
			// anything else cannot be run here.
			errs.Addf(file, c.Line, c.Col, diag.APUnknownElement, "unsupported element <%s> in <TargetEndpoint>", c.Name)
		}
	}
	if te.HTTP == te.Local {
		errs.Addf(file, root.Line, root.Col, diag.APMissingElement, "TargetEndpoint %q needs exactly one of <HTTPTargetConnection> or <LocalTargetConnection>", te.Name)
	}
	return te
}

func parseHTTPTarget(file string, te *TargetEndpoint, c *Node, errs *diag.List) {
	var lb *Node
	for _, x := range c.Children {
		switch x.Name {
		case "URL":
			te.URL = x.Text
			if te.URL == "" {
				errs.Addf(file, x.Line, x.Col, diag.APMissingElement, "empty <URL>")
			}
		case "Path":
			te.Path = x.Text
		case "LoadBalancer":
			lb = x
		case "Properties":
			te.Properties = parseProperties(file, x, errs)
		case "SSLInfo":
			te.SSLInfo = x
		case "Authentication":
			te.Auth = x
		case "HealthMonitor":
			if te.HealthMonitor != nil {
				errs.Addf(file, x.Line, x.Col, diag.APBadPolicy, "more than one <HealthMonitor>")
			}
			te.HealthMonitor = parseHealthMonitor(file, x, errs)
		default:
			errs.Addf(file, x.Line, x.Col, diag.APUnknownElement, "unknown element <%s> in <HTTPTargetConnection>", x.Name)
		}
	}
	if (te.URL == "") == (lb == nil) {
		errs.Addf(file, c.Line, c.Col, diag.APMissingElement, "<HTTPTargetConnection> needs exactly one of <URL> or <LoadBalancer>")
	}
	if lb == nil {
		if te.HealthMonitor != nil {
			errs.Addf(file, te.HealthMonitor.Line, te.HealthMonitor.Col, diag.APBadPolicy, "<HealthMonitor> needs a <LoadBalancer> to probe the servers of")
		}
		return
	}
	te.Failover = Failover{RetryEnabled: true, TargetDisableSecs: -1}
	fallbacks := 0
	for _, x := range lb.Children {
		switch x.Name {
		case "Algorithm":
			te.Algorithm = x.Text
		case "Server":
			s := TargetServerRef{Line: x.Line, Col: x.Col, Weight: 1}
			s.Name, _ = x.Attr("name")
			if s.Name == "" {
				errs.Addf(file, x.Line, x.Col, diag.APMissingElement, "<Server> has no name attribute")
			}
			for _, y := range x.Children {
				switch y.Name {
				case "Weight":
					n, ok := atoiPositive(y.Text)
					if !ok {
						errs.Addf(file, y.Line, y.Col, diag.APBadPolicy, "Weight %q is not a positive integer", y.Text)
					}
					s.Weight = n
				case "IsFallback":
					b, ok := parseBool(y.Text)
					if !ok {
						errs.Addf(file, y.Line, y.Col, diag.APBadPolicy, "IsFallback %q is not true or false", y.Text)
					}
					s.IsFallback = b
					if b {
						fallbacks++
					}
				default:
					errs.Addf(file, y.Line, y.Col, diag.APUnknownElement, "unknown element <%s> in <Server>", y.Name)
				}
			}
			te.Servers = append(te.Servers, s)
		default:
			if parseFailover(file, &te.Failover, x, errs) {
				continue
			}
			errs.Addf(file, x.Line, x.Col, diag.APUnknownElement, "unknown element <%s> in <LoadBalancer>", x.Name)
		}
	}
	switch te.Algorithm {
	case "", "RoundRobin", "Weighted", "LeastConnections":
	default:
		errs.Addf(file, lb.Line, lb.Col, diag.APBadPolicy, "unknown LoadBalancer Algorithm %q", te.Algorithm)
	}
	if len(te.Servers) == 0 {
		errs.Addf(file, lb.Line, lb.Col, diag.APMissingElement, "<LoadBalancer> without <Server>")
	}
	if fallbacks > 1 {
		errs.Addf(file, lb.Line, lb.Col, diag.APBadPolicy, "more than one fallback Server")
	}
}

// parseProperties reads <Property name="k">v</Property> children.
func parseProperties(file string, n *Node, errs *diag.List) map[string]string {
	out := map[string]string{}
	for _, p := range n.Children {
		if p.Name != "Property" {
			errs.Addf(file, p.Line, p.Col, diag.APUnknownElement, "<%s> inside <Properties>, want <Property>", p.Name)
			continue
		}
		k, _ := p.Attr("name")
		out[k] = p.Text
	}
	return out
}

func atoiPositive(s string) (int, bool) {
	n := 0
	if s == "" || len(s) > 6 {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n > 0
}
