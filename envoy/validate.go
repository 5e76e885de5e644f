package envoy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	dfpfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/dynamic_forward_proxy/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/anypb"
	"sigs.k8s.io/yaml"

	// Extension types that only appear inside Any values of the shipped
	// configs. Importing a package registers its messages with
	// protoregistry.GlobalTypes, which is how "@type" URLs are resolved; a
	// config that uses an extension not imported here fails validation with
	// ErrBootstrapTypeURL naming the URL, so add the import when a shipped
	// config starts using a new extension.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/clusters/dynamic_forward_proxy/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/http/early_header_mutation/header_mutation/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
)

// Sentinel errors for the kinds of problems ValidateBootstrapYAML reports.
// Every reported problem is a *BootstrapError whose Err wraps one of these,
// so callers can use errors.Is / errors.As on the returned error (which may
// join several problems).
var (
	// ErrBootstrapSyntax: the data is not YAML/JSON or not a mapping.
	ErrBootstrapSyntax = errors.New("syntax error")
	// ErrBootstrapUnknownField: a key that the protobuf message does not have
	// (Envoy rejects unknown fields at load).
	ErrBootstrapUnknownField = errors.New("unknown field")
	// ErrBootstrapTypeURL: an Any ("@type") whose type URL does not resolve to
	// a registered message, or an Any without "@type".
	ErrBootstrapTypeURL = errors.New("unresolvable type URL")
	// ErrBootstrapValue: a value of the wrong JSON shape or an unparsable
	// scalar (bad enum name, bad duration, two members of one oneof...).
	ErrBootstrapValue = errors.New("invalid value")
	// ErrBootstrapConstraint: a protoc-gen-validate rule (ValidateAll) failed.
	ErrBootstrapConstraint = errors.New("constraint violation")
	// ErrBootstrapExtProc: a rule the ext_proc filter enforces when Envoy
	// loads its config (Envoy's ext_proc: the processing-mode rules Envoy enforces when it loads the config), or an ext_proc wiring mistake that
	// Envoy accepts but that silently breaks processing (the pitfalls ext_proc server authors keep reporting: a per-route key that is not the filter's name, mode_override without allow_mode_override, and the like).
	ErrBootstrapExtProc = errors.New("ext_proc rule violated")
	// ErrBootstrapReference: a name that refers to nothing, e.g. a route or
	// gRPC service naming a cluster that static_resources does not define.
	ErrBootstrapReference = errors.New("dangling reference")
	// ErrBootstrapDuplicate: two clusters or two listeners with one name.
	ErrBootstrapDuplicate = errors.New("duplicate name")
	// ErrBootstrapFilterChain: the HTTP filter chain is not terminated by the
	// router filter (Envoy rejects such a chain at load).
	ErrBootstrapFilterChain = errors.New("bad HTTP filter chain")
)

// BootstrapError is one problem found in an Envoy bootstrap config.
type BootstrapError struct {
	// File is the config file name; empty for ValidateBootstrapYAML.
	File string
	// Path is the JSON path of the problem ("$.static_resources.clusters[0]"),
	// using the keys as written in the config; empty when unknown.
	Path string
	// Err describes the problem and wraps one of the ErrBootstrap* sentinels.
	Err error
}

// Error formats the problem as "file: path: message".
func (e *BootstrapError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the underlying error.
func (e *BootstrapError) Unwrap() error { return e.Err }

// ValidateBootstrapFile reads an Envoy bootstrap config (YAML or JSON) and
// validates it like ValidateBootstrapYAML; every problem names path.
func ValidateBootstrapFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("envoy: read bootstrap: %w", err)
	}
	return validateBootstrapData(path, data)
}

