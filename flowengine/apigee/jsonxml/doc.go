// Package jsonxml converts between JSON and XML as Apigee's XMLToJSON and
// JSONToXML policies do (Apigee docs: JSONToXML, XMLToJSON and XSL), with their options.
// The mapping follows Apigee's policy reference and its option examples
// (docs.apigee.com/api-platform/reference/policies/xml-json-policy and
// json-xml-policy); where the reference is silent the choice is marked
// [inferred] in the option's comment.
//
// Both directions build their output in memory up to a byte limit and
// fail with ErrTooLarge beyond it. XML input is parsed by xmltree, which
// refuses DOCTYPEs, so entities are never expanded; JSON input nesting is
// bounded by MaxDepth.
package jsonxml

import "errors"

// ErrTooLarge is returned when the output would exceed the limit.
var ErrTooLarge = errors.New("conversion output exceeds the size limit")

// MaxDepth bounds the nesting of JSON input.
const MaxDepth = 512

// limitedBuf is an output buffer with a size limit.
type limitedBuf struct {
	b     []byte
	limit int64
	over  bool
}

func (w *limitedBuf) str(s string) {
	if w.over {
		return
	}
	if w.limit > 0 && int64(len(w.b)+len(s)) > w.limit {
		w.over = true
		return
	}
	w.b = append(w.b, s...)
}

func (w *limitedBuf) byte(c byte) { w.str(string(c)) }
