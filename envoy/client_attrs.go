package envoy

import (
	"net"
	"regexp"
	"strconv"
	"strings"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/protobuf/types/known/structpb"
)

// addAttributes sets attributes["envoy.filters.http.ext_proc"] on the first
// message of a direction when request_attributes / response_attributes are
// configured (attributes are sent only when configured; the request attributes Envoy evaluates (request_attributes / response_attributes)).
func (x *exchange) addAttributes(s *procState, req *extprocv3.ProcessingRequest) {
	exprs := x.f.GetRequestAttributes()
	if s.dir == dirResponse {
		exprs = x.f.GetResponseAttributes()
	}
	if s.sentAttributes || len(exprs) == 0 {
		return
	}
	st := &structpb.Struct{Fields: map[string]*structpb.Value{}}
	for _, e := range exprs {
		if v, ok := x.evalAttribute(e); ok {
			st.Fields[e] = v
		} else {
			x.log.Debug("ext_proc client: attribute omitted (unsupported or absent)", "expression", e)
		}
	}
	s.sentAttributes = true
	req.Attributes = map[string]*structpb.Struct{filterName: st}
}

var headerAttrRE = regexp.MustCompile(`^(request|response)\.headers\[\s*(?:'([^']*)'|"([^"]*)")\s*\]$`)

// evalAttribute evaluates the simple CEL attribute expressions the client
// understands. Unknown expressions and absent values are omitted, as Envoy
// omits expressions that fail to evaluate.
func (x *exchange) evalAttribute(expr string) (*structpb.Value, bool) {
	e := strings.TrimSpace(expr)
	req := x.dec.hmap
	resp := x.enc.hmap
	str := func(m *headerMap, key string) (*structpb.Value, bool) {
		if m == nil {
			return nil, false
		}
		vals := m.get(key)
		if len(vals) == 0 {
			return nil, false
		}
		return structpb.NewStringValue(strings.Join(vals, ",")), true
	}
	if m := headerAttrRE.FindStringSubmatch(e); m != nil {
		key := lowerASCII(m[2] + m[3])
		if m[1] == "request" {
			return str(req, key)
		}
		return str(resp, key)
	}
	switch e {
	case "request.path":
		return str(req, ":path")
	case "request.url_path":
		p, ok := req.first(":path")
		if !ok {
			return nil, false
		}
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i]
		}
		return structpb.NewStringValue(p), true
	case "request.query":
		p, ok := req.first(":path")
		if !ok {
			return nil, false
		}
		q := ""
		if i := strings.IndexByte(p, '?'); i >= 0 {
			q = p[i+1:]
		}
		return structpb.NewStringValue(q), true
	case "request.host":
		return str(req, ":authority")
	case "request.scheme":
		return str(req, ":scheme")
	case "request.method":
		return str(req, ":method")
	case "request.referer":
		return str(req, "referer")
	case "request.useragent":
		return str(req, "user-agent")
	case "request.id":
		return str(req, "x-request-id")
	case "response.code":
		// StreamInfo::responseCode(): the router sets it with the
		// upstream's headers (onUpstreamHeaders); for a local reply the
		// HCM sets it only when the headers reach the codec, after the
		// encoder filters, so ext_proc sees none (context.cc
		// ResponseWrapper, filter_manager.cc sendLocalReply).
		if x.respCode == 0 {
			return nil, false
		}
		return structpb.NewNumberValue(float64(x.respCode)), true
	case "response.code_details":
		// StreamInfo::responseCodeDetails(): "via_upstream" from
		// onUpstreamHeaders, or the local reply's details, which
		// sendLocalReply records before encoding; unset before either.
		return strAttr(x.respDetails)
	case "response.flags":
		// StreamInfo response flags as the integer bit set CEL sees,
		// always present (0 when none).
		return structpb.NewNumberValue(float64(x.respFlags)), true
	case "source.address":
		return strAttr(x.req.Downstream.Address)
	case "source.port":
		_, port, err := net.SplitHostPort(x.req.Downstream.Address)
		if err != nil {
			return nil, false
		}
		n, err := strconv.Atoi(port)
		if err != nil {
			return nil, false
		}
		return structpb.NewNumberValue(float64(n)), true
	case "connection.mtls":
		return structpb.NewBoolValue(x.req.Downstream.MTLS), true
	case "connection.tls_version":
		return strAttr(x.req.Downstream.TLSVersion)
	case "connection.subject_peer_certificate":
		return strAttr(x.req.Downstream.PeerSubject)
	case "connection.uri_san_peer_certificate":
		return strAttr(x.req.Downstream.PeerURISAN)
	case "connection.sha256_peer_certificate_digest":
		return strAttr(x.req.Downstream.PeerCertDigest)
	case "connection.requested_server_name":
		return strAttr(x.req.Downstream.SNI)
	case "xds.route_name":
		if x.eff.Route == nil {
			return nil, false
		}
		return structpb.NewStringValue(x.eff.Route.Name), true
	case "xds.virtual_host_name":
		if x.eff.Route == nil {
			return nil, false
		}
		return structpb.NewStringValue(x.eff.Route.VirtualHost), true
	}
	return nil, false
}

// strAttr is a string attribute; an empty value is absent (Envoy omits
// attributes that do not evaluate, e.g. TLS facts of a plaintext
// connection).
func strAttr(v string) (*structpb.Value, bool) {
	if v == "" {
		return nil, false
	}
	return structpb.NewStringValue(v), true
}

// Response flags: bit 1<<n for StreamInfo::CoreResponseFlag n
// (envoy/stream_info/stream_info.h), the integer response.flags
// evaluates to.
const (
	flagNoHealthyUpstream         uint64 = 1 << 1  // UH
	flagUpstreamRequestTimeout    uint64 = 1 << 2  // UT
	flagUpstreamConnectionFailure uint64 = 1 << 5  // UF
	flagNoRouteFound              uint64 = 1 << 8  // NR
	flagStreamIdleTimeout         uint64 = 1 << 16 // SI
	flagNoClusterFound            uint64 = 1 << 24 // NC
)
