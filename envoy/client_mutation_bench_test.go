package envoy

import (
	"testing"

	mutationrulesv3 "github.com/envoyproxy/go-control-plane/envoy/config/common/mutation_rules/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// BenchmarkApplyHeaderMutations applies the request headers reply of the
// example project's proxied route (a rewritten :path and :authority and
// two headers, as flowproc's server writes them) to the request headers
// flowproc bench sends, under envoy.yaml's mutation rules.
func BenchmarkApplyHeaderMutations(b *testing.B) {
	checker, err := newMutationChecker(&mutationrulesv3.HeaderMutationRules{AllowAllRouting: wrapperspb.Bool(true)})
	if err != nil {
		b.Fatal(err)
	}
	opt := func(k, v string) *corev3.HeaderValueOption {
		return &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: k, RawValue: []byte(v)}, Append: wrapperspb.Bool(false)}
	}
	m := mutation(nil, opt(":path", "/v2/x"), opt(":authority", "upstream"), opt("x-flowproc", "1"),
		opt("x-request-id", "0f3c2b1a-1111-2222-3333-444455556666"))
	base := headerMap{entries: []hdr{{":authority", "localhost"}, {":path", "/api/upstream/x"}, {":method", "GET"}, {":scheme", "http"},
		{"user-agent", "flowproc-bench"}, {"x-forwarded-proto", "http"}, {"x-request-id", "0f3c2b1a-1111-2222-3333-444455556666"}}}
	lim := mutationLimits{maxCount: 100, maxKB: 60}
	b.ReportAllocs()
	for b.Loop() {
		h := headerMap{entries: append(make([]hdr, 0, 12), base.entries...)}
		if err := applyHeaderMutations(m, &h, false, checker, lim, func() { b.Fatal("rejected") }, false); err != nil {
			b.Fatal(err)
		}
	}
}
