package expr

import (
	"bytes"

	"github.com/flowproc/flowproc/flowengine/oxn"
)

// json-stringify(value [, pretty]) returns value as JSON text: a node-set's
// first node serialized by oxn.Write (OXN types respected, untyped nodes
// mapped as oxn.Write documents), a string as a JSON string, a number as a
// JSON number (NaN and infinities as null), a boolean as true/false. An
// empty node-set gives "null"; a node that cannot be written gives "".
// pretty (default false()) indents by four spaces.
func init() {
	Register(&Func{Name: "json-stringify", MinArgs: 1, MaxArgs: 2, Call: jsonStringify})
}

func jsonStringify(c *Context, args []Value) (Value, error) {
	s, ok := stringifyValue(args[0], argBool(args, 1, false))
	if !ok {
		return "", nil
	}
	return output(c, s)
}

// stringifyValue serializes a value as JSON; ok is false when a node
// cannot be written.
func stringifyValue(v Value, pretty bool) (string, bool) {
	var b bytes.Buffer
	switch x := v.(type) {
	case NodeSet:
		if len(x) == 0 {
			return "null", true
		}
		var err error
		if pretty {
			err = oxn.WriteIndent(&b, x[0], "    ")
		} else {
			err = oxn.Write(&b, x[0])
		}
		if err != nil {
			return "", false
		}
		return b.String(), true
	case string:
		oxn.WriteString(&b, x)
		return b.String(), true
	case float64:
		return oxn.FormatNumber(x), true
	case bool:
		if x {
			return "true", true
		}
		return "false", true
	}
	return "null", true
}
