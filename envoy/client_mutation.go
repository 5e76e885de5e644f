package envoy

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	mutationrulesv3 "github.com/envoyproxy/go-control-plane/envoy/config/common/mutation_rules/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

// hdr is one header entry of a headerMap.
type hdr struct {
	key, value string
}

// headerMap is an ordered header map with Envoy's ordering rules:
// pseudo-headers (":…") before regular headers, insertion order otherwise,
// lower-case keys (Envoy's HeaderMapImpl with LowerCaseString keys).
type headerMap struct {
	entries []hdr
}

func (h *headerMap) clone() *headerMap {
	if h == nil {
		return nil
	}
	return &headerMap{entries: append([]hdr(nil), h.entries...)}
}

// get returns all values of key in order.
func (h *headerMap) get(key string) []string {
	var out []string
	for _, e := range h.entries {
		if e.key == key {
			out = append(out, e.value)
		}
	}
	return out
}

// first returns the first value of key.
func (h *headerMap) first(key string) (string, bool) {
	for _, e := range h.entries {
		if e.key == key {
			return e.value, true
		}
	}
	return "", false
}

func (h *headerMap) has(key string) bool {
	_, ok := h.first(key)
	return ok
}

// remove deletes every entry of key.
func (h *headerMap) remove(key string) {
	out := h.entries[:0]
	for _, e := range h.entries {
		if e.key != key {
			out = append(out, e)
		}
	}
	for i := len(out); i < len(h.entries); i++ {
		h.entries[i] = hdr{}
	}
	h.entries = out
}

// add appends an entry (Envoy addCopy); pseudo-headers go after the last
// pseudo-header.
func (h *headerMap) add(key, value string) {
	if strings.HasPrefix(key, ":") {
		i := 0
		for i < len(h.entries) && strings.HasPrefix(h.entries[i].key, ":") {
			i++
		}
		h.entries = append(h.entries, hdr{})
		copy(h.entries[i+1:], h.entries[i:])
		h.entries[i] = hdr{key, value}
		return
	}
	h.entries = append(h.entries, hdr{key, value})
}

// set replaces every value of key with one entry (Envoy setCopy with
// http_set_copy_replace_all_headers: remove, then add).
func (h *headerMap) set(key, value string) {
	h.remove(key)
	h.add(key, value)
}

// byteSize is the sum of key and value lengths (Envoy HeaderMap::byteSize).
func (h *headerMap) byteSize() int {
	n := 0
	for _, e := range h.entries {
		n += len(e.key) + len(e.value)
	}
	return n
}

// toProto encodes the map as Envoy sends it: raw_value only, every entry in
// order, filtered by the forwarding rules (Envoy's ext_proc: headers are sent as raw_value with lower-case keys, pseudo-headers first).
func (h *headerMap) toProto(canForward func(string) bool) *corev3.HeaderMap {
	out := &corev3.HeaderMap{Headers: make([]*corev3.HeaderValue, 0, len(h.entries))}
	for _, e := range h.entries {
		if canForward != nil && !canForward(e.key) {
			continue
		}
		out.Headers = append(out.Headers, &corev3.HeaderValue{Key: e.key, RawValue: []byte(e.value)})
	}
	return out
}

// regular returns the non-pseudo entries as Headers.
func (h *headerMap) regular() []Header {
	if h == nil {
		return nil
	}
	var out []Header
	for _, e := range h.entries {
		if !strings.HasPrefix(e.key, ":") {
			out = append(out, Header{Name: e.key, Value: e.value})
		}
	}
	return out
}

func headerMapFrom(hs []Header) *headerMap {
	m := &headerMap{}
	for _, h := range hs {
		m.add(lowerASCII(h.Name), h.Value)
	}
	return m
}

// checkOp is a mutation rules operation (Envoy CheckOperation).
type checkOp int

const (
	opSet checkOp = iota
	opAppend
	opRemove
)

// checkResult is the verdict of the mutation rules (Envoy CheckResult).
type checkResult int

const (
	checkOK checkResult = iota
	checkIgnore
	checkFail
)