// ValidateBootstrapYAML checks an Envoy v3 bootstrap config (YAML or JSON)
// as strictly as Envoy does when it loads one, as far as that is possible
// without an Envoy binary:
//
//   - the document is decoded into envoy.config.bootstrap.v3.Bootstrap with
//     unknown fields rejected, and every Any ("@type": typed_config,
//     typed_per_filter_config, typed_extension_protocol_options, ...) must
//     resolve to a registered message type, whose fields are checked too;
//   - ValidateAll (protoc-gen-validate rules) runs on the bootstrap and on
//     every message unpacked from an Any, recursively (ValidateAll on the
//     outer message does not look inside Any values);
//   - every ext_proc filter obeys the rules Envoy's ext_proc config factory
//     enforces (exactly one of grpc_service/http_service; http_service only
//     with bodies NONE and trailers not SEND; FULL_DUPLEX_STREAMED only with
//     that direction's trailer mode SEND; disable_clear_route_cache not with
//     a route_cache_action; message_timeout ≤ 3600s is a PGV rule);
//   - every ExtProcPerRoute in typed_per_filter_config is keyed by the name of
//     an ext_proc filter of its HTTP connection manager (Envoy silently
//     ignores a mismatched key, Envoy's ext_proc: the per-route key must equal the filter's name, or the per-route config is ignored);
//   - clusters named by routes and by ext_proc grpc_service exist among
//     static_resources.clusters (skipped when clusters come from CDS), and
//     the ext_proc cluster enables HTTP/2;
//   - cluster and listener names are unique, and every HTTP filter chain
//     ends with the router filter.
//
// The returned error is nil or joins one *BootstrapError per problem.
func ValidateBootstrapYAML(data []byte) error {
	return validateBootstrapData("", data)
}

// validateBootstrapData implements ValidateBootstrapYAML; file only labels
// the errors.
func validateBootstrapData(file string, data []byte) error {
	v := &bootstrapValidator{file: file}
	b := v.parse(data)
	if len(v.errs) > 0 {
		return errors.Join(v.errs...)
	}
	if err := b.ValidateAll(); err != nil {
		v.add("$", fmt.Errorf("%w: %w", ErrBootstrapConstraint, err))
	}
	v.walkProto(b.ProtoReflect(), "$")
	v.checkBootstrap(b)
	return errors.Join(v.errs...)
}

// bootstrapPath is a JSON path into the config ("$.a.b[0][\"x.y\"]").
type bootstrapPath string

var bootstrapIdentRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// key appends an object key.
func (p bootstrapPath) key(k string) bootstrapPath {
	if bootstrapIdentRE.MatchString(k) {
		return p + "." + bootstrapPath(k)
	}
	return p + "[" + bootstrapPath(strconv.Quote(k)) + "]"
}

// index appends a list index.
func (p bootstrapPath) index(i int) bootstrapPath {
	return p + "[" + bootstrapPath(strconv.Itoa(i)) + "]"
}

// bootstrapValidator accumulates the problems of one config.
type bootstrapValidator struct {
	file string
	errs []error
	// hcms are the HTTP connection managers found inside Any values.
	hcms []locatedHCM
	// clusters maps static cluster names to their config; clustersKnown is
	// false when clusters may also come from CDS.
	clusters      map[string]*clusterv3.Cluster
	clustersKnown bool
}

// locatedHCM is an HTTP connection manager and where it was found.
type locatedHCM struct {
	path bootstrapPath
	hcm  *hcmv3.HttpConnectionManager
}

func (v *bootstrapValidator) add(p bootstrapPath, err error) {
	v.errs = append(v.errs, &BootstrapError{File: v.file, Path: string(p), Err: err})
}

func (v *bootstrapValidator) addf(p bootstrapPath, kind error, format string, args ...any) {
	v.add(p, fmt.Errorf("%w: %s", kind, fmt.Sprintf(format, args...)))
}

// parse decodes data into a Bootstrap. Structural problems are recorded
// with their JSON paths by a walk over the generic JSON tree against the
// message descriptors before protojson does the authoritative decode.
func (v *bootstrapValidator) parse(data []byte) *bootstrapv3.Bootstrap {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		v.add("", fmt.Errorf("%w: %w", ErrBootstrapSyntax, err))
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		v.add("", fmt.Errorf("%w: %w", ErrBootstrapSyntax, err))
		return nil
	}
	if tree == nil {
		v.addf("", ErrBootstrapSyntax, "empty document")
		return nil
	}
	if _, ok := tree.(map[string]any); !ok {
		v.addf("$", ErrBootstrapSyntax, "top level must be a mapping, got %s", describeJSONValue(tree))
		return nil
	}
	b := &bootstrapv3.Bootstrap{}
	v.checkJSON(b.ProtoReflect().Descriptor(), tree, "$")
	if len(v.errs) > 0 {
		return nil
	}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(js, b); err != nil {
		// The walk should have caught everything protojson rejects; this is
		// the safety net, without a precise path.
		v.addf("$", ErrBootstrapValue, "%s", cleanProtojsonError(err))
		return nil
	}
	return b
}

