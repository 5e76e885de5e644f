package flat

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/oxn"
	"github.com/flowproc/flowproc/flowengine/xmlsrc"
)

func init() {
	registerAction("error", &actionSpec{attrs: []string{"in", "src", "status"}, compile: compileError})
}

// errorAction is <error status>{…}</error>: it ends the flow and runs the
// error flow, or answers FLAT's system error document.
type errorAction struct {
	t      *tmpl
	in     input
	status value
}

func compileError(c *compiler, f *Flow, e *xmlsrc.Element) action {
	a := &errorAction{in: c.input(f, e), t: c.template(f, e, false)}
	if s, ok := e.Attr("status"); ok {
		a.status = c.statusValue(f, s)
	}
	return a
}

func (a *errorAction) Run(r *run, s *step) (ctrl, error) {
	fe := &flowError{status: 500, code: 5000, message: "FlowError", info: []string{"Flow Error triggered"}}
	var obj []member
	if a.t != nil {
		out, err := r.render(a.t, a.in)
		if err != nil {
			return ctrlNext, err
		}
		out = bytes.TrimSpace(out)
		if len(out) > 0 {
			t, err := parseTree(out, &r.slab.objects().trees, r.p.opts.maxDepth())
			if err != nil {
				return ctrlNext, fmt.Errorf("%s:%d: error: body is not JSON: %w", s.At.File, s.At.Line, err)
			}
			root := member{t: t}
			switch root.typ() {
			case oxn.String:
				fe.message = root.stringValue()
			case oxn.Object:
				obj = root.children(nil)
			default:
				return ctrlNext, fmt.Errorf("%s:%d: error: body must be a JSON object or string", s.At.File, s.At.Line)
			}
		}
	}
	for _, m := range obj {
		switch m.key {
		case "message":
			if v, ok := m.scalar(); ok {
				fe.message = v
			}
		case "status":
			if v, ok := m.scalar(); ok {
				if n, err := strconv.Atoi(v); err == nil && n >= 100 && n <= 599 {
					fe.status = n
				}
			}
		case "code":
			if v, ok := m.scalar(); ok {
				if n, err := strconv.Atoi(v); err == nil && n >= 0 && n <= 9999 {
					fe.code = n
				}
			}
		case "info":
			if m.typ() == oxn.Array {
				fe.info = fe.info[:0]
				for _, it := range m.children(nil) {
					fe.info = append(fe.info, it.stringValue())
				}
			} else if v, ok := m.scalar(); ok {
				fe.info = []string{v}
			}
		}
	}
	if !a.status.empty() {
		st, err := a.status.eval(r)
		if err != nil {
			return ctrlNext, err
		}
		if n, err := strconv.Atoi(st); err == nil && n >= 100 && n <= 599 {
			fe.status = n
		}
	}
	fe.extra = errorObject(fe, obj, r.x.ID)
	r.p.logger().Warn("flat_alert", "type", "flat_alert", "topic", "error", "requestID", r.x.ID, "message", fe.message)
	return ctrlNext, fe
}

// errorObject builds $error: the defaults (message, status, requestID,
// info, code) then the extra properties the flow gave.
func errorObject(fe *flowError, extra []member, requestID string) *dom.Node {
	n := oxn.NewObject("error")
	n.AppendChild(oxn.NewString("message", fe.message))
	n.AppendChild(oxn.NewNumber("status", float64(fe.status)))
	n.AppendChild(oxn.NewString("requestID", requestID))
	info := oxn.NewArray("info")
	for _, s := range fe.info {
		info.AppendChild(oxn.NewString("value", s))
	}
	n.AppendChild(info)
	n.AppendChild(oxn.NewNumber("code", float64(fe.code)))
	for _, m := range extra {
		switch m.key {
		case "message", "status", "requestID", "info", "code":
			continue
		}
		oxn.AddMember(n, m.key, m.dom().Clone())
	}
	return n
}
