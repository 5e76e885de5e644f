package loadgen

import (
	"fmt"
	"strings"

	extprocfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	"google.golang.org/protobuf/proto"

	"github.com/flowproc/flowproc/envoy"
)

// Phases are the processing_mode fields a mode override can set, by the
// name of the message they control.
var Phases = []string{"request_headers", "request_body", "request_trailers", "response_headers", "response_body", "response_trailers"}

// WithModes returns a copy of fc whose filter-level processing_mode has the
// overrides in specs applied; fc is not modified. Each spec is
// "phase=MODE" (several may be joined with commas), phase one of Phases,
// MODE for headers and trailers SEND, SKIP or DEFAULT, for bodies NONE,
// STREAMED, BUFFERED, BUFFERED_PARTIAL or FULL_DUPLEX_STREAMED (case does
// not matter). Per-route processing_mode overrides in fc still replace the
// whole mode on their routes, as in Envoy.
func WithModes(fc *envoy.FilterConfig, specs []string) (*envoy.FilterConfig, error) {
	if fc == nil {
		fc = envoy.NewFilterConfig(nil)
	}
	cp := *fc
	if cp.Filter == nil {
		cp.Filter = &extprocfilterv3.ExternalProcessor{}
	} else {
		cp.Filter = proto.Clone(fc.Filter).(*extprocfilterv3.ExternalProcessor)
	}
	if len(specs) == 0 {
		return &cp, nil
	}
	if cp.Filter.ProcessingMode == nil {
		cp.Filter.ProcessingMode = &extprocfilterv3.ProcessingMode{}
	}
	pm := cp.Filter.ProcessingMode
	for _, spec := range specs {
		for _, one := range strings.Split(spec, ",") {
			if err := setMode(pm, strings.TrimSpace(one)); err != nil {
				return nil, err
			}
		}
	}
	return &cp, nil
}

// setMode applies one "phase=MODE" spec to pm.
func setMode(pm *extprocfilterv3.ProcessingMode, spec string) error {
	phase, value, ok := strings.Cut(spec, "=")
	if !ok {
		return fmt.Errorf("mode %q: want phase=MODE, e.g. request_body=BUFFERED", spec)
	}
	phase = strings.ToLower(strings.TrimSpace(phase))
	value = strings.ToUpper(strings.TrimSpace(value))
	header := func(dst *extprocfilterv3.ProcessingMode_HeaderSendMode) error {
		v, ok := extprocfilterv3.ProcessingMode_HeaderSendMode_value[value]
		if !ok {
			return fmt.Errorf("mode %q: %s takes SEND, SKIP or DEFAULT", spec, phase)
		}
		*dst = extprocfilterv3.ProcessingMode_HeaderSendMode(v)
		return nil
	}
	body := func(dst *extprocfilterv3.ProcessingMode_BodySendMode) error {
		v, ok := extprocfilterv3.ProcessingMode_BodySendMode_value[value]
		if !ok {
			return fmt.Errorf("mode %q: %s takes NONE, STREAMED, BUFFERED, BUFFERED_PARTIAL or FULL_DUPLEX_STREAMED", spec, phase)
		}
		*dst = extprocfilterv3.ProcessingMode_BodySendMode(v)
		return nil
	}
	switch phase {
	case "request_headers", "request_header":
		return header(&pm.RequestHeaderMode)
	case "response_headers", "response_header":
		return header(&pm.ResponseHeaderMode)
	case "request_trailers", "request_trailer":
		return header(&pm.RequestTrailerMode)
	case "response_trailers", "response_trailer":
		return header(&pm.ResponseTrailerMode)
	case "request_body":
		return body(&pm.RequestBodyMode)
	case "response_body":
		return body(&pm.ResponseBodyMode)
	}
	return fmt.Errorf("mode %q: unknown phase %q, want one of %s", spec, phase, strings.Join(Phases, ", "))
}

// DescribeModes formats the filter-level processing_mode of fc compactly:
// "request: headers SEND, body NONE, trailers SKIP; response: …". Header
// and trailer DEFAULT are shown as what Envoy does for them.
func DescribeModes(fc *envoy.FilterConfig) string {
	var pm *extprocfilterv3.ProcessingMode
	if fc != nil && fc.Filter != nil {
		pm = fc.Filter.GetProcessingMode()
	}
	hdr := func(m extprocfilterv3.ProcessingMode_HeaderSendMode, def string) string {
		if m == extprocfilterv3.ProcessingMode_DEFAULT {
			return def
		}
		return m.String()
	}
	return fmt.Sprintf("request: headers %s, body %s, trailers %s; response: headers %s, body %s, trailers %s",
		hdr(pm.GetRequestHeaderMode(), "SEND"), pm.GetRequestBodyMode(), hdr(pm.GetRequestTrailerMode(), "SKIP"),
		hdr(pm.GetResponseHeaderMode(), "SEND"), pm.GetResponseBodyMode(), hdr(pm.GetResponseTrailerMode(), "SKIP"))
}