// checkJSON checks val against message md: known keys only, the right JSON
// shapes, parsable scalars, resolvable Any type URLs.
func (v *bootstrapValidator) checkJSON(md protoreflect.MessageDescriptor, val any, p bootstrapPath) {
	if md.FullName() == "google.protobuf.Any" {
		v.checkAnyJSON(val, p)
		return
	}
	if md.FullName().Parent() == "google.protobuf" {
		v.checkWellKnownJSON(md, val, p)
		return
	}
	obj, ok := val.(map[string]any)
	if !ok {
		v.addf(p, ErrBootstrapValue, "expected a mapping (%s), got %s", md.FullName(), describeJSONValue(val))
		return
	}
	fields := md.Fields()
	oneofs := map[protoreflect.FullName]string{}
	for _, k := range sortedJSONKeys(obj) {
		kp := p.key(k)
		fd := fields.ByJSONName(k)
		if fd == nil {
			fd = fields.ByTextName(k)
		}
		if fd == nil {
			v.addf(kp, ErrBootstrapUnknownField, "%q is not a field of %s", k, md.FullName())
			continue
		}
		child := obj[k]
		if child == nil {
			continue // JSON null leaves the field unset
		}
		if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
			if prev, dup := oneofs[od.FullName()]; dup {
				v.addf(kp, ErrBootstrapValue, "%q and %q are both set but are alternatives of oneof %s", prev, k, od.Name())
				continue
			}
			oneofs[od.FullName()] = k
		}
		v.checkFieldJSON(md, fd, k, child, kp)
	}
}

// checkFieldJSON checks the value of one field (key k of message md).
func (v *bootstrapValidator) checkFieldJSON(md protoreflect.MessageDescriptor, fd protoreflect.FieldDescriptor, k string, val any, p bootstrapPath) {
	switch {
	case fd.IsMap() && fd.MapValue().Message() != nil:
		obj, ok := val.(map[string]any)
		if !ok {
			v.addf(p, ErrBootstrapValue, "expected a mapping, got %s", describeJSONValue(val))
			return
		}
		for _, mk := range sortedJSONKeys(obj) {
			v.checkJSON(fd.MapValue().Message(), obj[mk], p.key(mk))
		}
	case fd.IsMap() || fd.Message() == nil:
		v.checkScalarJSON(md, k, val, p)
	case fd.IsList():
		arr, ok := val.([]any)
		if !ok {
			v.addf(p, ErrBootstrapValue, "expected a list, got %s", describeJSONValue(val))
			return
		}
		for i, e := range arr {
			v.checkJSON(fd.Message(), e, p.index(i))
		}
	default:
		v.checkJSON(fd.Message(), val, p)
	}
}

// checkScalarJSON lets protojson decode the single field k of md, which
// holds scalars (or a list/map of scalars or enums).
func (v *bootstrapValidator) checkScalarJSON(md protoreflect.MessageDescriptor, k string, val any, p bootstrapPath) {
	raw, err := json.Marshal(map[string]any{k: val})
	if err != nil {
		v.addf(p, ErrBootstrapValue, "%v", err)
		return
	}
	if err := protojson.Unmarshal(raw, dynamicpb.NewMessage(md)); err != nil {
		v.addf(p, ErrBootstrapValue, "%s", cleanProtojsonError(err))
	}
}

