package jsonxml

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/flowproc/flowproc/flowengine/apigee/xmltree"
)

// XMLOptions are XMLToJSON's <Options> (or a <Format> preset).
type XMLOptions struct {
	// RecognizeNumber turns text that is a JSON number into a number.
	RecognizeNumber bool
	// RecognizeBoolean turns "true"/"false" into booleans.
	RecognizeBoolean bool
	// RecognizeNull turns empty elements, and elements whose text is
	// NullValue, into null [inferred: Apigee documents "convert empty
	// values to null"]. Without it an empty element is {}.
	RecognizeNull bool
	// NullValue is text that means null when RecognizeNull is set ("":
	// only empty elements).
	NullValue string
	// NamespaceBlockName, when set, adds each element's namespace
	// declarations as an object member of that name, keyed by prefix
	// (DefaultNamespaceNodeName for the default namespace, "$" when unset).
	NamespaceBlockName       string
	DefaultNamespaceNodeName string
	// NamespaceSeparator, when set, names prefixed elements and attributes
	// prefix+NamespaceSeparator+local; otherwise prefixes are dropped.
	NamespaceSeparator string
	// TextAlwaysAsProperty puts even a text-only element's text under
	// TextNodeName.
	TextAlwaysAsProperty bool
	// TextNodeName names the text of an element that also has attributes
	// or child elements; several text pieces become an array. When it is
	// empty such text is dropped, as Apigee's reference shows.
	TextNodeName string
	// AttributeBlockName, when set, groups an element's attributes in an
	// object member of that name.
	AttributeBlockName string
	// AttributePrefix is prepended to attribute names.
	AttributePrefix string
	// OutputPrefix and OutputSuffix are written around the JSON text.
	OutputPrefix, OutputSuffix string
	// StripLevels removes that many single-member wrapper levels from the
	// top of the result.
	StripLevels int
	// TreatAsArray are element paths always converted to arrays.
	TreatAsArray []ArrayPath
	// Indent pretty-prints the JSON with two-space indentation.
	Indent bool
}

// ArrayPath is a TreatAsArray <Path>: element names from the root
// ("a/b/c"). Unwrap replaces the parent's value by the array itself.
type ArrayPath struct {
	Names  []string
	Unwrap bool
}

// ParseArrayPath reads a TreatAsArray path ("/a/b/c" or "a/b/c").
func ParseArrayPath(s string, unwrap bool) (ArrayPath, error) {
	s = strings.Trim(strings.TrimSpace(s), "/")
	if s == "" {
		return ArrayPath{}, fmt.Errorf("empty path")
	}
	names := strings.Split(s, "/")
	for _, n := range names {
		if n == "" || strings.ContainsAny(n, "[]*@()") {
			return ArrayPath{}, fmt.Errorf("path %q: want plain element names separated by /", s)
		}
	}
	return ArrayPath{Names: names, Unwrap: unwrap}, nil
}

// XMLFormat returns the options of a <Format> preset: "xml.com",
// "yahoo", "google" or "badgerFish" [mem: the presets' option tables in
// Apigee's XMLToJSON reference].
func XMLFormat(name string) (XMLOptions, bool) {
	switch name {
	case "xml.com":
		return XMLOptions{RecognizeNull: true, TextNodeName: "#text", AttributePrefix: "@"}, true
	case "yahoo":
		return XMLOptions{RecognizeNumber: true, TextNodeName: "content"}, true
	case "google":
		return XMLOptions{TextNodeName: "$t", NamespaceSeparator: "$", TextAlwaysAsProperty: true}, true
	case "badgerFish":
		return XMLOptions{TextNodeName: "$", TextAlwaysAsProperty: true, AttributePrefix: "@", NamespaceSeparator: ":", NamespaceBlockName: "@xmlns", DefaultNamespaceNodeName: "$"}, true
	}
	return XMLOptions{}, false
}

