package extproc

import (
	"strconv"
	"strings"
	"unsafe"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	procmodev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/internal/lowername"
)

// Shared immutable BoolValues for HeaderValueOption.append. Envoy's ext_proc
// honours only the deprecated append field (default false = overwrite) and
// ignores append_action (Envoy's ext_proc: header mutations: removals first, then sets; raw_value only; append, not append_action; append_action is ignored; only append works).
var (
	appendFalse = wrapperspb.Bool(false)
	appendTrue  = wrapperspb.Bool(true)
)

// headerOption builds one set_headers entry. Values go in raw_value only:
// Envoy reads raw_value and rejects messages that set both (Envoy's ext_proc: header mutations: removals first, then sets; raw_value only; append, not append_action; setting value instead of raw_value leaves the header empty; setting both value and raw_value is rejected). Keys are lower-cased as Envoy would.
func headerOption(name, value string, appendValue bool) *corev3.HeaderValueOption {
	a := appendFalse
	if appendValue {
		a = appendTrue
	}
	return &corev3.HeaderValueOption{
		Header: &corev3.HeaderValue{Key: lowername.Lower(name), RawValue: []byte(value)},
		Append: a,
	}
}

// option is one set_headers entry with the HeaderValue it points to, so
// that the two are one allocation.
type option struct {
	opt corev3.HeaderValueOption
	val corev3.HeaderValue
}

// optionBatch allocates the HeaderValueOptions of one mutation in two
// blocks (options with their values, raw bytes) instead of three
// allocations per header. The messages are written once and never copied
// afterwards.
type optionBatch struct {
	opts []option
	raw  []byte
}

// init sizes the batch for n options with bytes of values in all, in
// opts and raw when they are large enough (a reply store's inline space),
// else in new arrays.
func (b *optionBatch) init(n, bytes int, opts []option, raw []byte) {
	switch {
	case n > cap(opts):
		b.opts = make([]option, 0, n)
	case n > 0:
		b.opts = opts[:0:n]
	}
	switch {
	case bytes > cap(raw):
		b.raw = make([]byte, 0, bytes)
	case bytes > 0:
		b.raw = raw[:0:bytes]
	}
}

// add returns a set_headers entry as headerOption does, from the batch
// (falling back to headerOption when the batch is full).
func (b *optionBatch) add(name, value string, appendValue bool) *corev3.HeaderValueOption {
	if len(b.opts) == cap(b.opts) || len(b.raw)+len(value) > cap(b.raw) {
		return headerOption(name, value, appendValue)
	}
	a := appendFalse
	if appendValue {
		a = appendTrue
	}
	start := len(b.raw)
	b.raw = append(b.raw, value...)
	b.opts = append(b.opts, option{})
	o := &b.opts[len(b.opts)-1]
	o.val.Key, o.val.RawValue = lowername.Lower(name), b.raw[start:len(b.raw):len(b.raw)]
	o.opt.Header, o.opt.Append = &o.val, a
	return &o.opt
}

// inlineSets and inlineRemoves are how many set_headers entries (one more
// than the mutation's own, for a content-length added later) and
// remove_headers names a mutationBlock holds without another allocation.
const (
	inlineSets    = 8
	inlineRemoves = 2
)

// mutationBlock is a HeaderMutation allocated together with its batch and
// the backing arrays of its usual-sized lists: a reply's header mutation is
// three allocations (block, options, raw values) instead of seven.
type mutationBlock struct {
	hm      extprocv3.HeaderMutation
	batch   optionBatch
	sets    [inlineSets]*corev3.HeaderValueOption
	removes [inlineRemoves]string
}

// newMutation returns a HeaderMutation with room for n set_headers entries
// (plus one) whose values take bytes in all, and k remove_headers names,
// from s (allocated when s is nil or its mutation is in use).
func (s *replyStore) newMutation(n, bytes, k int) (*extprocv3.HeaderMutation, *optionBatch) {
	m := s.mutation(n, bytes)
	switch {
	case n == 0:
	case n < inlineSets:
		m.hm.SetHeaders = m.sets[:0]
	default:
		m.hm.SetHeaders = make([]*corev3.HeaderValueOption, 0, n+1)
	}
	switch {
	case k == 0:
	case k <= inlineRemoves:
		m.hm.RemoveHeaders = m.removes[:0]
	default:
		m.hm.RemoveHeaders = make([]string, 0, k)
	}
	return &m.hm, &m.batch
}

