package oxn

import (
	"fmt"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/flowproc/flowproc/flowengine/dom"
)

// Parse parses the JSON text data (RFC 8259, as accepted by encoding/json)
// into an OXN document: a DocumentNode whose single child is the json
// element. Arrays and objects nested deeper than maxDepth (DefaultMaxDepth
// when maxDepth <= 0) fail with an error wrapping ErrTooDeep; invalid JSON
// fails with an error wrapping ErrSyntax.
//
// Strings are unescaped; invalid UTF-8 and lone surrogates become U+FFFD
// (as encoding/json does). Numbers keep their JSON text. Duplicate keys are
// all kept, in order.
//
// The parser is a single pass over the input that allocates nodes and
// attributes in slabs and slices unescaped strings out of one copy of the
// input, so a parsed tree costs a handful of allocations.
func Parse(data []byte, maxDepth int) (*dom.Node, error) {
	return ParseString(string(data), maxDepth)
}

// ParseString is Parse for JSON text held in a string; the tree's strings
// share s's memory where no unescaping was needed.
func ParseString(s string, maxDepth int) (*dom.Node, error) {
	return parseString(s, maxDepth, nil)
}

// Arena hands out nodes and attributes from blocks shared by every tree
// built through it, so that many small trees (one exchange's template
// outputs, request and upstream data) cost a few allocations in all.
// Memory is never reused: a tree stays valid as long as it is referenced.
// The zero Arena is ready to use; an Arena must not be used concurrently.
type Arena struct {
	nodes []dom.Node
	attrs []dom.Attr
}

// Arena block sizes: the first blocks are small, later ones grow up to
// the parser's slab limits.
const (
	minArenaNodes = 32
	minArenaAttrs = 32
)

// Node returns a zeroed node.
func (a *Arena) Node() *dom.Node {
	return a.node(0)
}

// node returns a zeroed node; hint is how many more nodes are expected.
func (a *Arena) node(hint int) *dom.Node {
	if len(a.nodes) == 0 {
		n := min(max(minArenaNodes, hint, 2*cap(a.nodes)), maxNodeSlab)
		a.nodes = make([]dom.Node, n)
	}
	n := &a.nodes[0]
	a.nodes = a.nodes[1:]
	return n
}

// Attrs returns a zeroed attribute slice of length and capacity n
// (appending to it copies instead of overwriting a neighbour's attributes).
func (a *Arena) Attrs(n int) []dom.Attr {
	return a.attrSlice(n, 0)
}

func (a *Arena) attrSlice(n, hint int) []dom.Attr {
	if len(a.attrs) < n {
		k := min(max(minArenaAttrs, hint, n, 2*cap(a.attrs)), max(n, maxAttrSlab))
		a.attrs = make([]dom.Attr, k)
	}
	s := a.attrs[:n:n]
	a.attrs = a.attrs[n:]
	return s
}

// Parse is the package's Parse with the tree's nodes and attributes taken
// from a; the text is copied, as Parse does.
func (a *Arena) Parse(data []byte, maxDepth int) (*dom.Node, error) {
	return parseString(string(data), maxDepth, a)
}

func parseString(s string, maxDepth int, a *Arena) (*dom.Node, error) {
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	p := parser{s: s, max: maxDepth, arena: a}
	if a == nil {
		p.grow(len(s)/6 + 4)
	}
	doc := p.node()
	doc.Type = dom.DocumentNode
	p.skipWS()
	root := p.value()
	if p.err != nil {
		return nil, p.err
	}
	p.skipWS()
	if p.i < len(p.s) {
		return nil, p.syntax("unexpected data after the top-level value")
	}
	root.Name = RootName
	doc.AppendChild(root)
	return doc, nil
}

type parser struct {
	s     string
	i     int
	depth int
	max   int
	err   error
	nodes []dom.Node
	attrs []dom.Attr
	arena *Arena // when set, nodes and attributes come from it
}

// Slabs stay below 32 KiB so that they come from the per-P allocation
// caches: larger objects take the heap lock, which dominated the cost.
const (
	maxNodeSlab = 256 // 256 * 104 bytes
	maxAttrSlab = 512 // 512 * 32 bytes
)

func (p *parser) grow(n int) {
	if n > maxNodeSlab {
		n = maxNodeSlab
	}
	p.nodes = make([]dom.Node, n)
}