// jv is an ordered JSON value.
type jv struct {
	kind byte // 's' string, 'n' number, 'b' bool, 'z' null, 'o' object, 'a' array
	s    string
	keys []string
	vals []*jv
}

func (v *jv) set(k string, x *jv) {
	for i, kk := range v.keys {
		if kk == k {
			v.vals[i] = x
			return
		}
	}
	v.keys = append(v.keys, k)
	v.vals = append(v.vals, x)
}

// XMLToJSON converts an XML document to JSON text of at most limit bytes
// (0: no limit).
func XMLToJSON(xmlText []byte, o *XMLOptions, limit int64) ([]byte, error) {
	doc, err := xmltree.Parse(xmlText, 0)
	if err != nil {
		return nil, xmlError(xmlText, err)
	}
	root := doc.Root()
	c := &x2j{o: o}
	top := &jv{kind: 'o'}
	top.set(c.name(root.Prefix, root.Local), c.element(root, []string{root.Local}))
	for i := 0; i < o.StripLevels; i++ {
		if len(top.keys) != 1 || top.vals[0].kind != 'o' {
			break
		}
		top = top.vals[0]
	}
	w := &limitedBuf{limit: limit}
	w.str(o.OutputPrefix)
	writeJSON(w, top)
	w.str(o.OutputSuffix)
	if w.over {
		return nil, ErrTooLarge
	}
	if o.Indent {
		var b bytes.Buffer
		body := w.b[len(o.OutputPrefix) : len(w.b)-len(o.OutputSuffix)]
		if err := json.Indent(&b, body, "", "  "); err != nil {
			return nil, err
		}
		if limit > 0 && int64(b.Len()+len(o.OutputPrefix)+len(o.OutputSuffix)) > limit {
			return nil, ErrTooLarge
		}
		return []byte(o.OutputPrefix + b.String() + o.OutputSuffix), nil
	}
	return w.b, nil
}

// xmlError words a parse error as Apigee does for a truncated or empty
// document ("Premature end of document while parsing at line N(possibly
// around char M)", from its runtime-error page); other errors keep
// xmltree's text.
func xmlError(in []byte, err error) error {
	msg := err.Error()
	if len(bytes.TrimSpace(in)) == 0 {
		return errors.New("Premature end of document while parsing at line 1(possibly  around char 0)")
	}
	if strings.Contains(msg, "unexpected EOF") || strings.Contains(msg, "unexpected end of document") {
		return fmt.Errorf("Premature end of document while parsing at line %d(possibly  around char 0)", bytes.Count(in, []byte("\n"))+1)
	}
	return err
}

type x2j struct{ o *XMLOptions }

func (c *x2j) name(prefix, local string) string {
	if prefix != "" && c.o.NamespaceSeparator != "" {
		return prefix + c.o.NamespaceSeparator + local
	}
	return local
}

func (c *x2j) scalar(text string) *jv {
	o := c.o
	switch {
	case o.RecognizeNull && (text == "" || o.NullValue != "" && text == o.NullValue):
		return &jv{kind: 'z'}
	case o.RecognizeBoolean && (text == "true" || text == "false"):
		return &jv{kind: 'b', s: text}
	case o.RecognizeNumber && isJSONNumber(text):
		return &jv{kind: 'n', s: text}
	}
	return &jv{kind: 's', s: text}
}

func isJSONNumber(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	if _, err := strconv.ParseFloat(s, 64); err != nil {
		return false
	}
	return json.Valid([]byte(s))
}

// arrayRule reports whether the element at path must be an array, and
// whether the array replaces its parent's value (unwrap).
func (c *x2j) arrayRule(path []string) (array, unwrap bool) {
	for _, p := range c.o.TreatAsArray {
		if len(p.Names) != len(path) {
			continue
		}
		match := true
		for i := range path {
			if p.Names[i] != path[i] {
				match = false
				break
			}
		}
		if match {
			return true, p.Unwrap
		}
	}
	return false, false
}

