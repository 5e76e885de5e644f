package tracehub

import (
	"strings"
	"unicode/utf8"
)

// Masked is what a masked value reads in a trace.
const Masked = "***"

// defaultMasked are the headers whose values never appear in a trace.
var defaultMasked = []string{"authorization", "proxy-authorization", "cookie", "set-cookie"}

// masker decides which header and variable values a trace hides.
type masker struct {
	headers map[string]bool // lower-case names
}

func newMasker(extra []string) masker {
	m := masker{headers: map[string]bool{}}
	for _, h := range append(append([]string(nil), defaultMasked...), extra...) {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			m.headers[h] = true
		}
	}
	return m
}

// header returns the value a trace shows for header name.
func (m masker) header(name, value string) string {
	if m.headers[strings.ToLower(name)] {
		return Masked
	}
	return text(value)
}

// variable returns the value a trace shows for a variable: Apigee private.*
// variables and variables that hold a masked header (request.header.cookie,
// a FLAT $request/headers/authorization…) are masked.
func (m masker) variable(name, value string) string {
	if strings.HasPrefix(name, "private.") {
		return Masked
	}
	lower := strings.ToLower(name)
	if i := strings.LastIndexAny(lower, "./"); i >= 0 && m.headers[lower[i+1:]] &&
		strings.Contains(lower, "header") {
		return Masked
	}
	return text(value)
}

// text makes s valid UTF-8 (protobuf strings must be).
func text(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
