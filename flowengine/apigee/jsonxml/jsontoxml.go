package jsonxml

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// JSONOptions are JSONToXML's <Options>.
type JSONOptions struct {
	// NullValue is the text written for JSON null ("" gives an empty
	// element).
	NullValue string
	// NamespaceBlockName names a member whose object declares namespaces
	// (prefix → URI; DefaultNamespaceNodeName, "$" when unset, is the
	// default namespace).
	NamespaceBlockName       string
	DefaultNamespaceNodeName string
	// NamespaceSeparator splits member names into prefix and local name
	// ("ns1***b" → <ns1:b> with separator "***").
	NamespaceSeparator string
	// TextNodeName names a member whose value is the element's text.
	TextNodeName string
	// AttributeBlockName names a member whose members are attributes.
	AttributeBlockName string
	// AttributePrefix marks members that are attributes ("@id").
	AttributePrefix string
	// InvalidCharsReplacement replaces characters not allowed in XML
	// names (default "_"); a name that cannot start an XML name gets it
	// prepended [inferred].
	InvalidCharsReplacement string
	// ObjectRootElementName wraps a top-level object that does not have
	// exactly one member (default "Root").
	ObjectRootElementName string
	// ArrayRootElementName wraps a top-level array (default "Array"),
	// ArrayItemElementName names items of arrays that are not object
	// members (default "Item").
	ArrayRootElementName string
	ArrayItemElementName string
	// OmitXMLDeclaration leaves out the <?xml …?> declaration.
	OmitXMLDeclaration bool
	// Indent puts each element on its own line, indented by two spaces
	// per level [inferred: Apigee does not document the indentation].
	Indent bool
}

// WithDefaults returns o with Apigee's default names filled in.
func (o JSONOptions) WithDefaults() JSONOptions {
	if o.InvalidCharsReplacement == "" {
		o.InvalidCharsReplacement = "_"
	}
	if o.ObjectRootElementName == "" {
		o.ObjectRootElementName = "Root"
	}
	if o.ArrayRootElementName == "" {
		o.ArrayRootElementName = "Array"
	}
	if o.ArrayItemElementName == "" {
		o.ArrayItemElementName = "Item"
	}
	if o.DefaultNamespaceNodeName == "" {
		o.DefaultNamespaceNodeName = "$"
	}
	return o
}

// JSONToXML converts JSON text to an XML document of at most limit bytes
// (0: no limit). o should come from WithDefaults.
func JSONToXML(jsonText []byte, o *JSONOptions, limit int64) ([]byte, error) {
	v, err := parseJSON(jsonText)
	if err != nil {
		return nil, err
	}
	c := &j2x{o: o, w: &limitedBuf{limit: limit}}
	if !o.OmitXMLDeclaration {
		c.w.str(`<?xml version="1.0" encoding="UTF-8"?>`)
	}
	switch {
	case v.kind == 'o' && len(v.keys) == 1 && !c.special(v.keys[0]) && v.vals[0].kind != 'a':
		c.element(v.keys[0], v.vals[0])
	case v.kind == 'a':
		c.open(o.ArrayRootElementName, nil)
		for _, x := range v.vals {
			c.element(o.ArrayItemElementName, x)
		}
		c.close(o.ArrayRootElementName)
	default:
		c.element(o.ObjectRootElementName, v)
	}
	if c.w.over {
		return nil, ErrTooLarge
	}
	return c.w.b, nil
}

