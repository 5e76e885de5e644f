package apidef

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v4"
)

// maxJSONNodes bounds the size of a node tree encoded as JSON, so alias
// expansion ("billion laughs") cannot blow up.
const maxJSONNodes = 1 << 20

var errTooLarge = errors.New("document too large after alias expansion")

// deref follows aliases (bounded, in case of alias cycles).
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// isNull reports whether n is absent or a YAML null.
func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// isString reports whether n is a string scalar.
func isString(n *yaml.Node) bool {
	n = deref(n)
	return n != nil && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str"
}

// kindName describes a node for messages.
func kindName(n *yaml.Node) string {
	n = deref(n)
	switch {
	case n == nil:
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "an object"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Kind == yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!str":
			return "a string"
		case "!!bool":
			return "a boolean"
		case "!!int", "!!float":
			return "a number"
		}
		return "a scalar"
	}
	return "an unexpected node"
}

// pair is one key/value of a mapping.
type pair struct{ k, v *yaml.Node }

// pairs returns the entries of mapping n (nil when n is not a mapping).
// Merge keys ("<<") are kept as ordinary entries.
func pairs(n *yaml.Node) []pair {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	out := make([]pair, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, pair{deref(n.Content[i]), n.Content[i+1]})
	}
	return out
}

// keyText returns a mapping key's text ("" for non-scalar keys).
func keyText(k *yaml.Node) string {
	if k == nil || k.Kind != yaml.ScalarNode {
		return ""
	}
	return k.Value
}

// toJSON encodes n as compact JSON: mappings keep their key order, scalars
// follow their YAML tag (numbers stay numbers when JSON can hold them).
func toJSON(n *yaml.Node) ([]byte, error) {
	var b bytes.Buffer
	budget := maxJSONNodes
	if err := writeJSON(&b, n, &budget, 0); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeJSON(b *bytes.Buffer, n *yaml.Node, budget *int, depth int) error {
	*budget--
	if *budget < 0 || depth > 1000 {
		return errTooLarge
	}
	n = deref(n)
	if n == nil {
		b.WriteString("null")
		return nil
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			b.WriteString("null")
			return nil
		}
		return writeJSON(b, n.Content[0], budget, depth+1)
	case yaml.MappingNode:
		b.WriteByte('{')
		first := true
		seen := map[string]bool{}
		var err error
		var writeMap func(m *yaml.Node, level int)
		writeMap = func(m *yaml.Node, level int) {
			if level > 100 {
				err = errTooLarge // merge-key cycle
				return
			}
			for _, p := range pairs(m) {
				if err != nil {
					return
				}
				k := keyText(p.k)
				if k == "<<" && p.k.ShortTag() == "!!merge" {
					continue // merged below, after the explicit keys
				}
				if seen[k] {
					continue
				}
				seen[k] = true
				if !first {
					b.WriteByte(',')
				}
				first = false
				writeString(b, k)
				b.WriteByte(':')
				err = writeJSON(b, p.v, budget, depth+1)
			}
			// YAML merge keys: entries not set explicitly.
			for _, p := range pairs(m) {
				if err != nil {
					return
				}
				if keyText(p.k) != "<<" || p.k.ShortTag() != "!!merge" {
					continue
				}
				v := deref(p.v)
				if v == nil {
					continue
				}
				if v.Kind == yaml.SequenceNode {
					for _, c := range v.Content {
						writeMap(c, level+1)
					}
				} else {
					writeMap(v, level+1)
				}
			}
		}
		writeMap(n, 0)
		if err != nil {
			return err
		}
		b.WriteByte('}')
		return nil
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, c, budget, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		return nil
	case yaml.ScalarNode:
		writeScalar(b, n)
		return nil
	}
	b.WriteString("null")
	return nil
}

func writeScalar(b *bytes.Buffer, n *yaml.Node) {
	switch n.ShortTag() {
	case "!!null":
		b.WriteString("null")
		return
	case "!!bool":
		switch strings.ToLower(n.Value) {
		case "true":
			b.WriteString("true")
			return
		case "false":
			b.WriteString("false")
			return
		}
	case "!!int":
		s := strings.ReplaceAll(n.Value, "_", "")
		if v, err := strconv.ParseInt(s, 0, 64); err == nil {
			b.WriteString(strconv.FormatInt(v, 10))
			return
		}
		if v, err := strconv.ParseUint(s, 0, 64); err == nil {
			b.WriteString(strconv.FormatUint(v, 10))
			return
		}
		if v, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(v, 0) && !math.IsNaN(v) {
			b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
			return
		}
	case "!!float":
		if v, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64); err == nil && !math.IsInf(v, 0) && !math.IsNaN(v) {
			b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
			return
		}
	}
	writeString(b, n.Value)
}

func writeString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)       // never fails for a string
	b.Truncate(b.Len() - 1) // Encode appends a newline
}
