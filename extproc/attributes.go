package extproc

import (
	"net"
	"strconv"
	"strings"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/flowproc/flowproc/extproc/reqdecode"
	"github.com/flowproc/flowproc/flowengine"
)

// attributesKey is the single key Envoy files request attributes under in
// ProcessingRequest.attributes: the filter's fixed name, not the name of
// the configured filter instance (Envoy's ext_proc.cc addAttributes,
// Envoy's ext_proc: attributes are sent only when configured).
const attributesKey = "envoy.filters.http.ext_proc"

// AttributeNames are the request attributes flowproc reads; the shipped
// Envoy configurations ask for them (request_attributes) and
// envoy/validate_test.go checks that they do.
var AttributeNames = []string{
	"source.address", "source.port", "connection.mtls", "connection.tls_version",
	"connection.subject_peer_certificate", "connection.uri_san_peer_certificate",
	"connection.sha256_peer_certificate_digest",
}

// ResponseAttributeNames are the response attributes flowproc reads; the
// shipped Envoy configurations ask for them (response_attributes), and
// e2e/TestShippedConfigsAskForAttributes checks that they do. Envoy
// evaluates them when it sends response_headers, so they arrive with that
// message (Envoy's ext_proc: the request attributes Envoy evaluates (request_attributes / response_attributes)).
var ResponseAttributeNames = []string{"response.code_details"}

// codeDetailsFromAttributes returns Envoy's response.code_details sent
// with a response_headers message: "via_upstream" for a response from the
// upstream, else the reason of Envoy's local reply (e.g.
// "upstream_reset_before_response_started{...}" when the upstream could not
// be reached). "" when the attribute is absent or not a string.
func codeDetailsFromAttributes(req *extprocv3.ProcessingRequest) string {
	// Read from the attributes as they came, without decoding them into
	// maps (reqdecode's attributes.go).
	s, _ := reqdecode.AttributeString(req, attributesKey, "response.code_details")
	return s
}

// lazyClient is the flowengine.ClientSource of an exchange: the
// downstream connection facts in its first message's attributes, read
// only when a run asks (most flows never do; reading them cost about 0.3
// µs of a saturated exchange).
type lazyClient struct{ first *extprocv3.ProcessingRequest }

// Client implements flowengine.ClientSource.
func (c *lazyClient) Client() flowengine.Client { return clientFromAttributes(c.first) }

// clientFromAttributes reads the downstream connection facts Envoy sent
// with the first message. Attributes arrive as the CEL expression text
// mapped to a value: source.address is "ip:port" (a string), source.port a
// number, connection.mtls a bool; absent ones are omitted (Envoy's ext_proc: the request attributes Envoy evaluates (request_attributes / response_attributes)).
func clientFromAttributes(req *extprocv3.ProcessingRequest) flowengine.Client {
	var c flowengine.Client
	st := reqdecode.Attributes(req)[attributesKey]
	if st == nil {
		return c
	}
	f := st.GetFields()
	str := func(name string) string {
		if v, ok := f[name]; ok {
			if s, ok := v.GetKind().(*structpb.Value_StringValue); ok {
				return s.StringValue
			}
		}
		return ""
	}
	if a := str("source.address"); a != "" {
		if host, port, err := net.SplitHostPort(a); err == nil {
			c.Address = host
			c.Port, _ = strconv.Atoi(port)
		} else {
			c.Address = strings.Trim(a, "[]")
		}
	}
	if v, ok := f["source.port"]; ok {
		if n, ok := v.GetKind().(*structpb.Value_NumberValue); ok {
			c.Port = int(n.NumberValue)
		}
	}
	c.TLSVersion = str("connection.tls_version")
	c.TLS = c.TLSVersion != ""
	if v, ok := f["connection.mtls"]; ok {
		c.MTLS = v.GetBoolValue()
	}
	c.PeerSubject = str("connection.subject_peer_certificate")
	c.PeerURISAN = str("connection.uri_san_peer_certificate")
	c.PeerCertDigest = str("connection.sha256_peer_certificate_digest")
	return c
}
