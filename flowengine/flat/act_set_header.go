package flat

import (
	"strings"

	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/xmlsrc"
)

// <set-header name value/> is FIT's legacy form of set-response-headers,
// undocumented in FLAT but used by flat-cli's own test app
// (FLAT docs: actions, "FIT legacy"): it sets one response header; the
// name Status sets the status instead.

func init() {
	registerAction("set-header", &actionSpec{attrs: []string{"name", "value"}, compile: compileSetHeader})
}

type setHeaderAction struct {
	name  string
	value value
}

func compileSetHeader(c *compiler, f *Flow, e *xmlsrc.Element) action {
	n, ok := c.requireAttr(f, e, "name")
	if !ok {
		return nil
	}
	if !validHeaderName(n.Value) {
		c.errf(f, n.Line, n.Col, diag.BadAttribute, "name=%q is not a header name", n.Value)
		return nil
	}
	v, ok := c.requireAttr(f, e, "value")
	if !ok {
		return nil
	}
	a := &setHeaderAction{name: n.Value, value: c.value(f, v)}
	if strings.EqualFold(a.name, "status") {
		a.value = c.statusValue(f, v)
	}
	return a
}

func (a *setHeaderAction) Run(r *run, _ *step) (ctrl, error) {
	if strings.EqualFold(a.name, "status") {
		return ctrlNext, r.applyStatus(a.value)
	}
	v, err := a.value.eval(r)
	if err != nil {
		return ctrlNext, err
	}
	if err := checkHeaderValue(v); err != nil {
		return ctrlNext, err
	}
	r.setResponseHeader(a.name, v)
	return ctrlNext, nil
}