// checkWellKnownJSON checks a google.protobuf message (Duration, Struct,
// wrappers...) which has its own JSON form.
func (v *bootstrapValidator) checkWellKnownJSON(md protoreflect.MessageDescriptor, val any, p bootstrapPath) {
	raw, err := json.Marshal(val)
	if err != nil {
		v.addf(p, ErrBootstrapValue, "%v", err)
		return
	}
	var m proto.Message
	if mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName()); err == nil {
		m = mt.New().Interface()
	} else {
		m = dynamicpb.NewMessage(md)
	}
	if err := protojson.Unmarshal(raw, m); err != nil {
		v.addf(p, ErrBootstrapValue, "%s", cleanProtojsonError(err))
	}
}

// checkAnyJSON resolves an Any's "@type" and checks the embedded message.
func (v *bootstrapValidator) checkAnyJSON(val any, p bootstrapPath) {
	obj, ok := val.(map[string]any)
	if !ok {
		v.addf(p, ErrBootstrapValue, "expected a mapping with \"@type\", got %s", describeJSONValue(val))
		return
	}
	if len(obj) == 0 {
		return // an empty Any, like protojson accepts
	}
	url, ok := obj["@type"].(string)
	if !ok {
		v.addf(p, ErrBootstrapTypeURL, "missing \"@type\" (a string naming the message type)")
		return
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByURL(url)
	if err != nil {
		v.addf(p.key("@type"), ErrBootstrapTypeURL, "%q does not name a known message type (misspelt, or an extension the validator does not import)", url)
		return
	}
	md := mt.Descriptor()
	if md.FullName().Parent() == "google.protobuf" {
		// Well-known types inside an Any use {"@type": ..., "value": ...}.
		raw, err := json.Marshal(obj)
		if err == nil {
			err = protojson.Unmarshal(raw, &anypb.Any{})
		}
		if err != nil {
			v.addf(p, ErrBootstrapValue, "%s", cleanProtojsonError(err))
		}
		return
	}
	rest := make(map[string]any, len(obj)-1)
	for k, e := range obj {
		if k != "@type" {
			rest[k] = e
		}
	}
	v.checkJSON(md, rest, p)
}

// walkProto visits every Any in m (in field order, so errors come in a
// stable order), unpacks it, runs ValidateAll on the unpacked message and
// walks into it.
func (v *bootstrapValidator) walkProto(m protoreflect.Message, p bootstrapPath) {
	if a, ok := m.Interface().(*anypb.Any); ok {
		v.visitAny(a, p)
		return
	}
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if !m.Has(fd) {
			continue
		}
		fp := p.key(string(fd.Name()))
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() == nil {
				continue
			}
			mv := m.Get(fd).Map()
			var keys []protoreflect.MapKey
			mv.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
				keys = append(keys, k)
				return true
			})
			sort.Slice(keys, func(a, b int) bool { return keys[a].String() < keys[b].String() })
			for _, k := range keys {
				v.walkProto(mv.Get(k).Message(), fp.key(k.String()))
			}
		case fd.Message() == nil:
			continue
		case fd.IsList():
			l := m.Get(fd).List()
			for j := 0; j < l.Len(); j++ {
				v.walkProto(l.Get(j).Message(), fp.index(j))
			}
		default:
			v.walkProto(m.Get(fd).Message(), fp)
		}
	}
}

// visitAny unpacks one Any and validates the message inside.
func (v *bootstrapValidator) visitAny(a *anypb.Any, p bootstrapPath) {
	inner, err := a.UnmarshalNew()
	if err != nil {
		v.addf(p, ErrBootstrapTypeURL, "%q: %v", a.GetTypeUrl(), err)
		return
	}
	if va, ok := inner.(interface{ ValidateAll() error }); ok {
		if err := va.ValidateAll(); err != nil {
			v.add(p, fmt.Errorf("%w: %w", ErrBootstrapConstraint, err))
		}
	}
	if h, ok := inner.(*hcmv3.HttpConnectionManager); ok {
		v.hcms = append(v.hcms, locatedHCM{path: p, hcm: h})
	}
	v.walkProto(inner.ProtoReflect(), p)
}

