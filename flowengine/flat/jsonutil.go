package flat

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// member is one key of a JSON object in document order: element i of a
// parsed JSON text held as a compact, pointer-free oxn.Tree. Keys, types,
// scalar values and JSON are read from the tree; a *dom.Node is built only
// when a consumer really needs one (dom).
type member struct {
	key string
	t   *oxn.Tree
	i   int32
}

// objectMembers parses a JSON object (template output) into its members,
// keeping key order, appended to out[:0]. It uses the OXN tree parser
// (same syntax, limits and errors as oxn.Parse), which copies data once and
// builds no *dom.Node, so data may be scratch space; a non-nil arena
// provides the trees.
func objectMembers(data []byte, arena *oxn.TreeArena, out []member) ([]member, error) {
	t, err := parseTree(data, arena, objectDepth)
	return treeMembers(t, err, out)
}

// objectDepth is how deeply the JSON objects actions read from template
// output may nest.
const objectDepth = 512

// treeMembers is objectMembers for output already parsed (or built) into
// t; notJSON is the error parsing it gave instead.
func treeMembers(t *oxn.Tree, notJSON error, out []member) ([]member, error) {
	if notJSON != nil {
		return nil, fmt.Errorf("not JSON: %w", notJSON)
	}
	if t.TypeAt(0) != oxn.Object {
		return nil, errors.New("not a JSON object")
	}
	return member{t: t}.children(out[:0]), nil
}

// parseTree parses data into a Tree, from arena when it is not nil.
func parseTree(data []byte, arena *oxn.TreeArena, maxDepth int) (*oxn.Tree, error) {
	if arena != nil {
		return arena.ParseTree(data, maxDepth)
	}
	return oxn.ParseTree(data, maxDepth)
}

// typ returns m's JSON type.
func (m member) typ() oxn.Type { return m.t.TypeAt(m.i) }

// scalar renders m as header text like scalarString: strings as they are,
// numbers and booleans as written. ok is false for null, objects, arrays.
func (m member) scalar() (string, bool) {
	t := m.t
	switch t.TypeAt(m.i) {
	case oxn.String, oxn.Number, oxn.Boolean:
		return t.StringValue(m.i), true
	}
	return "", false
}

// stringValue returns m's XPath string-value (the concatenated text of an
// object or array).
func (m member) stringValue() string { return m.t.StringValue(m.i) }

// children appends the child elements of m (the members of an object, the
// items of an array) to out, with their keys ("value" for array items, as
// oxn.Key reports them).
func (m member) children(out []member) []member {
	t := m.t
	n := 0
	for c := t.FirstChild(m.i); c != oxn.NoIndex; c = t.Next(c) {
		n++
	}
	out = slices.Grow(out, n) // one allocation, not one per doubling
	for c := t.FirstChild(m.i); c != oxn.NoIndex; c = t.Next(c) {
		out = append(out, member{key: t.Key(c), t: m.t, i: c})
	}
	return out
}

// hasChildren reports whether m has child elements.
func (m member) hasChildren() bool { return m.t.FirstChild(m.i) != oxn.NoIndex }

// child returns the first child element named name (as dom.Node.Child
// finds it: by element name, so a json-element key never matches).
func (m member) child(name string) (member, bool) {
	t := m.t
	for c := t.FirstChild(m.i); c != oxn.NoIndex; c = t.Next(c) {
		if t.Name(c) == name {
			return member{key: t.Key(c), t: m.t, i: c}, true
		}
	}
	return member{}, false
}

// writeJSON writes m as compact JSON, as oxn.Write writes its node.
func (m member) writeJSON(b *bytes.Buffer) error { return m.t.WriteJSON(b, m.i) }

// dom returns m's *dom.Node: it materialises the whole parsed text, on
// every call, so callers that need the node more than once keep it. The
// common actions never call it: it is for error's extra members, proxy
// options and set-env's non-scalars.
func (m member) dom() *dom.Node {
	n := int32(0)
	var found *dom.Node
	// Tree indexes number the elements in document order.
	var walk func(e *dom.Node)
	walk = func(e *dom.Node) {
		for c := e.FirstChild; c != nil && found == nil; c = c.NextSibling {
			if c.Type != dom.ElementNode {
				continue
			}
			if n == m.i {
				found = c
				return
			}
			n++
			walk(c)
		}
	}
	walk(m.t.Materialize())
	return found
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

// orderedMap is a JSON object that keeps insertion order; values are
// members of parsed template output (scalars, arrays) or nested
// *orderedMap. It holds a few keys, so lookups scan a slice.
type orderedMap struct {
	entries []omEntry
}

// omEntry is one key of an orderedMap: sub for a nested object, else val.
type omEntry struct {
	key string
	sub *orderedMap
	val member
}

func (m *orderedMap) index(k string) int {
	for i := range m.entries {
		if m.entries[i].key == k {
			return i
		}
	}
	return -1
}

func (m *orderedMap) set(e omEntry) {
	if i := m.index(e.key); i >= 0 {
		m.entries[i] = e
		return
	}
	if m.entries == nil {
		m.entries = make([]omEntry, 0, 4)
	}
	m.entries = append(m.entries, e)
}

func (m *orderedMap) del(k string) {
	if i := m.index(k); i >= 0 {
		m.entries = append(m.entries[:i], m.entries[i+1:]...)
	}
}

// merge merges the members of a JSON object into m: nested objects merge,
// null deletes, anything else overwrites.
func (m *orderedMap) merge(ms []member) {
	for _, mem := range ms {
		switch mem.typ() {
		case oxn.Null:
			m.del(mem.key)
		case oxn.Object:
			var sub *orderedMap
			if i := m.index(mem.key); i >= 0 {
				sub = m.entries[i].sub
			}
			if sub == nil {
				sub = &orderedMap{}
			}
			sub.merge(mem.children(nil))
			m.set(omEntry{key: mem.key, sub: sub})
		default:
			m.set(omEntry{key: mem.key, val: mem})
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
		if e.sub != nil {
			e.sub.write(b)
			continue
		}
		// Parsed JSON always writes; should it not, the value is null
		// rather than half a value.
		n := b.Len()
		if err := e.val.writeJSON(b); err != nil {
			b.Truncate(n)
			b.WriteString("null")
		}
	}
	b.WriteByte('}')
}

func itoa(n int) string { return strconv.Itoa(n) }
