package bundle

import (
	"strings"

	"github.com/flowproc/flowproc/flowengine/diag"
)

// Failover is what a <LoadBalancer> says about failing servers, beyond
// its Servers and Algorithm.
//
// Sources (Apigee docs "Load balancing across backend servers" and the
// TargetEndpoint configuration reference): MaxFailures defaults to 0
// (failures never take a server out of rotation); RetryEnabled defaults
// to true; ServerUnhealthyResponse lists ResponseCodes that count as
// failures besides a missing response; TargetDisableSecs (Apigee X only)
// is how long a server stays out of rotation without a HealthMonitor,
// 300 seconds by default.
type Failover struct {
	// MaxFailures is the number of consecutive failures after which a
	// server leaves rotation; 0 means never.
	MaxFailures int
	// RetryEnabled resends a failed request to the next server in
	// rotation (default true).
	RetryEnabled bool
	// UnhealthyCodes are ServerUnhealthyResponse's ResponseCodes.
	UnhealthyCodes []int
	// TargetDisableSecs is how long a server stays out of rotation when
	// no HealthMonitor brings it back; -1 when the bundle does not say.
	TargetDisableSecs int
}

// HealthMonitor is an <HTTPTargetConnection>'s <HealthMonitor>: active
// probes of each LoadBalancer server, exactly one of TCP or HTTP.
type HealthMonitor struct {
	Enabled     bool
	IntervalSec int
	TCP         *TCPMonitor
	HTTP        *HTTPMonitor
	Line, Col   int
}

// TCPMonitor probes by opening a TCP connection. Zero fields take
// defaults at compile time (Port: the server's port).
type TCPMonitor struct {
	ConnectTimeoutSec int
	Port              int
}

// HTTPMonitor probes with an HTTP request and checks the answer.
type HTTPMonitor struct {
	ConnectTimeoutSec int
	ReadTimeoutSec    int
	Port              int
	// IsSSL, when set, chooses https (true) or http (false) for the
	// probe; unset means the server's own scheme.
	IsSSL       *bool
	TrustAllSSL bool
	Verb        string
	Path        string
	Headers     [][2]string
	// Payload is the probe's body; PayloadType its contentType attribute.
	Payload, PayloadType string
	// IncludeHealthCheckID sends X-Apigee-Healthcheck-Id.
	IncludeHealthCheckID bool
	// SuccessCodes are SuccessResponse's ResponseCodes (empty: 200).
	SuccessCodes []int
	// SuccessHeaders must all be in the answer with these values.
	SuccessHeaders [][2]string
}

// parseFailover reads the failure-handling children of <LoadBalancer>;
// it reports whether x was one of them.
func parseFailover(file string, f *Failover, x *Node, errs *diag.List) bool {
	switch x.Name {
	case "MaxFailures":
		f.MaxFailures = elemNonNegative(file, x, errs)
	case "RetryEnabled":
		f.RetryEnabled = elemBool(file, x, errs)
	case "TargetDisableSecs":
		f.TargetDisableSecs = elemNonNegative(file, x, errs)
	case "ServerUnhealthyResponse":
		for _, y := range x.Children {
			if y.Name != "ResponseCode" {
				errs.Addf(file, y.Line, y.Col, diag.APUnknownElement, "unknown element <%s> in <ServerUnhealthyResponse>", y.Name)
				continue
			}
			if c, ok := parseStatus(file, y, errs); ok {
				f.UnhealthyCodes = append(f.UnhealthyCodes, c)
			}
		}
		if len(x.Children) == 0 {
			errs.Addf(file, x.Line, x.Col, diag.APMissingElement, "<ServerUnhealthyResponse> without <ResponseCode>")
		}
	default:
		return false
	}
	return true
}

// parseHealthMonitor reads a <HealthMonitor>.
func parseHealthMonitor(file string, n *Node, errs *diag.List) *HealthMonitor {
	hm := &HealthMonitor{Line: n.Line, Col: n.Col}
	for _, x := range n.Children {
		switch x.Name {
		case "IsEnabled":
			hm.Enabled = elemBool(file, x, errs)
		case "IntervalInSec":
			hm.IntervalSec = secs(file, x, errs)
		case "TCPMonitor":
			hm.TCP = &TCPMonitor{}
			for _, y := range x.Children {
				switch y.Name {
				case "ConnectTimeoutInSec":
					hm.TCP.ConnectTimeoutSec = secs(file, y, errs)
				case "Port":
					hm.TCP.Port = port(file, y, errs)
				default:
					errs.Addf(file, y.Line, y.Col, diag.APUnknownElement, "unknown element <%s> in <TCPMonitor>", y.Name)
				}
			}
		case "HTTPMonitor":
			hm.HTTP = parseHTTPMonitor(file, x, errs)
		default:
			errs.Addf(file, x.Line, x.Col, diag.APUnknownElement, "unknown element <%s> in <HealthMonitor>", x.Name)
		}
	}
	if hm.TCP != nil && hm.HTTP != nil || hm.Enabled && hm.TCP == nil && hm.HTTP == nil {
		errs.Addf(file, n.Line, n.Col, diag.APMissingElement, "<HealthMonitor> needs exactly one of <TCPMonitor> or <HTTPMonitor>")
	}
	if hm.Enabled && hm.IntervalSec == 0 {
		errs.Addf(file, n.Line, n.Col, diag.APMissingElement, "an enabled <HealthMonitor> needs a positive <IntervalInSec>")
	}
	return hm
}