// checkBootstrap runs the cross-reference checks.
func (v *bootstrapValidator) checkBootstrap(b *bootstrapv3.Bootstrap) {
	sp := bootstrapPath("$").key("static_resources")
	v.clusters = map[string]*clusterv3.Cluster{}
	for i, c := range b.GetStaticResources().GetClusters() {
		if _, dup := v.clusters[c.GetName()]; dup {
			v.addf(sp.key("clusters").index(i).key("name"), ErrBootstrapDuplicate, "cluster %q is defined more than once", c.GetName())
		}
		v.clusters[c.GetName()] = c
	}
	listeners := map[string]bool{}
	for i, l := range b.GetStaticResources().GetListeners() {
		if l.GetName() == "" {
			continue
		}
		if listeners[l.GetName()] {
			v.addf(sp.key("listeners").index(i).key("name"), ErrBootstrapDuplicate, "listener %q is defined more than once", l.GetName())
		}
		listeners[l.GetName()] = true
	}
	dr := b.GetDynamicResources()
	v.clustersKnown = dr.GetCdsConfig() == nil && dr.GetCdsResourcesLocator() == ""
	for _, h := range v.hcms {
		v.checkHCM(h.path, h.hcm)
	}
}

// checkHCM checks one HTTP connection manager: its filter chain, its ext_proc
// filters, and the clusters and per-route ext_proc configs of its inline
// route config.
func (v *bootstrapValidator) checkHCM(p bootstrapPath, h *hcmv3.HttpConnectionManager) {
	extProcNames := map[string]bool{}
	dfpFilter := false
	filters := h.GetHttpFilters()
	for i, f := range filters {
		fp := p.key("http_filters").index(i)
		tc := f.GetTypedConfig()
		if tc == nil {
			continue
		}
		msg, err := tc.UnmarshalNew()
		if err != nil {
			continue // reported by walkProto
		}
		_, isRouter := msg.(*routerv3.Router)
		switch c := msg.(type) {
		case *extprocv3.ExternalProcessor:
			extProcNames[f.GetName()] = true
			v.checkExtProc(fp.key("typed_config"), c)
		case *dfpfilterv3.FilterConfig:
			dfpFilter = true
			if len(extProcNames) == 0 && hasExtProcAfter(filters[i+1:]) {
				v.addf(fp, ErrBootstrapFilterChain, "dynamic forward proxy filter %q runs before ext_proc: it would resolve the host before flowproc can choose it", f.GetName())
			}
		case *routerv3.Router:
			if i != len(filters)-1 {
				v.addf(fp, ErrBootstrapFilterChain, "router filter %q must be the last HTTP filter (Envoy rejects a terminal filter in the middle of the chain)", f.GetName())
			}
		}
		if i == len(filters)-1 && !isRouter {
			v.addf(fp, ErrBootstrapFilterChain, "last HTTP filter %q (%s) is not the router; Envoy requires the terminal router filter last", f.GetName(), tc.GetTypeUrl())
		}
	}
	rc := h.GetRouteConfig()
	if rc == nil {
		return // RDS or scoped routes: nothing inline to check
	}
	rp := p.key("route_config")
	v.checkPerFilterConfigs(rp.key("typed_per_filter_config"), rc.GetTypedPerFilterConfig(), extProcNames)
	for vi, vh := range rc.GetVirtualHosts() {
		vp := rp.key("virtual_hosts").index(vi)
		v.checkPerFilterConfigs(vp.key("typed_per_filter_config"), vh.GetTypedPerFilterConfig(), extProcNames)
		for ri, r := range vh.GetRoutes() {
			rtp := vp.key("routes").index(ri)
			v.checkPerFilterConfigs(rtp.key("typed_per_filter_config"), r.GetTypedPerFilterConfig(), extProcNames)
			ra := r.GetRoute()
			if ra == nil {
				continue
			}
			if c := ra.GetCluster(); c != "" {
				if v.requireCluster(rtp.key("route").key("cluster"), c, "route") && !dfpFilter &&
					v.clusters[c].GetClusterType().GetName() == dfpClusterName {
					v.addf(rtp.key("route").key("cluster"), ErrBootstrapFilterChain,
						"route to dynamic forward proxy cluster %q needs the envoy.filters.http.dynamic_forward_proxy HTTP filter (else Envoy answers 503: no host resolved)", c)
				}
			}
			for wi, wc := range ra.GetWeightedClusters().GetClusters() {
				wp := rtp.key("route").key("weighted_clusters").key("clusters").index(wi)
				if wc.GetName() != "" {
					v.requireCluster(wp.key("name"), wc.GetName(), "weighted route")
				}
				v.checkPerFilterConfigs(wp.key("typed_per_filter_config"), wc.GetTypedPerFilterConfig(), extProcNames)
			}
		}
	}
}

