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
// keeping key order, appended to out[:0]. It uses the OXN parser, which is
// much cheaper per request than encoding/json; a non-nil arena provides
// the nodes.
func objectMembers(data []byte, arena *oxn.Arena, out []member) ([]member, error) {
	var doc *dom.Node
	var err error
	if arena != nil {
		doc, err = arena.Parse(data, 512)
	} else {
		doc, err = oxn.Parse(data, 512)
	}
	if err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	root := doc.FirstElement()
	if oxn.TypeOf(root) != oxn.Object {
		return nil, errors.New("not a JSON object")
	}
	out = out[:0]
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
// nodes (scalars, arrays) or nested *orderedMap. It holds a few keys, so
// lookups scan a slice.
type orderedMap struct {
	entries []omEntry
}

type omEntry struct {
	key string
	val any
}

func (m *orderedMap) index(k string) int {
	for i := range m.entries {
		if m.entries[i].key == k {
			return i
		}
	}
	return -1
}

func (m *orderedMap) get(k string) any {
	if i := m.index(k); i >= 0 {
		return m.entries[i].val
	}
	return nil
}

func (m *orderedMap) set(k string, v any) {
	if i := m.index(k); i >= 0 {
		m.entries[i].val = v
		return
	}
	if m.entries == nil {
		m.entries = make([]omEntry, 0, 4)
	}
	m.entries = append(m.entries, omEntry{key: k, val: v})
}

func (m *orderedMap) del(k string) {
	if i := m.index(k); i >= 0 {
		m.entries = append(m.entries[:i], m.entries[i+1:]...)
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
			sub, ok := m.get(mem.key).(*orderedMap)
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
	for i, e := range m.entries {
		if i > 0 {
			b.WriteByte(',')
		}
		oxn.WriteString(b, e.key)
		b.WriteByte(':')
		switch v := e.val.(type) {
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