func parseHTTPMonitor(file string, n *Node, errs *diag.List) *HTTPMonitor {
	m := &HTTPMonitor{}
	hasRequest := false
	for _, x := range n.Children {
		switch x.Name {
		case "Request":
			hasRequest = true
			for _, y := range x.Children {
				switch y.Name {
				case "ConnectTimeoutInSec":
					m.ConnectTimeoutSec = secs(file, y, errs)
				case "SocketReadTimeoutInSec":
					m.ReadTimeoutSec = secs(file, y, errs)
				case "Port":
					m.Port = port(file, y, errs)
				case "IsSSL":
					b, ok := parseBool(y.Text)
					if !ok {
						errs.Addf(file, y.Line, y.Col, diag.APBadPolicy, "IsSSL %q is not true or false", y.Text)
					}
					m.IsSSL = &b
				case "TrustAllSSL":
					m.TrustAllSSL = elemBool(file, y, errs)
				case "Verb":
					m.Verb = strings.ToUpper(strings.TrimSpace(y.Text))
					switch m.Verb {
					case "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH":
					default:
						errs.Addf(file, y.Line, y.Col, diag.APBadPolicy, "HTTPMonitor Verb %q is not an HTTP method", y.Text)
					}
				case "Payload":
					m.Payload = y.Text
					m.PayloadType, _ = y.Attr("contentType")
				case "Path":
					m.Path = strings.TrimSpace(y.Text)
					if !strings.HasPrefix(m.Path, "/") {
						errs.Addf(file, y.Line, y.Col, diag.APBadPolicy, "HTTPMonitor Path %q must start with /", y.Text)
					}
				case "Header":
					name, _ := y.Attr("name")
					if name == "" {
						errs.Addf(file, y.Line, y.Col, diag.APMissingElement, "<Header> has no name attribute")
					}
					m.Headers = append(m.Headers, [2]string{name, y.Text})
				case "IncludeHealthCheckIdHeader":
					m.IncludeHealthCheckID = elemBool(file, y, errs)
				default:
					errs.Addf(file, y.Line, y.Col, diag.APUnknownElement, "unknown element <%s> in HTTPMonitor <Request>", y.Name)
				}
			}
		case "SuccessResponse":
			for _, y := range x.Children {
				switch y.Name {
				case "ResponseCode":
					if c, ok := parseStatus(file, y, errs); ok {
						m.SuccessCodes = append(m.SuccessCodes, c)
					}
				case "Header":
					name, _ := y.Attr("name")
					if name == "" {
						errs.Addf(file, y.Line, y.Col, diag.APMissingElement, "<Header> has no name attribute")
					}
					m.SuccessHeaders = append(m.SuccessHeaders, [2]string{name, y.Text})
				default:
					errs.Addf(file, y.Line, y.Col, diag.APUnknownElement, "unknown element <%s> in <SuccessResponse>", y.Name)
				}
			}
		default:
			errs.Addf(file, x.Line, x.Col, diag.APUnknownElement, "unknown element <%s> in <HTTPMonitor>", x.Name)
		}
	}
	if !hasRequest || m.Path == "" {
		errs.Addf(file, n.Line, n.Col, diag.APMissingElement, "<HTTPMonitor> needs a <Request> with a <Path>")
	}
	if m.Verb == "" {
		m.Verb = "GET"
	}
	return m
}

func parseStatus(file string, n *Node, errs *diag.List) (int, bool) {
	c, ok := atoiPositive(strings.TrimSpace(n.Text))
	if !ok || c < 100 || c > 599 {
		errs.Addf(file, n.Line, n.Col, diag.APBadPolicy, "ResponseCode %q is not an HTTP status code", n.Text)
		return 0, false
	}
	return c, true
}

func secs(file string, n *Node, errs *diag.List) int {
	v, ok := atoiPositive(strings.TrimSpace(n.Text))
	if !ok {
		errs.Addf(file, n.Line, n.Col, diag.APBadPolicy, "%s %q is not a positive number of seconds", n.Name, n.Text)
	}
	return v
}

func port(file string, n *Node, errs *diag.List) int {
	v, ok := atoiPositive(strings.TrimSpace(n.Text))
	if !ok || v > 65535 {
		errs.Addf(file, n.Line, n.Col, diag.APBadPolicy, "Port %q is not a port number", n.Text)
		return 0
	}
	return v
}

func atoiNonNegative(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, true
	}
	return atoiPositive(s)
}

// elemBool reads an element's true/false text; anything else is an
// AP401 at the element, read as false.
func elemBool(file string, x *Node, errs *diag.List) bool {
	b, ok := parseBool(x.Text)
	if !ok {
		errs.Addf(file, x.Line, x.Col, diag.APBadPolicy, "%s %q is not true or false", x.Name, x.Text)
	}
	return b
}

// elemNonNegative reads an element's non-negative integer text; anything
// else is an AP401 at the element.
func elemNonNegative(file string, x *Node, errs *diag.List) int {
	n, ok := atoiNonNegative(x.Text)
	if !ok {
		errs.Addf(file, x.Line, x.Col, diag.APBadPolicy, "%s %q is not a non-negative integer", x.Name, x.Text)
	}
	return n
}
