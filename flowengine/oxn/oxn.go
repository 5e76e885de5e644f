// Package oxn maps JSON to FLAT's Object XML Notation (OXN) and back.
//
// OXN represents a JSON value as a dom tree (FLAT docs: JSON as XML (OXN)):
//
//   - the root value is an element named "json";
//   - an object member is an element named after its key; a key that is not
//     an XML NCName (see IsXMLName) becomes <json-element name="key">;
//   - an array item is an element named "value";
//   - every value element carries exactly one empty type attribute: object,
//     array, string, number, boolean or null;
//   - strings and numbers are the element's text (numbers keep their JSON
//     spelling), booleans the text "true"/"false", null has no children.
//
// Parse returns a Document whose only child is the json element. Write
// serializes any node back to JSON, using the type attributes where present
// and a fixed mapping for untyped nodes (plain XML, tokens, $request parts).
package oxn

import (
	"errors"

	"github.com/flowproc/flowproc/flowengine/dom"
)

// DefaultMaxDepth is the nesting limit Parse uses when given maxDepth <= 0.
const DefaultMaxDepth = 512

// ErrTooDeep is returned (wrapped) when a JSON text nests arrays and objects
// deeper than the parser's limit.
var ErrTooDeep = errors.New("oxn: JSON nesting too deep")

// ErrSyntax is returned (wrapped) when the input is not valid JSON.
var ErrSyntax = errors.New("oxn: invalid JSON")

// Type is the JSON type of an OXN node.
type Type uint8

// OXN types. Untyped is a node without a type attribute (or not an element).
const (
	Untyped Type = iota
	Object
	Array
	String
	Number
	Boolean
	Null
)

// String returns the type attribute name ("object", …) or "untyped".
func (t Type) String() string {
	if int(t) < len(typeNames) && t != Untyped {
		return typeNames[t]
	}
	return "untyped"
}

// typeNames are the type attribute names, indexed by Type.
var typeNames = [...]string{"", "object", "array", "string", "number", "boolean", "null"}

// Names used by OXN.
const (
	// RootName is the name of the root element of a parsed JSON document.
	RootName = "json"
	// ValueName is the name of array items.
	ValueName = "value"
	// KeyElementName is the name used for members whose key is not an XML
	// name; the key is in its "name" attribute.
	KeyElementName = "json-element"
	// KeyAttr is the attribute holding a json-element's key.
	KeyAttr = "name"
)

// TypeOf returns the OXN type of n: the first type attribute of an element,
// Untyped for elements without one, for documents and for text nodes.
func TypeOf(n *dom.Node) Type {
	if n == nil || n.Type != dom.ElementNode {
		return Untyped
	}
	for i := range n.Attrs {
		if t := typeOfAttr(n.Attrs[i].Name); t != Untyped {
			return t
		}
	}
	return Untyped
}

func typeOfAttr(name string) Type {
	switch name {
	case "object":
		return Object
	case "array":
		return Array
	case "string":
		return String
	case "number":
		return Number
	case "boolean":
		return Boolean
	case "null":
		return Null
	}
	return Untyped
}

// Key returns the member key n stands for: the name attribute of a
// json-element, otherwise the element's name.
func Key(n *dom.Node) string {
	if n.Type == dom.ElementNode && n.Name == KeyElementName {
		if k, ok := n.Attr(KeyAttr); ok {
			return k
		}
	}
	return n.Name
}

// IsXMLName reports whether s can be used as an OXN element name: an XML
// 1.0 (5th edition) Name without colons (an NCName), so that XPath can
// address it by name.
func IsXMLName(s string) bool {
	if s == "" {
		return false
	}
	if c := s[0]; c >= 0x80 {
		return isXMLNameSlow(s)
	} else if asciiName[c] != nameStartByte {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return isXMLNameSlow(s)
		}
		if asciiName[c] == 0 {
			return false
		}
	}
	return true
}

// asciiName classifies the ASCII bytes of XML names (a table: every member
// key of every JSON document parsed or built goes through IsXMLName).
const (
	nameStartByte = 1 // a letter or '_': may start a name
	nameCharByte  = 2 // a digit, '-' or '.': may follow the start
)

var asciiName = func() (t [128]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = nameStartByte, nameStartByte
	}
	t['_'] = nameStartByte
	for c := '0'; c <= '9'; c++ {
		t[c] = nameCharByte
	}
	t['-'], t['.'] = nameCharByte, nameCharByte
	return t
}()

func isXMLNameSlow(s string) bool {
	first := true
	for _, r := range s {
		if r == 0xFFFD {
			return false // invalid UTF-8 or a replacement character
		}
		if first {
			if !isNameStart(r) {
				return false
			}
			first = false
			continue
		}
		if !isNameStart(r) && !isNameChar(r) {
			return false
		}
	}
	return true
}

// isNameStart is XML 1.0 5th edition NameStartChar without ':'.
func isNameStart(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_':
		return true
	case r >= 0xC0 && r <= 0xD6, r >= 0xD8 && r <= 0xF6, r >= 0xF8 && r <= 0x2FF,
		r >= 0x370 && r <= 0x37D, r >= 0x37F && r <= 0x1FFF, r >= 0x200C && r <= 0x200D,
		r >= 0x2070 && r <= 0x218F, r >= 0x2C00 && r <= 0x2FEF, r >= 0x3001 && r <= 0xD7FF,
		r >= 0xF900 && r <= 0xFDCF, r >= 0xFDF0 && r <= 0xFFFD, r >= 0x10000 && r <= 0xEFFFF:
		return true
	}
	return false
}

// isNameChar is the part of XML NameChar that is not a NameStartChar.
func isNameChar(r rune) bool {
	switch {
	case r == '-', r == '.', r >= '0' && r <= '9', r == 0xB7,
		r >= 0x300 && r <= 0x36F, r >= 0x203F && r <= 0x2040:
		return true
	}
	return false
}