func (c *x2j) element(e *xmltree.Node, path []string) *jv {
	o := c.o
	var texts []string
	var kids []*xmltree.Node
	for _, ch := range e.Children {
		switch ch.Type {
		case xmltree.Text:
			if t := strings.TrimSpace(ch.Data); t != "" {
				texts = append(texts, t)
			}
		case xmltree.Element:
			kids = append(kids, ch)
		}
	}
	hasNS := o.NamespaceBlockName != "" && len(e.NS) > 0
	if len(kids) == 0 && len(e.Attrs) == 0 && !hasNS && len(texts) <= 1 {
		text := strings.Join(texts, "")
		if text == "" && !o.RecognizeNull {
			return &jv{kind: 'o'} // an empty element is {} (Apigee's RecognizeNull example)
		}
		v := c.scalar(text)
		if o.TextAlwaysAsProperty && o.TextNodeName != "" && text != "" {
			obj := &jv{kind: 'o'}
			obj.set(o.TextNodeName, v)
			return obj
		}
		return v
	}
	obj := &jv{kind: 'o'}
	if hasNS {
		block := &jv{kind: 'o'}
		for _, ns := range e.NS {
			k := ns.Prefix
			if k == "" {
				k = o.DefaultNamespaceNodeName
				if k == "" {
					k = "$"
				}
			}
			block.set(k, &jv{kind: 's', s: ns.URI})
		}
		obj.set(o.NamespaceBlockName, block)
	}
	if len(e.Attrs) > 0 {
		target := obj
		if o.AttributeBlockName != "" {
			target = &jv{kind: 'o'}
		}
		for _, a := range e.Attrs {
			target.set(o.AttributePrefix+c.name(a.Prefix, a.Local), c.scalar(a.Value))
		}
		if o.AttributeBlockName != "" {
			obj.set(o.AttributeBlockName, target)
		}
	}
	if o.TextNodeName != "" && len(texts) > 0 {
		if len(texts) == 1 {
			obj.set(o.TextNodeName, c.scalar(texts[0]))
		} else {
			arr := &jv{kind: 'a'}
			for _, t := range texts {
				arr.vals = append(arr.vals, c.scalar(t))
			}
			obj.set(o.TextNodeName, arr)
		}
	}
	// Children grouped by name, in order of first appearance.
	type group struct {
		name  string
		local string
		vals  []*jv
	}
	var groups []*group
	index := map[string]*group{}
	for _, k := range kids {
		n := c.name(k.Prefix, k.Local)
		g := index[n]
		if g == nil {
			g = &group{name: n, local: k.Local}
			index[n] = g
			groups = append(groups, g)
		}
		g.vals = append(g.vals, c.element(k, append(path[:len(path):len(path)], k.Local)))
	}
	for _, g := range groups {
		array, unwrap := c.arrayRule(append(path[:len(path):len(path)], g.local))
		if len(g.vals) == 1 && !array {
			obj.set(g.name, g.vals[0])
			continue
		}
		arr := &jv{kind: 'a', vals: g.vals}
		if unwrap {
			return arr
		}
		obj.set(g.name, arr)
	}
	return obj
}

func writeJSON(w *limitedBuf, v *jv) {
	if w.over {
		return
	}
	switch v.kind {
	case 's':
		w.str(jsonString(v.s))
	case 'n', 'b':
		w.str(v.s)
	case 'z':
		w.str("null")
	case 'o':
		w.byte('{')
		for i, k := range v.keys {
			if i > 0 {
				w.byte(',')
			}
			w.str(jsonString(k))
			w.byte(':')
			writeJSON(w, v.vals[i])
		}
		w.byte('}')
	case 'a':
		w.byte('[')
		for i, x := range v.vals {
			if i > 0 {
				w.byte(',')
			}
			writeJSON(w, x)
		}
		w.byte(']')
	}
}

// jsonString quotes s as a JSON string without HTML escaping.
func jsonString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[c>>4])
			b.WriteByte("0123456789abcdef"[c&15])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