// checkExtProc enforces the ext_proc config-load rules (Envoy's ext_proc: the processing-mode rules Envoy enforces when it loads the config).
func (v *bootstrapValidator) checkExtProc(p bootstrapPath, c *extprocv3.ExternalProcessor) {
	hasGRPC, hasHTTP := c.GetGrpcService() != nil, c.GetHttpService() != nil
	switch {
	case hasGRPC && hasHTTP:
		v.addf(p, ErrBootstrapExtProc, "exactly one of grpc_service and http_service must be set, both are")
	case !hasGRPC && !hasHTTP:
		v.addf(p, ErrBootstrapExtProc, "exactly one of grpc_service and http_service must be set, neither is")
	}
	pm := c.GetProcessingMode()
	mp := p.key("processing_mode")
	if hasHTTP {
		if pm.GetRequestBodyMode() != extprocv3.ProcessingMode_NONE || pm.GetResponseBodyMode() != extprocv3.ProcessingMode_NONE {
			v.addf(mp, ErrBootstrapExtProc, "http_service supports only body mode NONE")
		}
		if pm.GetRequestTrailerMode() == extprocv3.ProcessingMode_SEND || pm.GetResponseTrailerMode() == extprocv3.ProcessingMode_SEND {
			v.addf(mp, ErrBootstrapExtProc, "http_service cannot send trailers (trailer mode SEND)")
		}
	}
	if pm.GetRequestBodyMode() == extprocv3.ProcessingMode_FULL_DUPLEX_STREAMED && pm.GetRequestTrailerMode() != extprocv3.ProcessingMode_SEND {
		v.addf(mp.key("request_trailer_mode"), ErrBootstrapExtProc, "request_body_mode FULL_DUPLEX_STREAMED requires request_trailer_mode SEND (Envoy rejects the config at load)")
	}
	if pm.GetResponseBodyMode() == extprocv3.ProcessingMode_FULL_DUPLEX_STREAMED && pm.GetResponseTrailerMode() != extprocv3.ProcessingMode_SEND {
		v.addf(mp.key("response_trailer_mode"), ErrBootstrapExtProc, "response_body_mode FULL_DUPLEX_STREAMED requires response_trailer_mode SEND (Envoy rejects the config at load)")
	}
	if c.GetDisableClearRouteCache() && c.GetRouteCacheAction() != extprocv3.ExternalProcessor_DEFAULT {
		v.addf(p.key("route_cache_action"), ErrBootstrapExtProc, "disable_clear_route_cache cannot be combined with route_cache_action %s", c.GetRouteCacheAction())
	}
	if name := c.GetGrpcService().GetEnvoyGrpc().GetClusterName(); name != "" {
		v.requireGRPCCluster(p.key("grpc_service").key("envoy_grpc").key("cluster_name"), name)
	}
}

// checkPerFilterConfigs checks the ExtProcPerRoute entries of one
// typed_per_filter_config map.
func (v *bootstrapValidator) checkPerFilterConfigs(p bootstrapPath, m map[string]*anypb.Any, extProcNames map[string]bool) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		kp := p.key(k)
		msg, err := m[k].UnmarshalNew()
		if err != nil {
			continue // reported by walkProto
		}
		if fc, ok := msg.(*routev3.FilterConfig); ok {
			// FilterConfig wraps the real per-route config.
			if msg, err = fc.GetConfig().UnmarshalNew(); err != nil {
				continue
			}
			kp = kp.key("config")
		}
		per, ok := msg.(*extprocv3.ExtProcPerRoute)
		if !ok {
			continue
		}
		if !extProcNames[k] {
			v.addf(kp, ErrBootstrapExtProc, "typed_per_filter_config key %q holds an ExtProcPerRoute, but no ext_proc filter in http_filters is named %q (ext_proc filters: %s); the key must equal the filter name or Envoy silently ignores the override",
				k, k, sortedNames(extProcNames))
		}
		if name := per.GetOverrides().GetGrpcService().GetEnvoyGrpc().GetClusterName(); name != "" {
			v.requireGRPCCluster(kp.key("overrides").key("grpc_service").key("envoy_grpc").key("cluster_name"), name)
		}
	}
}