// mutationChecker is Envoy's Filters::Common::MutationRules::Checker.
type mutationChecker struct {
	rules    *mutationrulesv3.HeaderMutationRules
	allow    *regexp.Regexp
	disallow *regexp.Regexp
}

func newMutationChecker(r *mutationrulesv3.HeaderMutationRules) (*mutationChecker, error) {
	c := &mutationChecker{rules: r}
	if e := r.GetAllowExpression(); e != nil {
		re, err := regexp.Compile(`^(?:` + e.GetRegex() + `)$`)
		if err != nil {
			return nil, fmt.Errorf("mutation_rules.allow_expression: %w", err)
		}
		c.allow = re
	}
	if e := r.GetDisallowExpression(); e != nil {
		re, err := regexp.Compile(`^(?:` + e.GetRegex() + `)$`)
		if err != nil {
			return nil, fmt.Errorf("mutation_rules.disallow_expression: %w", err)
		}
		c.disallow = re
	}
	return c, nil
}

func (c *mutationChecker) check(op checkOp, name, value string) checkResult {
	if c.isAllowed(op, name) && (op == opRemove || isValidValue(name, value)) {
		return checkOK
	}
	if c.rules.GetDisallowIsError().GetValue() {
		return checkFail
	}
	return checkIgnore
}

func (c *mutationChecker) isAllowed(op checkOp, name string) bool {
	if op == opRemove && (strings.HasPrefix(name, ":") || name == "host") {
		return false // never remove host or pseudo-headers
	}
	if c.disallow != nil && c.disallow.MatchString(name) {
		return false
	}
	if c.allow != nil && c.allow.MatchString(name) {
		return true
	}
	if c.rules.GetDisallowAll().GetValue() {
		return false
	}
	if !c.rules.GetAllowAllRouting().GetValue() {
		switch name {
		case "host", ":authority", ":method", ":scheme":
			return false
		}
	}
	if strings.HasPrefix(name, ":") && (op == opAppend || c.rules.GetDisallowSystem().GetValue()) {
		return false
	}
	if !c.rules.GetAllowEnvoy().GetValue() && strings.HasPrefix(name, "x-envoy") {
		return false
	}
	return true
}

// isValidValue is Checker::isValidValue.
func isValidValue(name, value string) bool {
	if !strings.HasPrefix(name, ":") && !headerValueIsValid(value) {
		return false
	}
	switch name {
	case ":authority", "host":
		return authorityIsValid(value)
	case ":scheme":
		return strings.EqualFold(value, "http") || strings.EqualFold(value, "https")
	case ":status":
		n, err := strconv.ParseUint(value, 10, 32)
		return err == nil && n >= 200
	}
	return true
}

// headerValueIsValid rejects NUL, CR and LF (nghttp2_check_header_value).
func headerValueIsValid(v string) bool {
	return !strings.ContainsAny(v, "\x00\r\n")
}

func isTChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// headerNameIsValid is HeaderUtility::headerNameIsValid: HTTP/1 token
// characters (upper case allowed) for regular headers, HTTP/2 rules (lower
// case token) for pseudo-headers.
func headerNameIsValid(k string) bool {
	if k == "" {
		return false
	}
	if k[0] == ':' {
		if len(k) == 1 {
			return false
		}
		for i := 1; i < len(k); i++ {
			c := k[i]
			if (c >= 'A' && c <= 'Z') || !isTChar(c) {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(k); i++ {
		if !isTChar(k[i]) {
			return false
		}
	}
	return true
}

// authorityIsValid accepts the characters nghttp2 allows in :authority.
func authorityIsValid(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-._~!$&'()*+,;=:%@[]", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// mutationError is an error returned by applyHeaderMutations; its message is
// the text Envoy puts (spaces → "_") into the local reply details.
type mutationError struct{ msg string }

func (e *mutationError) Error() string { return e.msg }

// mutationLimits are the HCM header limits the mutations are checked
// against (max_headers_count, max_request_headers_kb).
type mutationLimits struct {
	maxCount int
	maxKB    int
}

// applyHeaderMutations is MutationUtils::applyHeaderMutations, bit for bit
// (Envoy's ext_proc: header mutations: removals first, then sets; raw_value only; append, not append_action): count check, remove_headers first, then set_headers
// (raw_value only, append BoolValue, append_action/keep_empty_value
// ignored), then the result size check. rejected is called once per
// rejected entry. Mutations applied before an error stay applied.
func applyHeaderMutations(m *extprocv3.HeaderMutation, headers *headerMap, replacingMessage bool,
	c *mutationChecker, lim mutationLimits, rejected func(), removeContentLength bool) error {
	rm, set := m.GetRemoveHeaders(), m.GetSetHeaders()
	if len(rm) > lim.maxCount || len(set) > lim.maxCount {
		rejected()
		return &mutationError{fmt.Sprintf("Header mutation remove header count %d or set header count %d exceed the HCM header countlimit %d",
			len(rm), len(set), lim.maxCount)}
	}
	for _, name := range rm {
		if !headerNameIsValid(name) {
			rejected()
			return &mutationError{"Invalid character in remove_headers mutation."}
		}
		lname := lowerASCII(name)
		switch c.check(opRemove, lname, "") {
		case checkOK:
			headers.remove(lname)
		case checkIgnore:
			rejected()
		case checkFail:
			rejected()
			return &mutationError{"Invalid attempt to remove " + lname}
		}
	}
	// The values become strings in one allocation, not one each: the
	// header map keeps them, and a reply sets several.
	values := rawValues(set)
	for _, sh := range set {
		h := sh.GetHeader()
		if h == nil {
			continue
		}
		raw := h.GetRawValue()
		value := values[:len(raw)]
		values = values[len(raw):]
		if removeContentLength && strings.EqualFold(h.GetKey(), "content-length") {
			continue
		}
		if h.GetValue() != "" && len(raw) > 0 {
			rejected()
			return &mutationError{"Only one of value or raw_value in the HeaderValue message should be set."}
		}
		if !headerNameIsValid(h.GetKey()) || !headerValueIsValid(value) {
			rejected()
			return &mutationError{"Invalid character in set_headers mutation."}
		}
		name := lowerASCII(h.GetKey())
		appendOp := sh.GetAppend().GetValue()
		op := opSet
		if appendOp && headers.has(name) {
			op = opAppend
		}
		res := c.check(op, name, value)
		if replacingMessage && name == ":method" {
			res = checkOK
		}
		switch res {
		case checkOK:
			if appendOp {
				headers.add(name, value)
			} else {
				headers.set(name, value)
			}
		case checkIgnore:
			rejected()
		case checkFail:
			rejected()
			return &mutationError{"Invalid attempt to modify " + name}
		}
	}
	if headers.byteSize() > lim.maxKB*1024 || len(headers.entries) > lim.maxCount {
		rejected()
		return &mutationError{fmt.Sprintf("Header mutation causes end result header count %d or header size %d bytes, exceeding the count limit %d or the size limit %d kilobytes",
			len(headers.entries), headers.byteSize(), lim.maxCount, lim.maxKB)}
	}
	return nil
}

// rawValues returns the raw values of set's headers concatenated, in
// order, as one string.
func rawValues(set []*corev3.HeaderValueOption) string {
	n := 0
	for _, sh := range set {
		n += len(sh.GetHeader().GetRawValue())
	}
	if n == 0 {
		return ""
	}
	var b strings.Builder
	b.Grow(n)
	for _, sh := range set {
		b.Write(sh.GetHeader().GetRawValue())
	}
	return b.String()
}

// applyBodyMutation is MutationUtils::applyBodyMutations.
func applyBodyMutation(m *extprocv3.BodyMutation, buf []byte) []byte {
	switch mm := m.GetMutation().(type) {
	case *extprocv3.BodyMutation_ClearBody:
		if mm.ClearBody {
			return []byte{}
		}
	case *extprocv3.BodyMutation_Body:
		return append([]byte{}, mm.Body...)
	}
	return buf
}

// replaceAllEmptySpace is StringUtil::replaceAllEmptySpace: every
// whitespace character becomes '_' (used for %RESPONSE_CODE_DETAILS%).
func replaceAllEmptySpace(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\v', '\f', '\r':
			return '_'
		}
		return r
	}, s)
}
