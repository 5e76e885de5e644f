// Package jsonpath evaluates JSONPath expressions in the Jayway flavour
// Apigee uses (message template jsonPath(), ExtractVariables'
// JSONPayload).
//
// Supported: $, .name, ['name'] / ["name"] (several, comma-separated),
// .* and [*], [n] (negative from the end) and [n,m,...], [start:end] slices,
// and deep scan ..name / ..*. Filters [?(...)] and script expressions [(...)]
// are refused by Parse. Object members keep their document order.
package jsonpath

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
)

// Path is a compiled JSONPath; it is immutable and safe for concurrent use.
type Path struct {
	steps    []jpStep
	definite bool
}

// Parse compiles a JSONPath expression.
func Parse(p string) (*Path, error) { return parseJSONPath(p) }

// Definite reports whether the path selects at most one value (only single
// names and indexes).
func (jp *Path) Definite() bool { return jp.definite }

// Eval returns the values the path selects in doc, a valid JSON text
// (check with json.Valid first), in document order.
func (jp *Path) Eval(doc []byte) []json.RawMessage { return jp.eval(doc) }

// Render renders the result as Apigee's templates do: a definite path
// renders its value (strings unquoted, null or no match as ""), an
// indefinite one (or wantArray) a compact JSON array of all matches.
func (jp *Path) Render(doc []byte, wantArray bool) string {
	res := jp.eval(doc)
	if jp.definite && !wantArray {
		if len(res) == 0 {
			return ""
		}
		return Scalar(res[0])
	}
	var b bytes.Buffer
	b.WriteByte('[')
	for k, r := range res {
		if k > 0 {
			b.WriteByte(',')
		}
		_ = json.Compact(&b, r) // r comes from a valid document
	}
	b.WriteByte(']')
	return b.String()
}

// Scalar renders one JSON value as a string: strings unquoted, null as
// "", anything else as compact JSON.
func Scalar(r json.RawMessage) string {
	r = bytes.TrimSpace(r)
	switch {
	case len(r) == 0 || string(r) == "null":
		return ""
	case r[0] == '"':
		var s string
		_ = json.Unmarshal(r, &s) // valid JSON string
		return s
	}
	var b bytes.Buffer
	_ = json.Compact(&b, r)
	return b.String()
}

type jpStep struct {
	kind  byte // 'n' names, 'N' deep names, '*' wildcard, 'D' deep wildcard, 'i' indexes, 's' slice
	names []string
	idx   []int
	lo    *int
	hi    *int
}

func parseJSONPath(p string) (*Path, error) {
	bad := func(msg string) error { return errors.New("JSONPath " + strconv.Quote(p) + ": " + msg) }
	p = strings.TrimSpace(p)
	if !strings.HasPrefix(p, "$") {
		return nil, bad("must start with $")
	}
	jp := &Path{definite: true}
	i := 1
	for i < len(p) {
		switch {
		case strings.HasPrefix(p[i:], ".."):
			i += 2
			if i < len(p) && p[i] == '*' {
				jp.steps = append(jp.steps, jpStep{kind: 'D'})
				i++
			} else {
				name, n := jpName(p[i:])
				if n == 0 {
					return nil, bad("expected a name or * after ..")
				}
				jp.steps = append(jp.steps, jpStep{kind: 'N', names: []string{name}})
				i += n
			}
			jp.definite = false
		case p[i] == '.':
			i++
			if i < len(p) && p[i] == '*' {
				jp.steps = append(jp.steps, jpStep{kind: '*'})
				jp.definite = false
				i++
				continue
			}
			if i < len(p) && p[i] == '[' {
				continue // $.[*] as in apigeelint's example '$.quota.[*].appname'
			}
			name, n := jpName(p[i:])
			if n == 0 {
				return nil, bad("expected a name after .")
			}
			jp.steps = append(jp.steps, jpStep{kind: 'n', names: []string{name}})
			i += n
		case p[i] == '[':
			end, err := jpBracketEnd(p, i)
			if err != nil {
				return nil, bad(err.Error())
			}
			st, err := jpBracket(strings.TrimSpace(p[i+1 : end]))
			if err != nil {
				return nil, bad(err.Error())
			}
			if st.kind != 'n' && st.kind != 'i' || len(st.names) > 1 || len(st.idx) > 1 {
				jp.definite = false
			}
			jp.steps = append(jp.steps, st)
			i = end + 1
		default:
			return nil, bad("unexpected " + strconv.Quote(p[i:i+1]))
		}
	}
	return jp, nil
}

func jpName(s string) (string, int) {
	n := 0
	for n < len(s) && s[n] != '.' && s[n] != '[' {
		n++
	}
	return s[:n], n
}