// isContentLength reports whether name is content-length in any case.
func isContentLength(name string) bool {
	return strings.EqualFold(name, "content-length")
}

// requestMutation turns a flow's Forward into the request header mutation.
// When replaceBody is set, content-length is dropped from the sets: the caller
// either sets the new length itself (BUFFERED) or Envoy removes it
// (CONTINUE_AND_REPLACE, STREAMED, FDS).
//
// scheme, when set, is the UpstreamSchemeHeader value of an upstream choice
// (route.go); removeScheme removes a client-sent copy instead.
func (s *replyStore) requestMutation(f *flowengine.Mutation, replaceBody bool, scheme string, removeScheme bool) *extprocv3.HeaderMutation {
	n := len(f.SetHeaders) + len(f.AddHeaders)
	if f.Path != "" {
		n++
	}
	if f.Authority != "" {
		n++
	}
	if scheme != "" {
		n++
	}
	if n == 0 && len(f.RemoveHeaders) == 0 && !removeScheme {
		return nil
	}
	size := len(f.Path) + len(f.Authority) + len(scheme)
	for _, h := range f.SetHeaders {
		size += len(h.Value)
	}
	for _, h := range f.AddHeaders {
		size += len(h.Value)
	}
	k := len(f.RemoveHeaders)
	if removeScheme {
		k++
	}
	hm, b := s.newMutation(n, size, k)
	if f.Path != "" {
		hm.SetHeaders = append(hm.SetHeaders, b.add(":path", f.Path, false))
	}
	if f.Authority != "" {
		hm.SetHeaders = append(hm.SetHeaders, b.add(":authority", f.Authority, false))
	}
	if scheme != "" {
		hm.SetHeaders = append(hm.SetHeaders, b.add(UpstreamSchemeHeader, scheme, false))
	}
	for _, h := range f.SetHeaders {
		if replaceBody && isContentLength(h.Name) {
			continue
		}
		hm.SetHeaders = append(hm.SetHeaders, b.add(h.Name, h.Value, false))
	}
	for _, h := range f.AddHeaders {
		if replaceBody && isContentLength(h.Name) {
			continue
		}
		hm.SetHeaders = append(hm.SetHeaders, b.add(h.Name, h.Value, true))
	}
	for _, name := range f.RemoveHeaders {
		hm.RemoveHeaders = append(hm.RemoveHeaders, lowername.Lower(name))
	}
	if removeScheme {
		hm.RemoveHeaders = append(hm.RemoveHeaders, UpstreamSchemeHeader)
	}
	return hm
}

// responseMutation turns a Forwarded outcome into the response header
// mutation: removals, sets (append=false), adds (append=true) and :status.
// With replaceBody, content-length sets are dropped as in requestMutation.
func (s *replyStore) responseMutation(o *flowengine.Outcome, replaceBody bool) *extprocv3.HeaderMutation {
	n := len(o.SetHeaders) + len(o.AddHeaders)
	if o.Status != 0 {
		n++
	}
	if n == 0 && len(o.RemoveHeaders) == 0 {
		return nil
	}
	size := 3
	for _, h := range o.SetHeaders {
		size += len(h.Value)
	}
	for _, h := range o.AddHeaders {
		size += len(h.Value)
	}
	hm, b := s.newMutation(n, size, len(o.RemoveHeaders))
	if o.Status != 0 {
		var digits [20]byte
		hm.SetHeaders = append(hm.SetHeaders, b.add(":status", string(strconv.AppendInt(digits[:0], int64(o.Status), 10)), false))
	}
	for _, h := range o.SetHeaders {
		if replaceBody && isContentLength(h.Name) {
			continue
		}
		hm.SetHeaders = append(hm.SetHeaders, b.add(h.Name, h.Value, false))
	}
	for _, h := range o.AddHeaders {
		if replaceBody && isContentLength(h.Name) {
			continue
		}
		hm.SetHeaders = append(hm.SetHeaders, b.add(h.Name, h.Value, true))
	}
	for _, name := range o.RemoveHeaders {
		hm.RemoveHeaders = append(hm.RemoveHeaders, lowername.Lower(name))
	}
	return hm
}

