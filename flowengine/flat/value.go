package flat

import (
	"bytes"

	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// renderValue serializes a variable's value the way FLAT shows it (dump,
// debug, traces): a JSON (OXN) node as JSON, another element as XML, a
// string or number as text.
func renderValue(v expr.Value) (body []byte, mime string) {
	switch t := v.(type) {
	case expr.NodeSet:
		if len(t) == 0 {
			return nil, "text/plain"
		}
		n := t[0]
		if n.Type == dom.DocumentNode {
			if e := n.FirstElement(); e != nil {
				n = e
			}
		}
		if n.Type != dom.ElementNode {
			return []byte(n.StringValue()), "text/plain"
		}
		var b bytes.Buffer
		if oxn.TypeOf(n) != oxn.Untyped {
			if err := oxn.Write(&b, n); err == nil {
				return b.Bytes(), "application/json"
			}
			b.Reset()
		}
		dom.WriteXML(&b, n)
		return b.Bytes(), "application/xml"
	case nil:
		return nil, "text/plain"
	}
	return []byte(expr.String(v)), "text/plain"
}

// nodeSetOf wraps a node as a variable value (nil → empty node-set).
func nodeSetOf(n *dom.Node) expr.Value {
	if n == nil {
		return expr.NodeSet(nil)
	}
	return expr.NodeSet{n}
}