func (p *parser) node() *dom.Node {
	if p.arena != nil {
		return p.arena.node((len(p.s)-p.i)/6 + 16)
	}
	if len(p.nodes) == 0 {
		// Size the next slab from the input still to parse (about one
		// node per 6 bytes of typical JSON).
		n := (len(p.s)-p.i)/6 + 16
		if n > maxNodeSlab {
			n = maxNodeSlab
		}
		p.nodes = make([]dom.Node, n)
	}
	n := &p.nodes[0]
	p.nodes = p.nodes[1:]
	return n
}

// attrSlice returns a zeroed attribute slice of length n whose capacity is n
// (appending copies instead of overwriting a neighbour's attributes).
func (p *parser) attrSlice(n int) []dom.Attr {
	if p.arena != nil {
		return p.arena.attrSlice(n, (len(p.s)-p.i)/12+16)
	}
	if len(p.attrs) < n {
		k := (len(p.s)-p.i)/12 + 16
		if k > maxAttrSlab {
			k = maxAttrSlab
		}
		p.attrs = make([]dom.Attr, k)
	}
	a := p.attrs[:n:n]
	p.attrs = p.attrs[n:]
	return a
}

func (p *parser) syntax(msg string) error {
	if p.err == nil {
		p.err = fmt.Errorf("%w: %s at offset %d", ErrSyntax, msg, p.i)
	}
	return p.err
}

func (p *parser) skipWS() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// elem returns a new element typed t (name set by the caller).
func (p *parser) elem(t Type) *dom.Node {
	n := p.node()
	n.Type = dom.ElementNode
	n.Attrs = typeAttrs(t)
	return n
}

// sharedTypeAttrs back the type attribute of every parsed element: the
// attribute never changes (dom.Node.SetAttr copies before it writes), so
// one array per type saves an attribute per node.
var sharedTypeAttrs = [...][1]dom.Attr{
	Object: {{Name: "object"}}, Array: {{Name: "array"}}, String: {{Name: "string"}},
	Number: {{Name: "number"}}, Boolean: {{Name: "boolean"}}, Null: {{Name: "null"}},
}

// typeAttrs returns the shared attribute slice of type t; its capacity is
// 1, so appending to it copies.
func typeAttrs(t Type) []dom.Attr { return sharedTypeAttrs[t][:1:1] }

func (p *parser) text(parent *dom.Node, s string) {
	if s == "" {
		return
	}
	t := p.node()
	t.Type = dom.TextNode
	t.Data = s
	parent.AppendChild(t)
}

// value parses one JSON value at p.i (whitespace already skipped) and
// returns its element, unnamed. On error it sets p.err and returns nil.
func (p *parser) value() *dom.Node {
	if p.i >= len(p.s) {
		p.syntax("unexpected end of input")
		return nil
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		s, ok := p.str()
		if !ok {
			return nil
		}
		n := p.elem(String)
		p.text(n, s)
		return n
	case c == '-' || (c >= '0' && c <= '9'):
		s, ok := p.number()
		if !ok {
			return nil
		}
		n := p.elem(Number)
		p.text(n, s)
		return n
	case c == 't':
		if !p.literal("true") {
			return nil
		}
		n := p.elem(Boolean)
		p.text(n, "true")
		return n
	case c == 'f':
		if !p.literal("false") {
			return nil
		}
		n := p.elem(Boolean)
		p.text(n, "false")
		return n
	case c == 'n':
		if !p.literal("null") {
			return nil
		}
		return p.elem(Null)
	}
	p.syntax(fmt.Sprintf("invalid character %q looking for a value", p.s[p.i]))
	return nil
}

func (p *parser) literal(lit string) bool {
	if len(p.s)-p.i >= len(lit) && p.s[p.i:p.i+len(lit)] == lit {
		p.i += len(lit)
		return true
	}
	p.syntax("invalid literal")
	return false
}

func (p *parser) enter() bool {
	p.depth++
	if p.depth > p.max {
		if p.err == nil {
			p.err = fmt.Errorf("oxn: nesting deeper than %d at offset %d: %w", p.max, p.i, ErrTooDeep)
		}
		return false
	}
	return true
}