func jpBracketEnd(p string, open int) (int, error) {
	var quote byte
	for k := open + 1; k < len(p); k++ {
		c := p[k]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == ']':
			return k, nil
		}
	}
	return 0, errors.New("unclosed [")
}

func jpBracket(s string) (jpStep, error) {
	switch {
	case s == "*":
		return jpStep{kind: '*'}, nil
	case strings.HasPrefix(s, "?"):
		return jpStep{}, errors.New("filter expressions [?(…)] are not supported")
	case strings.HasPrefix(s, "("):
		return jpStep{}, errors.New("script expressions [(…)] are not supported")
	case s == "":
		return jpStep{}, errors.New("empty []")
	case s[0] == '\'' || s[0] == '"':
		st := jpStep{kind: 'n'}
		for _, part := range splitTop(s) {
			part = strings.TrimSpace(part)
			if len(part) < 2 || part[0] != part[len(part)-1] || part[0] != '\'' && part[0] != '"' {
				return jpStep{}, errors.New("bad member name " + part)
			}
			st.names = append(st.names, part[1:len(part)-1])
		}
		return st, nil
	case strings.Contains(s, ":"):
		parts := strings.Split(s, ":")
		if len(parts) > 2 {
			return jpStep{}, errors.New("slice steps are not supported")
		}
		st := jpStep{kind: 's'}
		for k, part := range parts {
			if part = strings.TrimSpace(part); part == "" {
				continue
			}
			n, err := strconv.Atoi(part)
			if err != nil {
				return jpStep{}, errors.New("bad slice bound " + part)
			}
			if k == 0 {
				st.lo = &n
			} else {
				st.hi = &n
			}
		}
		return st, nil
	}
	st := jpStep{kind: 'i'}
	for _, part := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil {
			return jpStep{}, errors.New("bad index " + part)
		}
		st.idx = append(st.idx, n)
	}
	return st, nil
}

// splitTop splits s at commas outside quotes.
func splitTop(s string) []string {
	var out []string
	var quote byte
	start := 0
	for k := 0; k < len(s); k++ {
		switch c := s[k]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == ',':
			out = append(out, s[start:k])
			start = k + 1
		}
	}
	return append(out, s[start:])
}

// members returns an object's members in document order, or an array's
// elements (names nil); ok is false for scalars.
func members(raw []byte) (names []string, vals []json.RawMessage, ok bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' && raw[0] != '[' {
		return nil, nil, false
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	tok, err := d.Token()
	if err != nil {
		return nil, nil, false
	}
	isObj := tok == json.Delim('{')
	for d.More() {
		if isObj {
			k, err := d.Token()
			if err != nil {
				return nil, nil, false
			}
			names = append(names, k.(string))
		}
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return nil, nil, false
		}
		vals = append(vals, v)
	}
	if isObj && names == nil {
		names = []string{}
	}
	return names, vals, true
}

func (jp *Path) eval(doc []byte) []json.RawMessage {
	cur := []json.RawMessage{doc}
	for _, st := range jp.steps {
		var next []json.RawMessage
		for _, node := range cur {
			next = st.apply(node, next)
		}
		cur = next
	}
	return cur
}

func (st *jpStep) apply(node json.RawMessage, out []json.RawMessage) []json.RawMessage {
	names, vals, ok := members(node)
	switch st.kind {
	case 'N', 'D':
		if !ok {
			return out
		}
		for k, v := range vals {
			if names != nil && (st.kind == 'D' || names[k] == st.names[0]) || names == nil && st.kind == 'D' {
				out = append(out, v)
			}
		}
		for _, v := range vals {
			out = st.apply(v, out)
		}
		return out
	}
	if !ok {
		return out
	}
	switch st.kind {
	case '*':
		return append(out, vals...)
	case 'n':
		if names == nil {
			return out
		}
		for _, want := range st.names {
			for k, n := range names {
				if n == want {
					out = append(out, vals[k])
					break
				}
			}
		}
	case 'i':
		if names != nil {
			return out
		}
		for _, i := range st.idx {
			if i < 0 {
				i += len(vals)
			}
			if i >= 0 && i < len(vals) {
				out = append(out, vals[i])
			}
		}
	case 's':
		if names != nil {
			return out
		}
		lo, hi := 0, len(vals)
		if st.lo != nil {
			lo = clampIndex(*st.lo, len(vals))
		}
		if st.hi != nil {
			hi = clampIndex(*st.hi, len(vals))
		}
		if lo < hi {
			out = append(out, vals[lo:hi]...)
		}
	}
	return out
}

func clampIndex(i, n int) int {
	if i < 0 {
		i += n
	}
	return min(max(i, 0), n)
}
