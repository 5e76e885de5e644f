package flat

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// member is one key of a JSON object in document order; node is its OXN
// element.
type member struct {
	key  string
	node *dom.Node
}

// objectMembers parses a JSON object (template output) into its members,
// keeping key order. It uses the OXN parser, which is much cheaper per
// request than encoding/json.
func objectMembers(data []byte) ([]member, error) {
	doc, err := oxn.Parse(data, 512)
	if err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	root := doc.FirstElement()
	if oxn.TypeOf(root) != oxn.Object {
		return nil, errors.New("not a JSON object")
	}
	var out []member
	for c := root.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == dom.ElementNode {
			out = append(out, member{key: oxn.Key(c), node: c})
		}
	}
	return out, nil
}

// scalarString renders a JSON scalar as header text: strings as they are,
// numbers and booleans as written. ok is false for null, objects, arrays.
func scalarString(n *dom.Node) (string, bool) {
	switch oxn.TypeOf(n) {
	case oxn.String, oxn.Number, oxn.Boolean:
		return n.StringValue(), true
	}
	return "", false
}

// items returns the elements of a JSON array node.
func items(n *dom.Node) []*dom.Node {
	var out []*dom.Node
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == dom.ElementNode {
			out = append(out, c)
		}
	}
	return out
}

// orderedMap is a JSON object that keeps insertion order; values are OXN
// nodes (scalars, arrays) or nested *orderedMap.
type orderedMap struct {
	keys []string
	vals map[string]any
}

func (m *orderedMap) set(k string, v any) {
	if m.vals == nil {
		m.vals = map[string]any{}
	}
	if _, ok := m.vals[k]; !ok {
		m.keys = append(m.keys, k)
	}
	m.vals[k] = v
}

func (m *orderedMap) del(k string) {
	if _, ok := m.vals[k]; !ok {
		return
	}
	delete(m.vals, k)
	for i, key := range m.keys {
		if key == k {
			m.keys = append(m.keys[:i], m.keys[i+1:]...)
			break
		}
	}
}

// merge merges the members of an OXN object into m: nested objects merge,
// null deletes, anything else overwrites.
func (m *orderedMap) merge(ms []member) {
	for _, mem := range ms {
		switch oxn.TypeOf(mem.node) {
		case oxn.Null:
			m.del(mem.key)
		case oxn.Object:
			sub, ok := m.vals[mem.key].(*orderedMap)
			if !ok {
				sub = &orderedMap{}
			}
			var subs []member
			for c := mem.node.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == dom.ElementNode {
					subs = append(subs, member{key: oxn.Key(c), node: c})
				}
			}
			sub.merge(subs)
			m.set(mem.key, sub)
		default:
			m.set(mem.key, mem.node)
		}
	}
}

func (m *orderedMap) write(b *bytes.Buffer) {
	b.WriteByte('{')
	for i, k := range m.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(b, k)
		b.WriteByte(':')
		switch v := m.vals[k].(type) {
		case *orderedMap:
			v.write(b)
		case *dom.Node:
			if err := oxn.Write(b, v); err != nil {
				b.WriteString("null")
			}
		}
	}
	b.WriteByte('}')
}

func itoa(n int) string { return strconv.Itoa(n) }