func (p *parser) object() *dom.Node {
	if !p.enter() {
		return nil
	}
	n := p.elem(Object)
	p.i++ // '{'
	p.skipWS()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		p.depth--
		return n
	}
	for {
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			p.syntax("expected a string key")
			return nil
		}
		key, ok := p.str()
		if !ok {
			return nil
		}
		p.skipWS()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			p.syntax("expected ':' after a key")
			return nil
		}
		p.i++
		p.skipWS()
		v := p.value()
		if v == nil {
			return nil
		}
		if IsXMLName(key) {
			v.Name = key
		} else {
			v.Name = KeyElementName
			a := p.attrSlice(2)
			a[0] = dom.Attr{Name: KeyAttr, Value: key}
			a[1] = v.Attrs[0]
			v.Attrs = a
		}
		n.AppendChild(v)
		p.skipWS()
		if p.i >= len(p.s) {
			p.syntax("unexpected end of input in an object")
			return nil
		}
		switch p.s[p.i] {
		case ',':
			p.i++
			p.skipWS()
		case '}':
			p.i++
			p.depth--
			return n
		default:
			p.syntax("expected ',' or '}' in an object")
			return nil
		}
	}
}

func (p *parser) array() *dom.Node {
	if !p.enter() {
		return nil
	}
	n := p.elem(Array)
	p.i++ // '['
	p.skipWS()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		p.depth--
		return n
	}
	for {
		v := p.value()
		if v == nil {
			return nil
		}
		v.Name = ValueName
		n.AppendChild(v)
		p.skipWS()
		if p.i >= len(p.s) {
			p.syntax("unexpected end of input in an array")
			return nil
		}
		switch p.s[p.i] {
		case ',':
			p.i++
			p.skipWS()
		case ']':
			p.i++
			p.depth--
			return n
		default:
			p.syntax("expected ',' or ']' in an array")
			return nil
		}
	}
}

// number scans a JSON number and returns its text.
func (p *parser) number() (string, bool) {
	start := p.i
	end, why := scanNumber(p.s, p.i)
	p.i = end
	if why != "" {
		p.syntax(why)
		return "", false
	}
	return p.s[start:end], true
}

// scanNumber scans the JSON number at s[i] and returns the index after it,
// or the index where it stops being one and why.
func scanNumber[T ~string | ~[]byte](s T, i int) (end int, why string) {
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return i, "invalid number"
	}
	if i < len(s) && s[i] == '.' {
		i++
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return i, "invalid number: no digits after '.'"
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return i, "invalid number: no digits in the exponent"
		}
	}
	return i, ""
}

// str scans a JSON string starting at the opening quote and returns its
// unescaped value.
func (p *parser) str() (string, bool) {
	s := p.s
	i := p.i + 1
	start := i
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			p.i = i + 1
			return s[start:i], true
		case c == '\\' || c >= utf8.RuneSelf:
			return p.strSlow(start, i)
		case c < 0x20:
			p.i = i
			p.syntax("control character in a string")
			return "", false
		}
		i++
	}
	p.i = i
	p.syntax("unterminated string")
	return "", false
}

// strSlow continues a string that needs unescaping or UTF-8 checks; i is
// the first byte that is not plain ASCII.
func (p *parser) strSlow(start, i int) (string, bool) {
	s := p.s
	// Check whether only valid UTF-8 (no escapes) follows: then the
	// string is still a plain substring.
	j := i
	for j < len(s) {
		c := s[j]
		if c == '"' {
			p.i = j + 1
			return s[start:j], true
		}
		if c == '\\' || c < 0x20 {
			break
		}
		if c < utf8.RuneSelf {
			j++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[j:])
		if r == utf8.RuneError && size == 1 {
			break
		}
		j += size
	}
	buf := make([]byte, 0, j-start+16)
	buf = append(buf, s[start:i]...)
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			p.i = i + 1
			return string(buf), true
		case c < 0x20:
			p.i = i
			p.syntax("control character in a string")
			return "", false
		case c == '\\':
			if i+1 >= len(s) {
				p.i = i
				p.syntax("unterminated escape")
				return "", false
			}
			e := s[i+1]
			i += 2
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := hex4(s, i)
				if !ok {
					p.i = i
					p.syntax("invalid \\u escape")
					return "", false
				}
				i += 4
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
						if x, ok := hex4(s, i+2); ok {
							r2 = x
						}
					}
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						r = d
						i += 6
					} else {
						r = utf8.RuneError
					}
				}
				buf = utf8.AppendRune(buf, r)
			default:
				p.i = i - 1
				p.syntax("invalid escape character")
				return "", false
			}
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				buf = append(buf, "\uFFFD"...)
			} else {
				buf = append(buf, s[i:i+size]...)
			}
			i += size
		}
	}
	p.i = i
	p.syntax("unterminated string")
	return "", false
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