// withContentLength returns hm (allocated when nil) with content-length set
// to n, as a BUFFERED body replacement needs in the same BodyResponse
// (Envoy's ext_proc: content-length after a body mutation; a replaced BUFFERED body needs a matching content-length in the same reply).
func withContentLength(hm *extprocv3.HeaderMutation, n int) *extprocv3.HeaderMutation {
	if hm == nil {
		hm = &extprocv3.HeaderMutation{}
	}
	hm.SetHeaders = append(hm.SetHeaders, headerOption("content-length", strconv.Itoa(n), false))
	return hm
}

// withoutContentLength returns hm (allocated when nil) with content-length
// removed, for CONTINUE_AND_REPLACE body replacements (Envoy's ext_proc: CommonResponse: CONTINUE_AND_REPLACE and the header and body mutations).
func withoutContentLength(hm *extprocv3.HeaderMutation) *extprocv3.HeaderMutation {
	if hm == nil {
		hm = &extprocv3.HeaderMutation{}
	}
	hm.RemoveHeaders = append(hm.RemoveHeaders, "content-length")
	return hm
}

// bodyReplacement is the body_mutation that replaces a body.
func bodyReplacement(b []byte) *extprocv3.BodyMutation {
	if b == nil {
		b = []byte{}
	}
	return &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_Body{Body: b}}
}

// clearBody is the body_mutation that drops a STREAMED chunk.
func clearBody() *extprocv3.BodyMutation {
	return &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_ClearBody{ClearBody: true}}
}

// streamedBody is the FULL_DUPLEX_STREAMED body_mutation carrying b.
func streamedBody(b []byte, eos bool) *extprocv3.BodyMutation {
	return &extprocv3.BodyMutation{Mutation: &extprocv3.BodyMutation_StreamedResponse{
		StreamedResponse: &extprocv3.StreamedBodyResponse{Body: b, EndOfStream: eos},
	}}
}

// headersBlock is a HeadersResponse reply in one allocation.
type headersBlock struct {
	pr  extprocv3.ProcessingResponse
	req extprocv3.ProcessingResponse_RequestHeaders
	rsp extprocv3.ProcessingResponse_ResponseHeaders
	hr  extprocv3.HeadersResponse
	c   extprocv3.CommonResponse
}

// continueHeaders is the CONTINUE HeadersResponse carrying hm (nil for
// none) and clear_route_cache, with the CommonResponse in the same
// allocation as the rest of the reply.
func (s *replyStore) continueHeaders(resp bool, hm *extprocv3.HeaderMutation, clear bool, override *procmodev3.ProcessingMode) *extprocv3.ProcessingResponse {
	r, b := s.newHeadersReply(resp, override)
	b.c.HeaderMutation, b.c.ClearRouteCache = hm, clear
	b.hr.Response = &b.c
	return r
}

// headersReply is a HeadersResponse for the request or response direction.
func (s *replyStore) headersReply(resp bool, c *extprocv3.CommonResponse, override *procmodev3.ProcessingMode) *extprocv3.ProcessingResponse {
	r, b := s.newHeadersReply(resp, override)
	b.hr.Response = c
	return r
}

// newHeadersReply allocates a HeadersResponse reply whose CommonResponse
// is still to be set.
func (s *replyStore) newHeadersReply(resp bool, override *procmodev3.ProcessingMode) (*extprocv3.ProcessingResponse, *headersBlock) {
	b := s.headers()
	b.pr.ModeOverride = override
	if resp {
		b.rsp.ResponseHeaders = &b.hr
		b.pr.Response = &b.rsp
	} else {
		b.req.RequestHeaders = &b.hr
		b.pr.Response = &b.req
	}
	return &b.pr, b
}

