package flat

import (
	"github.com/flowproc/flowproc/flowengine/oxn"
	"github.com/flowproc/flowproc/flowengine/template"
)

// proxyPlan is a templated proxy-request body whose every value is the
// value of a member of its "headers" object, as in
//
//	{ "origin": "http://upstream", "headers": { "X-Request-Id": {{ $request/id }} } }
//
// Everything but those values is the same on every request, so it is read
// and checked once, at load: spec is the body with each value null. A run
// reads only the values (template.Template.ExecuteValues, without a tree
// when the scope answers them directly) and puts each into its header:
// header[k] is the index in spec.headers of the k-th value.
type proxyPlan struct {
	spec   *proxySpec
	header []int
}

// newProxyPlan returns t's plan, or nil when t's values are not all
// header values read as single expressions, or its constant parts do not
// make a valid spec (the template's way then fails as it always did).
func newProxyPlan(t *template.Template) *proxyPlan {
	if !t.HasDirectValues() {
		return nil
	}
	els := t.Elements()
	headers := -1
	for i, el := range els {
		if el.Parent == 0 && el.Key == "headers" {
			if headers >= 0 || el.Type != oxn.Object {
				return nil // given twice (read appends both), or not an object
			}
			headers = i
		}
	}
	var b oxn.TreeBuilder
	b.Reset("", len(els), 0)
	idx := make([]int32, len(els))
	p := &proxyPlan{}
	n := 0 // members of "headers" so far
	for i := 1; i < len(els); i++ {
		el := els[i]
		parent := idx[el.Parent]
		switch {
		case el.Value:
			if el.Parent != headers {
				return nil
			}
			idx[i] = b.Scalar(parent, el.Key, oxn.Null, "")
			p.header = append(p.header, n)
		case el.Type == oxn.Object:
			idx[i] = b.Object(parent, el.Key)
		case el.Type == oxn.Array:
			idx[i] = b.Array(parent, el.Key)
		default:
			idx[i] = b.Scalar(parent, el.Key, el.Type, el.Text)
		}
		if el.Parent == headers {
			n++
		}
	}
	p.spec = &proxySpec{}
	if err := p.spec.read(member{t: b.Tree()}.children(nil), nil); err != nil {
		return nil
	}
	return p
}

// fill returns the run's spec: the plan's with the values fs
// (ExecuteValues' fields) in their headers, in the run's scratch o.
func (p *proxyPlan) fill(o *objScratch, fs []template.Field) *proxySpec {
	if o.proxy == nil {
		o.proxy = &proxySpec{}
	}
	spec := o.proxy
	hs := append(spec.headers[:0], p.spec.headers...)
	*spec = *p.spec
	spec.headers = hs
	for k, f := range fs {
		h := &hs[p.header[k]]
		h.value, h.set = f.Text, f.Type != oxn.Null && f.Text != ""
	}
	return spec
}
