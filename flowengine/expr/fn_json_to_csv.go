package expr

import (
	"strings"

	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// json-to-csv(array) writes an OXN array as CSV (RFC 4180): one record
// per entry, each record ended by CRLF. An entry is an array or a flat
// object (its member values in order; no header line); its values must be
// strings, numbers, booleans (true/false) or null (an empty field). A
// field is quoted when it holds a comma, a double quote, CR or LF, with
// double quotes doubled; spaces are kept as they are. Anything else (no
// array, a nested value, an untyped node) gives "".
func init() {
	Register(&Func{Name: "json-to-csv", MinArgs: 1, MaxArgs: 1, Call: jsonToCSV})
}

func jsonToCSV(c *Context, args []Value) (Value, error) {
	n := firstNode(args[0])
	if n != nil && n.Type == dom.DocumentNode {
		n = n.FirstElement()
	}
	if oxn.TypeOf(n) != oxn.Array {
		return "", nil
	}
	var b strings.Builder
	i := 0
	for row := n.FirstChild; row != nil; row = row.NextSibling {
		if row.Type != dom.ElementNode {
			continue
		}
		if err := loopCheck(c, i); err != nil {
			return nil, err
		}
		i++
		if t := oxn.TypeOf(row); t != oxn.Array && t != oxn.Object {
			return "", nil
		}
		first := true
		for f := row.FirstChild; f != nil; f = f.NextSibling {
			if f.Type != dom.ElementNode {
				continue
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			switch oxn.TypeOf(f) {
			case oxn.String, oxn.Number, oxn.Boolean:
				writeCSVField(&b, f.StringValue())
			case oxn.Null:
			default:
				return "", nil
			}
		}
		b.WriteString("\r\n")
	}
	return output(c, b.String())
}

func writeCSVField(b *strings.Builder, s string) {
	if !strings.ContainsAny(s, ",\"\r\n") {
		b.WriteString(s)
		return
	}
	b.WriteByte('"')
	b.WriteString(strings.ReplaceAll(s, `"`, `""`))
	b.WriteByte('"')
}