// bodyBlock is a BodyResponse reply in one allocation.
type bodyBlock struct {
	pr  extprocv3.ProcessingResponse
	req extprocv3.ProcessingResponse_RequestBody
	rsp extprocv3.ProcessingResponse_ResponseBody
	br  extprocv3.BodyResponse
	c   extprocv3.CommonResponse
}

// bodyReply is a BodyResponse for the request or response direction; a nil
// c is an empty CommonResponse (CONTINUE, unchanged), allocated with the
// reply.
func (s *replyStore) bodyReply(resp bool, c *extprocv3.CommonResponse) *extprocv3.ProcessingResponse {
	b := s.bodyBlock()
	if c == nil {
		c = &b.c
	}
	b.br.Response = c
	if resp {
		b.rsp.ResponseBody = &b.br
		b.pr.Response = &b.rsp
	} else {
		b.req.RequestBody = &b.br
		b.pr.Response = &b.req
	}
	return &b.pr
}

// trailersReply is an empty TrailersResponse for the request or response
// direction.
func trailersReply(resp bool) *extprocv3.ProcessingResponse {
	if resp {
		return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_ResponseTrailers{ResponseTrailers: &extprocv3.TrailersResponse{}}}
	}
	return &extprocv3.ProcessingResponse{Response: &extprocv3.ProcessingResponse_RequestTrailers{RequestTrailers: &extprocv3.TrailersResponse{}}}
}

// immediateBlock is an ImmediateResponse reply in one allocation.
type immediateBlock struct {
	pr     extprocv3.ProcessingResponse
	w      extprocv3.ProcessingResponse_ImmediateResponse
	ir     extprocv3.ImmediateResponse
	status typev3.HttpStatus
}

// immediateReply builds an ImmediateResponse. Envoy uses 200 for a missing
// status or one below 200 (Envoy's ext_proc: an ImmediateResponse status below 200 is sent as 200); status 0 is sent as 200.
func (s *replyStore) immediateReply(status int, set, add []flowengine.Header, body []byte, details string) *extprocv3.ProcessingResponse {
	if status == 0 {
		status = 200
	}
	blk := s.immediate()
	blk.status.Code = typev3.StatusCode(status)
	ir := &blk.ir
	ir.Status, ir.Body, ir.Details = &blk.status, body, details
	if len(set)+len(add) > 0 {
		size := 0
		for _, h := range set {
			size += len(h.Value)
		}
		for _, h := range add {
			size += len(h.Value)
		}
		hm, b := s.newMutation(len(set)+len(add), size, 0)
		for _, h := range set {
			hm.SetHeaders = append(hm.SetHeaders, b.add(h.Name, h.Value, false))
		}
		for _, h := range add {
			hm.SetHeaders = append(hm.SetHeaders, b.add(h.Name, h.Value, true))
		}
		ir.Headers = hm
	}
	blk.w.ImmediateResponse = ir
	blk.pr.Response = &blk.w
	return &blk.pr
}

// details sanitizes an ImmediateResponse details string the way Envoy would
// (whitespace becomes "_"), so logs and Envoy agree.
func details(project string) string {
	if project == "" {
		return "flowproc"
	}
	return "flowproc_" + strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return '_'
		}
		return r
	}, project)
}

// headerValue returns h's value: raw_value, falling back to value for
// Envoys that run with send_header_raw_value=false (Envoy's ext_proc sends
// headers as raw_value, with lower-case keys and pseudo-headers first).
//
// A raw value is not copied: the string shares the received message's
// bytes. That is safe because nothing writes them once the message is
// decoded. reqdecode gives each message a buffer of its own, exactly sized
// and never reused, and caps every value's slice; protobuf-go's Unmarshal
// allocates each bytes field; and flowproc never changes a request message
// it received (TestReceivedMessagesUnchanged). The strings keep the
// message's raw-value bytes alive, as a copy of them would be.
func headerValue(h *corev3.HeaderValue) string {
	if raw := h.GetRawValue(); len(raw) > 0 {
		return unsafe.String(unsafe.SliceData(raw), len(raw))
	}
	return h.GetValue()
}
