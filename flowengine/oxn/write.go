package oxn

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/flowproc/flowproc/flowengine/dom"
)

// ErrNotJSON is returned (wrapped) by Write when a node cannot be written as
// JSON (a number node whose text is not a number, an empty document).
var ErrNotJSON = errors.New("oxn: node is not representable as JSON")

// Write serializes n as compact JSON, typed by its type attribute:
//
//   - object: each element child is a member (key per Key, so json-element
//     names are restored); array: each element child is an item; text
//     children of objects and arrays are ignored;
//   - string: the string-value; number: the text (trimmed), which must be a
//     number (JSON spelling is kept; other spellings strconv accepts are
//     reformatted); boolean: true when the trimmed text is "true" or "1";
//     null: null.
//
// Untyped nodes: an element with element children is an object (child
// names as keys; children that share a name are collected into an array at
// the position of the first one); an element without element children is
// the string of its text; a text node (also an attribute value as returned
// by the expression layer) is a string; a document is its first element.
//
// Strings are escaped as encoding/json does, without HTML escaping; invalid
// UTF-8 becomes U+FFFD. On error nothing useful is in b beyond its previous
// length (the caller may truncate).
func Write(b *bytes.Buffer, n *dom.Node) error {
	if n == nil {
		return fmt.Errorf("oxn: write nil node: %w", ErrNotJSON)
	}
	return write(b, n)
}

// WriteIndent is Write with pretty printing: members and items on their own
// lines, indented by indent per level.
func WriteIndent(b *bytes.Buffer, n *dom.Node, indent string) error {
	var tmp bytes.Buffer
	if err := Write(&tmp, n); err != nil {
		return err
	}
	if err := json.Indent(b, tmp.Bytes(), "", indent); err != nil {
		return fmt.Errorf("oxn: indent: %w", err)
	}
	return nil
}

// Marshal returns n as compact JSON.
func Marshal(n *dom.Node) (string, error) {
	var b bytes.Buffer
	if err := Write(&b, n); err != nil {
		return "", err
	}
	return b.String(), nil
}

func write(b *bytes.Buffer, n *dom.Node) error {
	switch n.Type {
	case dom.DocumentNode:
		e := n.FirstElement()
		if e == nil {
			return fmt.Errorf("oxn: document without an element: %w", ErrNotJSON)
		}
		return write(b, e)
	case dom.TextNode:
		WriteString(b, n.Data)
		return nil
	}
	switch TypeOf(n) {
	case Object:
		b.WriteByte('{')
		first := true
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != dom.ElementNode {
				continue
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			WriteString(b, Key(c))
			b.WriteByte(':')
			if err := write(b, c); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case Array:
		b.WriteByte('[')
		first := true
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != dom.ElementNode {
				continue
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			if err := write(b, c); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case String:
		WriteString(b, n.StringValue())
	case Number:
		return writeNumber(b, n)
	case Boolean:
		switch strings.TrimSpace(n.StringValue()) {
		case "true", "1":
			b.WriteString("true")
		default:
			b.WriteString("false")
		}
	case Null:
		b.WriteString("null")
	default:
		return writeUntyped(b, n)
	}
	return nil
}

func writeNumber(b *bytes.Buffer, n *dom.Node) error {
	t := strings.TrimSpace(n.StringValue())
	if IsJSONNumber(t) {
		b.WriteString(t)
		return nil
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("oxn: number element %q holds %q: %w", n.Name, t, ErrNotJSON)
	}
	b.WriteString(FormatNumber(f))
	return nil
}

func writeUntyped(b *bytes.Buffer, n *dom.Node) error {
	if !n.HasElementChildren() {
		WriteString(b, n.StringValue())
		return nil
	}
	// Group children by key, keeping the order of first appearance.
	var repeated map[string]int
	seen := make(map[string]int, 8)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != dom.ElementNode {
			continue
		}
		k := Key(c)
		seen[k]++
		if seen[k] == 2 {
			if repeated == nil {
				repeated = make(map[string]int)
			}
			repeated[k] = 0
		}
	}
	b.WriteByte('{')
	first := true
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != dom.ElementNode {
			continue
		}
		k := Key(c)
		if _, rep := repeated[k]; rep {
			if repeated[k] > 0 {
				continue // written with the first one
			}
			repeated[k] = 1
			if !first {
				b.WriteByte(',')
			}
			first = false
			WriteString(b, k)
			b.WriteString(":[")
			firstItem := true
			for d := c; d != nil; d = d.NextSibling {
				if d.Type != dom.ElementNode || Key(d) != k {
					continue
				}
				if !firstItem {
					b.WriteByte(',')
				}
				firstItem = false
				if err := write(b, d); err != nil {
					return err
				}
			}
			b.WriteByte(']')
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		WriteString(b, k)
		b.WriteByte(':')
		if err := write(b, c); err != nil {
			return err
		}
	}
	b.WriteByte('}')
	return nil
}

// IsJSONNumber reports whether s is a number in JSON syntax.
func IsJSONNumber(s string) bool {
	end, why := scanNumber(s, 0)
	return why == "" && end == len(s)
}

// FormatNumber formats a finite f as a JSON number: integers below 1e21
// without a fraction or exponent, other values in the shortest form that
// round-trips. -0 is "0". NaN and infinities, which JSON cannot represent,
// give "null".
func FormatNumber(f float64) string {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return "null"
	case f == 0:
		return "0"
	case f == math.Trunc(f) && math.Abs(f) < 1e21:
		if math.Abs(f) < 1<<53 {
			return strconv.FormatInt(int64(f), 10)
		}
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

const hexDigits = "0123456789abcdef"

// WriteString writes s as a JSON string literal.
func WriteString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b.WriteString(s[start:i])
			switch c {
			case '"', '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			case '\b':
				b.WriteString(`\b`)
			case '\f':
				b.WriteString(`\f`)
			default:
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString(s[start:i])
			b.WriteString(`\ufffd`)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b.WriteString(s[start:i])
			b.WriteString(`\u202`)
			b.WriteByte(hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}
