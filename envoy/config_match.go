package envoy

import (
	"regexp"
	"slices"
	"strings"
	"sync"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extprocfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

// EffectiveConfig is the ext_proc configuration in force for one HTTP
// request after the per-route configs of the matched route were merged
// (Envoy's ext_proc: per-route ExtProcPerRoute settings merge from less to more specific, Envoy's mergePerRouteConfig).
type EffectiveConfig struct {
	// Filter is the filter-level configuration (never nil).
	Filter *extprocfilterv3.ExternalProcessor
	// Route is the matched route, nil when the config has no routes.
	Route *Route
	// NoRoute is true when the config has routes but none matched: the
	// router answers 404 (route_not_found) once the request headers pass.
	NoRoute bool
	// Disabled is true when the merged per-route config says disabled:
	// both header modes SKIP, bodies NONE, trailers SKIP — no stream.
	Disabled bool
	// ProcessingMode is the processing mode both directions start with: the
	// per-route overrides.processing_mode (replacing the whole mode) or the
	// filter's processing_mode.
	ProcessingMode *extprocfilterv3.ProcessingMode
	// FailureModeAllow is the per-route overrides.failure_mode_allow when
	// one of the merged configs sets it (Envoy ≥ 1.35), else nil.
	FailureModeAllow *bool
	// GrpcService is the gRPC service the stream goes to: the per-route
	// overrides.grpc_service or the filter's grpc_service.
	GrpcService *corev3.GrpcService
	// InitialMetadata is GrpcService.initial_metadata with the per-route
	// grpc_initial_metadata merged in (same key replaced, else appended).
	InitialMetadata []*corev3.HeaderValue
	// UntypedForwardingNamespaces, TypedForwardingNamespaces and
	// UntypedReceivingNamespaces are the metadata_options lists in force.
	UntypedForwardingNamespaces []string
	TypedForwardingNamespaces   []string
	UntypedReceivingNamespaces  []string
}

// ForPath returns the configuration in force for a request to path (any
// authority, no headers). See ForRequest.
func (fc *FilterConfig) ForPath(path string) *EffectiveConfig {
	return fc.ForRequest("", path, nil)
}

// ForRequest returns the configuration in force for a request: the first
// route (in order) whose virtual host domains match authority and whose
// match accepts path and headers supplies its per-route configs, merged
// least specific first. An empty authority selects the virtual host with
// domain "*" (else the first one).
func (fc *FilterConfig) ForRequest(authority, path string, headers []Header) *EffectiveConfig {
	eff := &EffectiveConfig{Filter: fc.Filter}
	if eff.Filter == nil {
		eff.Filter = &extprocfilterv3.ExternalProcessor{}
	}
	f := eff.Filter
	eff.ProcessingMode = f.GetProcessingMode()
	if eff.ProcessingMode == nil {
		eff.ProcessingMode = &extprocfilterv3.ProcessingMode{}
	}
	eff.GrpcService = f.GetGrpcService()
	mo := f.GetMetadataOptions()
	eff.UntypedForwardingNamespaces = mo.GetForwardingNamespaces().GetUntyped()
	eff.TypedForwardingNamespaces = mo.GetForwardingNamespaces().GetTyped()
	eff.UntypedReceivingNamespaces = mo.GetReceivingNamespaces().GetUntyped()

	if len(fc.Routes) > 0 {
		eff.Route = fc.matchRoute(authority, path, headers)
		if eff.Route == nil {
			eff.NoRoute = true
		}
	}
	var merged *mergedPerRoute
	if eff.Route != nil {
		for _, pr := range eff.Route.PerFilterConfig {
			m := newMergedPerRoute(pr)
			if merged == nil {
				merged = m
			} else {
				merged = merged.merge(m)
			}
		}
	}
	if merged != nil {
		if merged.disabled {
			eff.Disabled = true
			eff.ProcessingMode = &extprocfilterv3.ProcessingMode{
				RequestHeaderMode:  extprocfilterv3.ProcessingMode_SKIP,
				ResponseHeaderMode: extprocfilterv3.ProcessingMode_SKIP,
			}
		} else if merged.mode != nil {
			eff.ProcessingMode = merged.mode
		}
		if merged.grpcService != nil {
			eff.GrpcService = merged.grpcService
		}
		if merged.untypedFwd != nil {
			eff.UntypedForwardingNamespaces = *merged.untypedFwd
		}
		if merged.typedFwd != nil {
			eff.TypedForwardingNamespaces = *merged.typedFwd
		}
		if merged.untypedRecv != nil {
			eff.UntypedReceivingNamespaces = *merged.untypedRecv
		}
		eff.FailureModeAllow = merged.failureModeAllow
	}
	eff.InitialMetadata = append([]*corev3.HeaderValue(nil), eff.GrpcService.GetInitialMetadata()...)
	if merged != nil {
		for _, h := range merged.initialMetadata {
			eff.InitialMetadata = mergeHeaderValue(eff.InitialMetadata, h)
		}
	}
	return eff
}

// mergedPerRoute mirrors Envoy's FilterConfigPerRoute and its merge
// constructor (less specific, more specific).
type mergedPerRoute struct {
	disabled         bool
	mode             *extprocfilterv3.ProcessingMode
	grpcService      *corev3.GrpcService
	initialMetadata  []*corev3.HeaderValue
	untypedFwd       *[]string
	typedFwd         *[]string
	untypedRecv      *[]string
	failureModeAllow *bool
}

func newMergedPerRoute(pr *extprocfilterv3.ExtProcPerRoute) *mergedPerRoute {
	m := &mergedPerRoute{disabled: pr.GetDisabled()}
	ov := pr.GetOverrides()
	if !m.disabled && ov.GetProcessingMode() != nil {
		m.mode = ov.GetProcessingMode()
	}
	m.grpcService = ov.GetGrpcService()
	m.initialMetadata = ov.GetGrpcInitialMetadata()
	if mo := ov.GetMetadataOptions(); mo != nil {
		if fw := mo.GetForwardingNamespaces(); fw != nil {
			u, t := fw.GetUntyped(), fw.GetTyped()
			m.untypedFwd, m.typedFwd = &u, &t
		}
		if rv := mo.GetReceivingNamespaces(); rv != nil {
			u := rv.GetUntyped()
			m.untypedRecv = &u
		}
	}
	if v := ov.GetFailureModeAllow(); v != nil {
		b := v.GetValue()
		m.failureModeAllow = &b
	}
	return m
}

func (less *mergedPerRoute) merge(more *mergedPerRoute) *mergedPerRoute {
	out := &mergedPerRoute{disabled: more.disabled}
	if !more.disabled {
		out.mode = more.mode
		if out.mode == nil {
			out.mode = less.mode
		}
	}
	out.grpcService = pick(more.grpcService, less.grpcService)
	out.initialMetadata = append([]*corev3.HeaderValue(nil), less.initialMetadata...)
	for _, h := range more.initialMetadata {
		out.initialMetadata = mergeHeaderValue(out.initialMetadata, h)
	}
	out.untypedFwd = pick(more.untypedFwd, less.untypedFwd)
	out.typedFwd = pick(more.typedFwd, less.typedFwd)
	out.untypedRecv = pick(more.untypedRecv, less.untypedRecv)
	out.failureModeAllow = pick(more.failureModeAllow, less.failureModeAllow)
	return out
}

func pick[T any](more, less *T) *T {
	if more != nil {
		return more
	}
	return less
}

// mergeHeaderValue replaces every entry with h's key, or appends h
// (Envoy's mergeHeaderValues).
func mergeHeaderValue(list []*corev3.HeaderValue, h *corev3.HeaderValue) []*corev3.HeaderValue {
	found := false
	out := make([]*corev3.HeaderValue, 0, len(list)+1)
	for _, d := range list {
		if d.GetKey() == h.GetKey() {
			out = append(out, h)
			found = true
			continue
		}
		out = append(out, d)
	}
	if !found {
		out = append(out, h)
	}
	return out
}

func (fc *FilterConfig) matchRoute(authority, path string, headers []Header) *Route {
	var vhost string
	if authority != "" {
		vhost = fc.matchVirtualHost(authority)
	} else {
		vhost = fc.defaultVirtualHost()
	}
	for i := range fc.Routes {
		r := &fc.Routes[i]
		if r.VirtualHost != vhost {
			continue
		}
		if routeMatches(r.Match, path, headers) {
			return r
		}
	}
	return nil
}

// defaultVirtualHost is the virtual host used when no authority is given:
// the one with domain "*", else the first one.
func (fc *FilterConfig) defaultVirtualHost() string {
	for _, r := range fc.Routes {
		if slices.Contains(r.Domains, "*") {
			return r.VirtualHost
		}
	}
	if len(fc.Routes) > 0 {
		return fc.Routes[0].VirtualHost
	}
	return ""
}

// matchVirtualHost picks the virtual host for an authority the way Envoy
// orders domain matches: exact, then suffix wildcards ("*.example.com",
// longest first), then prefix wildcards ("example.*", longest first), then
// "*". The authority is tried with its port first, then without.
func (fc *FilterConfig) matchVirtualHost(authority string) string {
	host := lowerASCII(authority)
	candidates := []string{host}
	if i := strings.LastIndexByte(host, ':'); i > 0 && !strings.HasSuffix(host, "]") {
		candidates = append(candidates, host[:i])
	}
	for _, h := range candidates {
		best, bestRank, bestLen := "", 0, -1
		for _, r := range fc.Routes {
			for _, d := range r.Domains {
				d = lowerASCII(d)
				rank, l := 0, len(d)
				switch {
				case d == h:
					rank = 4
				case d == "*":
					rank, l = 1, 0
				case strings.HasPrefix(d, "*") && strings.HasSuffix(h, d[1:]) && len(h) > len(d)-1:
					rank = 3
				case strings.HasSuffix(d, "*") && strings.HasPrefix(h, d[:len(d)-1]) && len(h) > len(d)-1:
					rank = 2
				}
				if rank > bestRank || (rank == bestRank && rank > 0 && l > bestLen) {
					best, bestRank, bestLen = r.VirtualHost, rank, l
				}
			}
		}
		if bestRank > 1 || (bestRank == 1 && h == candidates[len(candidates)-1]) {
			return best
		}
	}
	return ""
}

func routeMatches(m *routev3.RouteMatch, path string, headers []Header) bool {
	if m == nil {
		return true
	}
	noQuery := path
	if i := strings.IndexAny(noQuery, "?#"); i >= 0 {
		noQuery = noQuery[:i]
	}
	caseSensitive := m.GetCaseSensitive() == nil || m.GetCaseSensitive().GetValue()
	ok := false
	switch ps := m.GetPathSpecifier().(type) {
	case *routev3.RouteMatch_Prefix:
		if caseSensitive {
			ok = strings.HasPrefix(path, ps.Prefix)
		} else {
			ok = len(path) >= len(ps.Prefix) && strings.EqualFold(path[:len(ps.Prefix)], ps.Prefix)
		}
	case *routev3.RouteMatch_Path:
		if caseSensitive {
			ok = noQuery == ps.Path
		} else {
			ok = strings.EqualFold(noQuery, ps.Path)
		}
	case *routev3.RouteMatch_PathSeparatedPrefix:
		p := ps.PathSeparatedPrefix
		if !caseSensitive {
			p, noQuery = strings.ToLower(p), strings.ToLower(noQuery)
		}
		ok = noQuery == p || strings.HasPrefix(noQuery, p+"/")
	case *routev3.RouteMatch_SafeRegex:
		re := compileFullRegex(ps.SafeRegex.GetRegex())
		ok = re != nil && re.MatchString(noQuery)
	default:
		ok = false
	}
	if !ok {
		return false
	}
	for _, hm := range m.GetHeaders() {
		if !headerMatcherMatches(hm, headers) {
			return false
		}
	}
	return true
}

func headerMatcherMatches(hm *routev3.HeaderMatcher, headers []Header) bool {
	name := lowerASCII(hm.GetName())
	var vals []string
	for _, h := range headers {
		if lowerASCII(h.Name) == name {
			vals = append(vals, h.Value)
		}
	}
	present := len(vals) > 0
	value := strings.Join(vals, ",")
	var ok bool
	switch hs := hm.GetHeaderMatchSpecifier().(type) {
	case *routev3.HeaderMatcher_PresentMatch:
		ok = present == hs.PresentMatch
		if hm.GetInvertMatch() {
			ok = !ok
		}
		return ok
	case *routev3.HeaderMatcher_StringMatch:
		ok = present && stringMatcherMatches(hs.StringMatch, value)
	case *routev3.HeaderMatcher_ExactMatch:
		ok = present && value == hs.ExactMatch
	case *routev3.HeaderMatcher_PrefixMatch:
		ok = present && strings.HasPrefix(value, hs.PrefixMatch)
	case *routev3.HeaderMatcher_SuffixMatch:
		ok = present && strings.HasSuffix(value, hs.SuffixMatch)
	case *routev3.HeaderMatcher_ContainsMatch:
		ok = present && strings.Contains(value, hs.ContainsMatch)
	case *routev3.HeaderMatcher_SafeRegexMatch:
		re := compileFullRegex(hs.SafeRegexMatch.GetRegex())
		ok = present && re != nil && re.MatchString(value)
	case nil:
		ok = present
	default:
		ok = present
	}
	if hm.GetInvertMatch() {
		if !present && !hm.GetTreatMissingHeaderAsEmpty() {
			return true
		}
		return !ok
	}
	return ok
}

// stringMatcherMatches evaluates an Envoy StringMatcher (exact, prefix,
// suffix, contains, safe_regex; ignore_case honoured). Custom matchers never
// match.
func stringMatcherMatches(sm *matcherv3.StringMatcher, v string) bool {
	if sm == nil {
		return false
	}
	ic := sm.GetIgnoreCase()
	cmp := func(a string) string {
		if ic {
			return strings.ToLower(a)
		}
		return a
	}
	switch p := sm.GetMatchPattern().(type) {
	case *matcherv3.StringMatcher_Exact:
		return cmp(v) == cmp(p.Exact)
	case *matcherv3.StringMatcher_Prefix:
		return strings.HasPrefix(cmp(v), cmp(p.Prefix))
	case *matcherv3.StringMatcher_Suffix:
		return strings.HasSuffix(cmp(v), cmp(p.Suffix))
	case *matcherv3.StringMatcher_Contains:
		return strings.Contains(cmp(v), cmp(p.Contains))
	case *matcherv3.StringMatcher_SafeRegex:
		re := compileFullRegex(p.SafeRegex.GetRegex())
		return re != nil && re.MatchString(v)
	}
	return false
}

var regexCache sync.Map // string → *regexp.Regexp (nil entry: invalid)

// compileFullRegex compiles an RE2 expression for full-string matching, as
// Envoy's safe_regex matchers use; it returns nil for invalid expressions.
func compileFullRegex(expr string) *regexp.Regexp {
	if v, ok := regexCache.Load(expr); ok {
		re, _ := v.(*regexp.Regexp)
		return re
	}
	re, err := regexp.Compile(`^(?:` + expr + `)$`)
	if err != nil {
		re = nil
	}
	regexCache.Store(expr, re)
	return re
}