// requireCluster reports a reference to an undefined static cluster.
func (v *bootstrapValidator) requireCluster(p bootstrapPath, name, what string) bool {
	if !v.clustersKnown {
		return false
	}
	if _, ok := v.clusters[name]; ok {
		return true
	}
	names := make(map[string]bool, len(v.clusters))
	for n := range v.clusters {
		names[n] = true
	}
	v.addf(p, ErrBootstrapReference, "%s names cluster %q, which static_resources.clusters does not define (clusters: %s)", what, name, sortedNames(names))
	return false
}

// requireGRPCCluster checks a gRPC service's cluster: it exists and speaks
// HTTP/2 (gRPC needs it; an HTTP/1 cluster fails every ext_proc stream).
func (v *bootstrapValidator) requireGRPCCluster(p bootstrapPath, name string) {
	if !v.requireCluster(p, name, "ext_proc grpc_service") {
		return
	}
	if !clusterEnablesHTTP2(v.clusters[name]) {
		v.addf(p, ErrBootstrapExtProc, "cluster %q carries the ext_proc gRPC stream but does not enable HTTP/2; set typed_extension_protocol_options[\"envoy.extensions.upstreams.http.v3.HttpProtocolOptions\"].explicit_http_config.http2_protocol_options", name)
	}
}

// clusterEnablesHTTP2 reports whether c is configured for HTTP/2 upstream
// connections, through HttpProtocolOptions or the deprecated cluster field.
func clusterEnablesHTTP2(c *clusterv3.Cluster) bool {
	if fd := c.ProtoReflect().Descriptor().Fields().ByName("http2_protocol_options"); fd != nil && c.ProtoReflect().Has(fd) {
		return true
	}
	for _, a := range c.GetTypedExtensionProtocolOptions() {
		msg, err := a.UnmarshalNew()
		if err != nil {
			continue
		}
		o, ok := msg.(*upstreamhttpv3.HttpProtocolOptions)
		if !ok {
			continue
		}
		if o.GetExplicitHttpConfig().GetHttp2ProtocolOptions() != nil ||
			o.GetUseDownstreamProtocolConfig().GetHttp2ProtocolOptions() != nil ||
			o.GetAutoConfig() != nil {
			return true
		}
	}
	return false
}

// sortedNames lists the keys of set, for messages.
func sortedNames(set map[string]bool) string {
	if len(set) == 0 {
		return "none"
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, strconv.Quote(n))
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// sortedJSONKeys returns the keys of obj in order.
func sortedJSONKeys(obj map[string]any) []string {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// describeJSONValue names the JSON kind of val for messages.
func describeJSONValue(val any) string {
	switch t := val.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		return fmt.Sprintf("string %q", t)
	case json.Number:
		return "number " + t.String()
	case bool:
		return "boolean " + strconv.FormatBool(t)
	}
	return fmt.Sprintf("%T", val)
}

// protojsonPositionRE matches protojson's "proto: (line 1:23): " prefix,
// whose positions refer to the intermediate JSON, not to the user's file.
// protobuf-go randomly uses U+00A0 instead of a space after "proto:" to
// discourage matching on its texts, hence the explicit class.
var protojsonPositionRE = regexp.MustCompile(`^proto:[\s\x{00a0}]*(\(line \d+:\d+\):[\s\x{00a0}]*)?`)

// cleanProtojsonError strips protojson's prefix from err's text.
func cleanProtojsonError(err error) string {
	return protojsonPositionRE.ReplaceAllString(err.Error(), "")
}

// hasExtProcAfter reports whether an ext_proc filter is among filters.
func hasExtProcAfter(filters []*hcmv3.HttpFilter) bool {
	for _, f := range filters {
		if f.GetTypedConfig().GetTypeUrl() == extProcTypeURL {
			return true
		}
	}
	return false
}
