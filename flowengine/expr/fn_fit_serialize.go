package expr

import (
	"bytes"
	"strings"

	"github.com/flowproc/flowproc/flowengine/dom"
)

// fit-serialize(arg [, pretty]) returns a readable string of arg: a
// scalar as its string; a node-set as the XML of each node in turn (a
// document node with an XML declaration first), "" for an empty one. With
// pretty (the default), elements are indented by two spaces per level and
// whitespace-only text between elements is dropped; elements with text
// mixed into their content are written as they are. Without pretty the
// nodes are written unchanged. Attribute nodes are written as name="value".
func init() {
	Register(&Func{Name: "fit-serialize", MinArgs: 1, MaxArgs: 2, Call: fitSerialize})
}

func fitSerialize(c *Context, args []Value) (Value, error) {
	ns, ok := args[0].(NodeSet)
	if !ok {
		return String(args[0]), nil
	}
	pretty := argBool(args, 1, true)
	var b bytes.Buffer
	for i, n := range ns {
		if err := loopCheck(c, i); err != nil {
			return nil, err
		}
		if i > 0 && pretty {
			b.WriteByte('\n')
		}
		serializeNode(&b, n, pretty)
	}
	return output(c, b.String())
}

func serializeNode(b *bytes.Buffer, n *dom.Node, pretty bool) {
	switch n.Type {
	case dom.DocumentNode:
		b.WriteString("<?xml version=\"1.0\"?>\n")
		first := true
		for k := n.FirstChild; k != nil; k = k.NextSibling {
			if pretty && k.Type == dom.TextNode && strings.TrimSpace(k.Data) == "" {
				continue
			}
			if !first && pretty {
				b.WriteByte('\n')
			}
			first = false
			writeNodeXML(b, k, pretty, 0)
		}
	case dom.TextNode:
		if n.Name != "" { // an attribute
			b.WriteString(n.Name + `="`)
			dom.EscapeXML(b, n.Data, true)
			b.WriteByte('"')
			return
		}
		dom.EscapeXML(b, n.Data, false)
	default:
		writeNodeXML(b, n, pretty, 0)
	}
}

// writeNodeXML writes n; pretty indents element-only content.
func writeNodeXML(b *bytes.Buffer, n *dom.Node, pretty bool, depth int) {
	if n.Type == dom.TextNode {
		dom.EscapeXML(b, n.Data, false)
		return
	}
	b.WriteByte('<')
	b.WriteString(n.Name)
	for _, a := range n.Attrs {
		b.WriteString(" " + a.Name + `="`)
		dom.EscapeXML(b, a.Value, true)
		b.WriteByte('"')
	}
	if n.FirstChild == nil {
		b.WriteString("/>")
		return
	}
	b.WriteByte('>')
	indent := pretty && n.HasElementChildren()
	if indent {
		for k := n.FirstChild; k != nil; k = k.NextSibling {
			if k.Type == dom.TextNode && strings.TrimSpace(k.Data) != "" {
				indent = false // mixed content: keep as is
				break
			}
		}
	}
	for k := n.FirstChild; k != nil; k = k.NextSibling {
		if indent {
			if k.Type == dom.TextNode {
				continue
			}
			b.WriteByte('\n')
			b.WriteString(strings.Repeat("  ", depth+1))
		}
		writeNodeXML(b, k, indent, depth+1)
	}
	if indent {
		b.WriteByte('\n')
		b.WriteString(strings.Repeat("  ", depth))
	}
	b.WriteString("</" + n.Name + ">")
}