// parseJSON reads one JSON object or array keeping member order. Like
// Apigee, it wants an object or an array at the top ("Expecting { or [ at
// line 1", the reason Apigee's runtime-error page quotes).
func parseJSON(b []byte) (*jv, error) {
	if t := bytes.TrimSpace(b); len(t) == 0 || t[0] != '{' && t[0] != '[' {
		return nil, errors.New("Expecting { or [ at line 1")
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	v, err := readValue(d, 0)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

func readValue(d *json.Decoder, depth int) (*jv, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("JSON nests deeper than %d", MaxDepth)
	}
	tok, err := d.Token()
	if err != nil {
		if err == io.EOF {
			return nil, errors.New("empty JSON input")
		}
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			v := &jv{kind: 'o'}
			for d.More() {
				kt, err := d.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				x, err := readValue(d, depth+1)
				if err != nil {
					return nil, err
				}
				v.keys = append(v.keys, k)
				v.vals = append(v.vals, x)
			}
			_, err := d.Token()
			return v, err
		case '[':
			v := &jv{kind: 'a'}
			for d.More() {
				x, err := readValue(d, depth+1)
				if err != nil {
					return nil, err
				}
				v.vals = append(v.vals, x)
			}
			_, err := d.Token()
			return v, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case string:
		return &jv{kind: 's', s: t}, nil
	case json.Number:
		return &jv{kind: 'n', s: t.String()}, nil
	case bool:
		if t {
			return &jv{kind: 'b', s: "true"}, nil
		}
		return &jv{kind: 'b', s: "false"}, nil
	case nil:
		return &jv{kind: 'z'}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

type j2x struct {
	o     *JSONOptions
	w     *limitedBuf
	stack []bool // per open element: whether it has child elements
}

// nl starts a line for an element when indenting, and marks the parent
// as having child elements.
func (c *j2x) nl() {
	if n := len(c.stack); n > 0 {
		c.stack[n-1] = true
	}
	if c.o.Indent && len(c.w.b) > 0 {
		c.w.byte('\n')
		c.w.str(strings.Repeat("  ", len(c.stack)))
	}
}

type xattr struct{ name, value string }

// special reports member names that are not child elements.
func (c *j2x) special(k string) bool {
	o := c.o
	return o.TextNodeName != "" && k == o.TextNodeName ||
		o.AttributeBlockName != "" && k == o.AttributeBlockName ||
		o.NamespaceBlockName != "" && k == o.NamespaceBlockName ||
		o.AttributePrefix != "" && strings.HasPrefix(k, o.AttributePrefix)
}

// xmlName maps a member name to an XML element or attribute name.
func (c *j2x) xmlName(k string) string {
	if sep := c.o.NamespaceSeparator; sep != "" {
		if p, l, ok := strings.Cut(k, sep); ok && p != "" && l != "" {
			return c.ncName(p) + ":" + c.ncName(l)
		}
	}
	return c.ncName(k)
}

func (c *j2x) ncName(k string) string {
	rep := c.o.InvalidCharsReplacement
	if k == "" {
		return rep
	}
	var b strings.Builder
	for i, r := range k {
		if r == utf8.RuneError || !nameChar(r, i == 0) {
			if i == 0 && nameChar(r, false) {
				b.WriteString(rep)
				b.WriteRune(r)
				continue
			}
			b.WriteString(rep)
			continue
		}
		b.WriteRune(r)
	}
	s := b.String()
	if s == "" || !nameChar([]rune(s)[0], true) {
		s = "_" + s
	}
	return s
}

func nameChar(r rune, first bool) bool {
	switch {
	case r == '_' || unicode.IsLetter(r):
		return true
	case first:
		return false
	case r == '-' || r == '.' || unicode.IsDigit(r) || r == 0xB7 || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r):
		return true
	}
	return false
}

func (c *j2x) open(name string, attrs []xattr) {
	c.nl()
	c.stack = append(c.stack, false)
	c.w.byte('<')
	c.w.str(name)
	for _, a := range attrs {
		c.w.byte(' ')
		c.w.str(a.name)
		c.w.str(`="`)
		c.w.str(attrEscaper.Replace(a.value))
		c.w.byte('"')
	}
	c.w.byte('>')
}

func (c *j2x) close(name string) {
	n := len(c.stack) - 1
	kids := c.stack[n]
	c.stack = c.stack[:n]
	if kids && c.o.Indent {
		c.w.byte('\n')
		c.w.str(strings.Repeat("  ", n))
	}
	c.w.str("</" + name + ">")
}

var (
	textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\r", "&#xD;")
	attrEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "\n", "&#xA;", "\r", "&#xD;", "\t", "&#x9;")
)

func (c *j2x) text(v *jv) string {
	switch v.kind {
	case 'z':
		return c.o.NullValue
	case 's', 'n', 'b':
		return v.s
	}
	return ""
}

// element writes <name> for value v; arrays repeat the element.
func (c *j2x) element(key string, v *jv) {
	if c.w.over {
		return
	}
	name := c.xmlName(key)
	switch v.kind {
	case 'a':
		for _, x := range v.vals {
			if x.kind == 'a' {
				c.open(name, nil)
				for _, y := range x.vals {
					c.element(c.o.ArrayItemElementName, y)
				}
				c.close(name)
				continue
			}
			c.element(key, x)
		}
		return
	case 'o':
		var attrs []xattr
		o := c.o
		consumed := make([]bool, len(v.keys))
		for i, k := range v.keys {
			x := v.vals[i]
			consumed[i] = true
			switch {
			case o.NamespaceBlockName != "" && k == o.NamespaceBlockName && x.kind == 'o':
				for j, p := range x.keys {
					if p == o.DefaultNamespaceNodeName {
						attrs = append(attrs, xattr{"xmlns", c.text(x.vals[j])})
					} else {
						attrs = append(attrs, xattr{"xmlns:" + c.ncName(p), c.text(x.vals[j])})
					}
				}
			case o.AttributeBlockName != "" && k == o.AttributeBlockName && x.kind == 'o':
				for j, a := range x.keys {
					attrs = append(attrs, xattr{c.xmlName(a), c.text(x.vals[j])})
				}
			case o.AttributePrefix != "" && strings.HasPrefix(k, o.AttributePrefix) && len(k) > len(o.AttributePrefix) && x.kind != 'o' && x.kind != 'a':
				attrs = append(attrs, xattr{c.xmlName(k[len(o.AttributePrefix):]), c.text(x)})
			default:
				consumed[i] = false
			}
		}
		c.open(name, attrs)
		for i, k := range v.keys {
			x := v.vals[i]
			switch {
			case o.TextNodeName != "" && k == o.TextNodeName:
				if x.kind == 'a' {
					for _, t := range x.vals {
						c.w.str(textEscaper.Replace(c.text(t)))
					}
				} else {
					c.w.str(textEscaper.Replace(c.text(x)))
				}
			case consumed[i]:
				// an attribute or namespace declaration, written above
			default:
				c.element(k, x)
			}
		}
		c.close(name)
	default:
		t := c.text(v)
		if t == "" {
			c.nl()
			c.w.str("<" + name + "/>")
			return
		}
		c.open(name, nil)
		c.w.str(textEscaper.Replace(t))
		c.close(name)
	}
}
